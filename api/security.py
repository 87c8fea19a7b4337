"""Who is calling: a bearer token (scripts, other systems) or the pages' session cookie plus a CSRF header.

Every API view but log-in and the docs asks `actor()`.  A cookie is sent by the browser on its own, so a
state-changing request authenticated by it must also prove it came from our page (the CSRF token).
"""

from __future__ import annotations

from flask import current_app, g, request, session
from flask_wtf.csrf import CSRFError, validate_csrf
from wtforms import ValidationError

from engine.base.errors import Forbidden, Unauthorized
from engine.people.access import Actor
from engine.people.auth import authenticate
from engine.runtime.runtime import Runtime

SCHEMES = {"bearer": {"type": "http", "scheme": "bearer"}}
REQUIRED = [{"bearer": []}]
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def runtime() -> Runtime:
    return current_app.extensions["tongban"]


def client_ip() -> str:
    """The caller's address, for rate limits and the audit log: the connection's, or the client's as the trusted
    proxies reported it (TONGBAN_TRUSTED_PROXIES, applied by werkzeug's ProxyFix in api/limits.py)."""
    return request.remote_addr or "unknown"


def bearer_token() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("需要登录：请在 Authorization 头中提供 Bearer 令牌 (log in: send `Authorization: Bearer "
                           "<token>`)")
    return token.strip()


def session_token() -> str | None:
    """The pages' token, once the CSRF header of a state-changing request has been checked (not while an
    error page is drawn: see `answering_with_error_page`)."""
    token = session.get("token")
    if token and request.method not in SAFE_METHODS and not g.get("error_page"):
        try:
            validate_csrf(request.headers.get("X-CSRFToken") or request.form.get("csrf_token"))
        except (ValidationError, CSRFError) as exc:
            raise Forbidden(f"页面令牌无效，请刷新页面后重试 (CSRF check failed: {exc})") from None
    return token


def answering_with_error_page() -> None:
    """The request ends in an error page, which shows who is logged in: nothing changes state from here, so
    reading the session needs no CSRF token (asking for one raised again inside the error handler: a page
    POST without the token, or to a page that does not exist, answered 500)."""
    g.error_page = True


def actor() -> Actor:
    if "actor" not in g:
        token = session_token() if "Authorization" not in request.headers else None
        g.actor = authenticate(runtime().db, token or bearer_token())
    return g.actor
