"""The REST API over HTTP semantics (Flask test client): log-in, start, inbox, complete, errors, scoping."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.support.http import PASSWORD
from tests.support.shipped import SUBMIT
from tests.support.uploads import PDF

START = {"title": "接口办理", "amount": 50_000}

Call = Callable[..., Any]


@pytest.fixture
def as_user(client: FlaskClient) -> Callable[[str], Call]:
    """`as_user("haiyun")(method, path, json=…)` → (status, body) with that user's bearer token."""
    tokens: dict[str, str] = {}

    def for_user(username: str) -> Call:
        if username not in tokens:
            reply = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD})
            assert reply.status_code == 201, reply.json
            tokens[username] = reply.json["token"]

        def call(method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
            reply = client.open(path, method=method, headers={"Authorization": f"Bearer {tokens[username]}"},
                                **kwargs)
            return reply.status_code, reply.json

        return call

    return for_user


def test_openapi_document_and_docs_are_served(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    assert spec["openapi"].startswith("3.") and "/api/v1/tasks/{task_id}/complete" in spec["paths"]
    page = client.get("/api/docs")
    assert page.status_code == 200 and b"swagger" in page.data.lower()
    assert client.get("/api/docs/assets/swagger-ui-bundle.js").status_code == 200


def test_life_cycle_over_http(as_user: Callable[[str], Call]) -> None:
    haiyun, window = as_user("haiyun"), as_user("window")
    status, processes = haiyun("GET", "/api/v1/processes")
    sample = {p["key"]: p for p in processes}["sample_approval"]
    assert status == 200 and sample["start_form"]["required"] == ["title", "amount"]
    assert window("GET", "/api/v1/processes") == (200, [])  # clerks do not start applications
    status, started = haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": START})
    assert status == 201 and set(started) >= {"id", "case_number", "status", "open_tasks"}
    task_id = started["open_tasks"][0]["id"]
    status, detail = haiyun("GET", f"/api/v1/tasks/{task_id}")
    assert status == 200 and detail["schema"]["title"] == "填写申请" and detail["data"]["title"] == "接口办理"
    status, after = haiyun("POST", f"/api/v1/tasks/{task_id}/complete", json={"data": SUBMIT})
    assert status == 200 and after["open_tasks"] == []
    status, page = window("GET", "/api/v1/tasks?scope=candidate")
    [approve] = page["items"]
    assert window("POST", f"/api/v1/tasks/{approve['id']}/claim")[0] == 200
    assert window("GET", "/api/v1/tasks?scope=assigned")[1]["items"][0]["id"] == approve["id"]
    status, done = window("POST", f"/api/v1/tasks/{approve['id']}/complete",
                               json={"data": {"decision": "approved", "comment": "同意"}})
    assert (status, done["status"]) == (200, "completed")
    status, case = haiyun("GET", f"/api/v1/instances/{started['id']}")
    assert status == 200 and "approve" in case["diagram"]["completed"] and case["events"][-1]["kind"] == "ended"


def test_validation_errors_list_every_field_path(as_user: Callable[[str], Call]) -> None:
    haiyun = as_user("haiyun")
    status, body = haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": {"amount": -5}})
    assert status == 422 and body["error"] == "validation_failed"
    assert set(body["fields"]) == {"/title", "/amount"}
    status, body = haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": "nope"})
    assert status == 422 and "/data" in body["fields"]
    status, body = haiyun("GET", "/api/v1/tasks?scope=everything&limit=0")
    assert status == 422 and set(body["fields"]) == {"/scope", "/limit"}


def test_errors_are_json_with_the_right_status(client: FlaskClient, as_user: Callable[[str], Call]) -> None:
    assert client.get("/api/v1/tasks").status_code == 401
    assert client.get("/api/v1/tasks").json["error"] == "unauthorized"
    assert client.get("/api/v1/tasks", headers={"Authorization": "Bearer forged"}).status_code == 401
    haiyun = as_user("haiyun")
    assert haiyun("GET", "/api/v1/tasks/00000000-0000-0000-0000-000000000000")[0] == 404
    assert haiyun("GET", "/api/v1/nowhere")[1]["error"] == "not_found"
    status, body = haiyun("POST", "/api/v1/processes/sample_approval/instances", data="{",
                          content_type="application/json")
    assert status in (400, 422) and body["error"] in ("bad_request", "validation_failed")
    status, body = haiyun("GET", "/api/v1/tasks?cursor=!!!")
    assert (status, body["error"], list(body["fields"])) == (400, "bad_request", ["cursor"])
    status, started = haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": START})
    task_id = started["open_tasks"][0]["id"]
    haiyun("POST", f"/api/v1/tasks/{task_id}/complete", json={"data": SUBMIT})
    status, body = haiyun("POST", f"/api/v1/tasks/{task_id}/complete", json={"data": SUBMIT})
    assert (status, body["error"]) == (409, "conflict")


def test_cross_organisation_reads_and_writes_are_not_found(as_user: Callable[[str], Call]) -> None:
    haiyun, fushan, zhujian = as_user("haiyun"), as_user("fushan"), as_user("zhujian")
    _, started = haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": START})
    case, task = started["id"], started["open_tasks"][0]["id"]
    haiyun("POST", f"/api/v1/instances/{case}/comments", json={"body": "材料已补齐"})
    for other in (fushan, zhujian):
        assert other("GET", f"/api/v1/instances/{case}")[0] == 404
        assert other("GET", f"/api/v1/instances/{case}/comments")[0] == 404
        assert other("POST", f"/api/v1/instances/{case}/comments", json={"body": "x"})[0] == 404
        assert other("GET", f"/api/v1/instances/{case}/documents/receipt.pdf")[0] == 404
        assert other("GET", f"/api/v1/tasks/{task}")[0] == 404
        for action in ("claim", "unclaim", "complete"):
            assert other("POST", f"/api/v1/tasks/{task}/{action}", json={"data": SUBMIT})[0] == 404
        assert other("POST", f"/api/v1/tasks/{task}/delegate", json={"user": "fushan"})[0] == 404
        assert other("POST", f"/api/v1/tasks/{task}/comments", json={"body": "x"})[0] == 404
        assert other("GET", "/api/v1/instances")[1]["items"] == []
        assert other("GET", "/api/v1/tasks")[1]["items"] == []
    assert [c["body"] for c in haiyun("GET", f"/api/v1/instances/{case}/comments")[1]] == ["材料已补齐"]


def test_admin_actions_need_the_admin_role(as_user: Callable[[str], Call]) -> None:
    haiyun, admin = as_user("haiyun"), as_user("admin")
    _, started = haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": START})
    assert haiyun("POST", f"/api/v1/instances/{started['id']}/suspend")[0] == 403
    assert admin("POST", f"/api/v1/instances/{started['id']}/suspend")[1]["status"] == "suspended"
    assert admin("POST", f"/api/v1/instances/{started['id']}/suspend")[0] == 409
    assert admin("POST", f"/api/v1/instances/{started['id']}/resume")[1]["status"] == "running"


def test_tokens_expire_on_revoke_and_failed_logins_are_throttled(client: FlaskClient) -> None:
    token = client.post("/api/v1/auth/token", json={"username": "window", "password": PASSWORD}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    assert client.delete("/api/v1/auth/token", headers=headers).status_code == 204
    assert client.get("/api/v1/tasks", headers=headers).status_code == 401
    statuses = [client.post("/api/v1/auth/token", json={"username": "window", "password": "wrong"}).status_code
                for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    locked = client.post("/api/v1/auth/token", json={"username": "window", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    unknown = client.post("/api/v1/auth/token", json={"username": "nobody", "password": "x"})
    assert unknown.status_code == 401 and unknown.json["message"] == client.post(
        "/api/v1/auth/token", json={"username": "fushan", "password": "wrong"}).json["message"]


def test_inbox_keyset_paging_visits_every_task_once(as_user: Callable[[str], Call]) -> None:
    haiyun = as_user("haiyun")
    for _ in range(7):
        haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": START})
    seen, cursor = [], None
    while True:
        status, page = haiyun("GET", "/api/v1/tasks?limit=3" + (f"&cursor={cursor}" if cursor else ""))
        assert status == 200
        seen += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7
    status, cases = haiyun("GET", "/api/v1/instances?limit=5&mine=true")
    assert status == 200 and len(cases["items"]) == 5 and cases["next_cursor"]


def test_attachments_upload_list_download_and_limits(as_user: Callable[[str], Call], client: FlaskClient) -> None:
    haiyun, fushan = as_user("haiyun"), as_user("fushan")
    _, started = haiyun("POST", "/api/v1/processes/sample_approval/instances", json={"data": START})
    case = started["id"]
    status, stored = haiyun("POST", f"/api/v1/instances/{case}/attachments",
                            data={"file": (io.BytesIO(PDF), "../../同意书.pdf", "application/pdf")},
                            content_type="multipart/form-data")
    assert status == 201 and stored["filename"] == "同意书.pdf" and stored["content_type"] == "application/pdf"
    [listed] = haiyun("GET", f"/api/v1/instances/{case}/attachments")[1]
    assert listed["sha256"] == stored["sha256"]
    status, _ = haiyun("POST", f"/api/v1/instances/{case}/attachments",
                       data={"file": (io.BytesIO(b"<html><script>alert(1)</script>"), "x.pdf", "application/pdf")},
                       content_type="multipart/form-data")
    assert status == 415
    status, body = haiyun("POST", f"/api/v1/instances/{case}/attachments", data={}, content_type="multipart/form-data")
    assert status == 422 and "/file" in body["fields"]
    too_big = io.BytesIO(PDF + b"0" * (21 * 1024 * 1024))
    status, body = haiyun("POST", f"/api/v1/instances/{case}/attachments", data={"file": (too_big, "big.pdf")},
                          content_type="multipart/form-data")
    assert status == 413 and body["error"] == "upload_too_large"
    # the other enterprise can neither list, fetch nor add
    assert fushan("GET", f"/api/v1/instances/{case}/attachments")[0] == 404
    assert fushan("GET", f"/api/v1/instances/{case}/attachments/{stored['id']}")[0] == 404
    assert fushan("POST", f"/api/v1/instances/{case}/attachments", data={"file": (io.BytesIO(PDF), "a.pdf")},
                  content_type="multipart/form-data")[0] == 404
    token = client.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD}).json["token"]
    download = client.get(f"/api/v1/instances/{case}/attachments/{stored['id']}",
                          headers={"Authorization": f"Bearer {token}"})
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert "attachment" in download.headers["Content-Disposition"]
