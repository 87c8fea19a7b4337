"""The web pages over HTTP (no browser): log-in, sessions, CSRF, security headers, scoping, escaping."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD, csrf_of, log_in

START = {"title": "页面办理", "amount": 50_000}


def test_pages_need_a_session_and_land_by_role(client: FlaskClient) -> None:
    reply = client.get("/inbox")
    assert reply.status_code == 302 and reply.headers["Location"].startswith("/login?next=")
    log_in(client, "haiyun")
    assert client.get("/").headers["Location"] == "/services"
    page = client.get("/services").get_data(as_text=True)
    assert "示例审批" in page and "在线申请" in page


def test_login_form_without_csrf_token_is_refused(client: FlaskClient) -> None:
    reply = client.post("/login", data={"username": "haiyun", "password": PASSWORD})
    assert reply.status_code == 400
    assert client.get("/services").status_code == 302  # not logged in


def test_wrong_password_shows_the_reason_and_no_session(client: FlaskClient) -> None:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    reply = client.post("/login", data={"username": "haiyun", "password": "nope", "csrf_token": token})
    assert reply.status_code == 401 and "用户名或口令错误" in reply.get_data(as_text=True)


def test_open_redirect_after_login_is_refused(client: FlaskClient) -> None:
    token = csrf_of(client.get("/login").get_data(as_text=True))
    reply = client.post("/login?next=//evil.example/x",
                        data={"username": "haiyun", "password": PASSWORD, "csrf_token": token})
    assert reply.headers["Location"] == "/"  # home, which sends each user to their own start page


def test_session_calls_to_the_api_need_the_csrf_header(client: FlaskClient) -> None:
    csrf = log_in(client, "haiyun")
    assert client.get("/api/v1/processes").status_code == 200  # reads need no token
    forged = client.post("/api/v1/processes/sample_approval/instances", json={"data": START})
    assert forged.status_code == 403 and forged.json["error"] == "forbidden"
    real = client.post("/api/v1/processes/sample_approval/instances", json={"data": START},
                       headers={"X-CSRFToken": csrf})
    assert real.status_code == 201


def test_logout_revokes_the_session_token(client: FlaskClient) -> None:
    csrf = log_in(client, "haiyun")
    with client.session_transaction() as session:
        token = session["token"]
    client.post("/logout", data={"csrf_token": csrf})
    reply = client.get("/api/v1/processes", headers={"Authorization": f"Bearer {token}"})
    assert reply.status_code == 401


def test_security_headers_on_every_page(client: FlaskClient) -> None:
    reply = client.get("/login")
    csp = reply.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-eval" not in csp and "frame-ancestors 'none'" in csp
    assert reply.headers["X-Content-Type-Options"] == "nosniff"
    cookie = next(h for h in reply.headers.getlist("Set-Cookie") if h.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_another_enterprises_case_page_is_a_404_page(client: FlaskClient, runtime: Runtime) -> None:
    other = runtime.start("sample_approval", START, runtime.actor("fushan"))
    log_in(client, "haiyun")
    reply = client.get(f"/cases/{other.id}", headers={"Accept": "text/html"})
    assert reply.status_code == 404 and "<html" in reply.get_data(as_text=True)
    assert other.case_number not in reply.get_data(as_text=True)
    assert client.get(f"/api/v1/instances/{other.id}/diagram").status_code == 404


def test_user_text_is_escaped_on_case_and_task_pages(client: FlaskClient, runtime: Runtime) -> None:
    view = runtime.start("sample_approval", {"title": "<script>alert(1)</script>", "amount": 5},
                         runtime.actor("haiyun"))
    log_in(client, "haiyun")
    task_page = client.get(f"/tasks/{view.open_tasks[0].id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in task_page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in task_page or "\\u003cscript\\u003e" in task_page


def test_english_is_available(client: FlaskClient) -> None:
    page = client.get("/login?lang=en").get_data(as_text=True)
    assert "Log in" in page and 'lang="en"' in page
    assert "Log in" in client.get("/login").get_data(as_text=True)  # the choice is remembered
    assert "登录" in client.get("/login?lang=zh").get_data(as_text=True)


def test_case_page_shows_diagram_state_and_history(client: FlaskClient, runtime: Runtime) -> None:
    view = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    log_in(client, "haiyun")
    page = client.get(f"/cases/{view.id}").get_data(as_text=True)
    assert view.case_number in page and '"active": ["submit"]' in page
    diagram = client.get(f"/api/v1/instances/{view.id}/diagram")
    assert diagram.status_code == 200 and diagram.mimetype == "application/xml"
    assert b'id="submit"' in diagram.data
