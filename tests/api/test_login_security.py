"""Log-in as an attacker would try it: `next` to another site, guessing, locking a colleague out, probing for
usernames; the answers 429 and 405 give; the file name a polyglot upload is saved under."""

from __future__ import annotations

import dataclasses
import io
import re
import time
from urllib.parse import quote

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient

from api import create_app
from engine.base.settings import RateLimits, SettingsInvalid
from engine.people import accounts, audit
from engine.people.auth import login
from engine.runtime.runtime import SYSTEM, Runtime
from tests.support.http import PASSWORD, bearer, csrf_of
from tests.support.uploads import PDF

ATTACKER, OWNER = {"REMOTE_ADDR": "203.0.113.9"}, {"REMOTE_ADDR": "198.51.100.7"}

HOSTILE_NEXT = [
    "//evil.example/x", "///evil.example/x", "/\\evil.example/x", "\\\\evil.example/x", "/\t/evil.example/x",
    "/\n/evil.example/x", "/\r\n/evil.example", "/%09/evil.example/x", "/%0a/evil.example", "/%2F/evil.example",
    "/%2f%2fevil.example", "%2F%2Fevil.example", "/%5Cevil.example", "/%255C%255Cevil.example", "/%2509/evil.example",
    "https://evil.example/x", "http:/evil.example", "javascript:alert(1)", "JaVaScRiPt:alert(1)",
    " /evil.example", "/ /evil.example", "/\u3000/evil.example", "/\u200b/evil.example", "/\x00/evil.example",
    "data:text/html,<script>alert(1)</script>", "evil.example", "//evil.example@tongban", "/" + "a" * 5000,
]


def _login_form(client: FlaskClient, query: str, username: str = "haiyun", password: str = PASSWORD,
                environ: dict[str, str] | None = None) -> object:
    environ = environ or {}
    token = csrf_of(client.get("/login", environ_base=environ).get_data(as_text=True))
    return client.post(f"/login{query}", data={"username": username, "password": password, "csrf_token": token},
                       environ_base=environ)


@pytest.mark.parametrize("target", HOSTILE_NEXT)
def test_next_never_leaves_the_site(client: FlaskClient, target: str) -> None:
    reply = _login_form(client, "?next=" + quote(target, safe="%"))
    assert reply.status_code == 302 and reply.headers["Location"] == "/", target


@pytest.mark.parametrize("target", ["/tasks?scope=candidate", "/cases/12", "/tasks?q=%E5%AE%A1%E6%89%B9"])
def test_next_keeps_a_path_on_this_site(client: FlaskClient, target: str) -> None:
    reply = _login_form(client, "?next=" + quote(target, safe=""))
    assert reply.status_code == 302 and reply.headers["Location"] == target


def _limited(runtime: Runtime, **limits: str) -> FlaskClient:
    """The app with other limits (over the `client` fixture's users, whose password is PASSWORD)."""
    settings = dataclasses.replace(runtime.settings, rate_limits=dataclasses.replace(RateLimits(), **limits))
    return create_app(settings, runtime).test_client()


def _token(client: FlaskClient, username: str, password: str, environ: dict[str, str]) -> object:
    return client.post("/api/v1/auth/token", json={"username": username, "password": password},
                       environ_base=environ)


def test_a_guesser_cannot_lock_the_owner_out(client: FlaskClient) -> None:
    statuses = [_token(client, "window", "guess", ATTACKER).status_code for _ in range(6)]
    assert statuses == [401] * 5 + [429]
    blocked = _token(client, "window", PASSWORD, ATTACKER)
    assert blocked.status_code == 429 and blocked.json["error"] == "too_many_attempts"
    assert 0 < int(blocked.headers["Retry-After"]) <= 15 * 60 and "retry in" in blocked.json["message"]
    assert _token(client, "window", PASSWORD, OWNER).status_code == 201  # the owner, from their own address


def test_an_unknown_username_gets_the_same_answers_as_a_known_one(client: FlaskClient) -> None:
    def answers(username: str) -> list[tuple[int, str, str | None]]:
        replies = [_token(client, username, "guess", ATTACKER) for _ in range(6)]
        return [(r.status_code, re.sub(r"\d+", "N", r.json["message"]), r.json["error"]) for r in replies]

    assert answers("window") == answers("nobody-at-all")


def test_unknown_and_known_users_cost_one_argon2_verification_each(runtime: Runtime,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []

    class Counting(PasswordHasher):
        def verify(self, hash: str | bytes, password: str | bytes) -> bool:
            calls.append(str(hash)[:7])
            return super().verify(hash, password)

    monkeypatch.setattr(accounts, "HASHER", Counting())
    for username in ("window", "nobody-at-all"):
        with pytest.raises(Exception, match="wrong username or password"):
            login(runtime.db, username, "guess")
    assert len(calls) == 2 and all(c.startswith("$argon2") for c in calls)


def test_the_right_password_works_from_the_guessers_address_after_the_window(client: FlaskClient,
                                                                              runtime: Runtime) -> None:
    client = _limited(runtime, login_failures_per_user="3 per 2 seconds")
    assert [_token(client, "window", "guess", ATTACKER).status_code for _ in range(4)] == [401, 401, 401, 429]
    time.sleep(2.2)
    assert _token(client, "window", PASSWORD, ATTACKER).status_code == 201


def test_many_accounts_from_one_address_meet_the_per_ip_limit(client: FlaskClient, runtime: Runtime) -> None:
    client = _limited(runtime, login_failures_per_ip="4 per hour")
    statuses = [_token(client, f"user{n}", "guess", ATTACKER).status_code for n in range(5)]
    assert statuses == [401] * 4 + [429]
    assert _token(client, "window", PASSWORD, OWNER).status_code == 201


def test_the_login_page_says_when_to_try_again(client: FlaskClient) -> None:
    for _ in range(5):
        assert _login_form(client, "", "window", "guess", ATTACKER).status_code == 401
    page = _login_form(client, "", "window", PASSWORD, ATTACKER)
    text = page.get_data(as_text=True)
    assert page.status_code == 429 and "尝试次数过多" in text and int(page.headers["Retry-After"]) > 0
    assert 'name="username"' in text  # the form again, not an error page
    english = client.get("/login?lang=en", environ_base=ATTACKER)
    assert english.status_code == 200
    assert "Too many attempts" in _login_form(client, "", "window", PASSWORD, ATTACKER).get_data(as_text=True)


def test_public_verification_is_limited_per_address(runtime: Runtime) -> None:
    client = _limited(runtime, public_per_ip="3 per minute")
    assert [client.get("/api/v1/verify/ABCDEFGHJKMNPQRS", environ_base=ATTACKER).status_code
            for _ in range(4)] == [404, 404, 404, 429]
    page = client.get("/verify/ABCDEFGHJKMNPQRS", environ_base=ATTACKER, headers={"Accept": "text/html"})
    assert page.status_code == 429 and int(page.headers["Retry-After"]) > 0
    assert client.get("/disclosure/LYJJ", environ_base=ATTACKER).status_code == 429
    assert client.get("/api/v1/verify/ABCDEFGHJKMNPQRS", environ_base=OWNER).status_code == 404


def test_log_in_works_while_the_counter_store_is_down(client: FlaskClient, runtime: Runtime) -> None:
    client = _limited(runtime, storage="redis://127.0.0.1:1/0")  # nothing listens there
    assert _token(client, "window", PASSWORD, OWNER).status_code == 201
    assert [_token(client, "window", "guess", ATTACKER).status_code for _ in range(6)][-1] == 429  # counted in memory


def test_a_bad_limit_setting_is_refused_by_name(runtime: Runtime) -> None:
    with pytest.raises(SettingsInvalid, match="TONGBAN_RATELIMIT_PUBLIC_PER_IP"):
        _limited(runtime, public_per_ip="lots")


def test_405_names_the_allowed_methods(client: FlaskClient) -> None:
    reply = client.put("/api/v1/auth/token", json={})
    assert reply.status_code == 405 and reply.json["error"] == "method_not_allowed"
    assert {m.strip() for m in reply.headers["Allow"].split(",")} >= {"POST", "DELETE"}
    page = client.delete("/login")
    assert page.status_code == 405 and "POST" in page.headers["Allow"]


def test_a_polyglot_named_html_is_stored_and_downloaded_as_pdf(client: FlaskClient) -> None:
    headers = bearer(client, "haiyun")
    polyglot = PDF + b"<html><script>alert(document.cookie)</script></html>"
    reply = client.post("/api/v1/uploads", headers=headers, content_type="multipart/form-data",
                        data={"file": (io.BytesIO(polyglot), "consent.html", "text/html")})
    assert reply.status_code == 201 and reply.json["filename"] == "consent.pdf"
    assert reply.json["content_type"] == "application/pdf"


@pytest.mark.parametrize(("proxies", "seen"), [(0, "127.0.0.1"), (1, "192.0.2.44")])
def test_the_client_address_is_read_through_the_trusted_proxies_only(client: FlaskClient, runtime: Runtime,
                                                                     proxies: int, seen: str) -> None:
    app = create_app(dataclasses.replace(runtime.settings, trusted_proxies=proxies), runtime).test_client()
    app.post("/api/v1/auth/token", json={"username": "window", "password": "guess"},
             headers={"X-Forwarded-For": "192.0.2.44"})
    [entry], _ = audit.entries(runtime.db, SYSTEM, audit.AuditFilter(action="login_failed"))
    assert entry["ip"] == seen
