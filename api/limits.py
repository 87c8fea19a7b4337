"""Rate limits (Flask-Limiter): log-in per IP and per (account, IP), the public pages and APIs per IP.

Why per (account, IP) and no account lock: a lock on the account itself (what tongban had) lets anyone keep
a named person out of their account with one wrong try per window, and answers differently for accounts that
exist (they lock) than for those that do not (they never do). Counting failures per (submitted username,
client IP) instead stops a guesser at 5 tries per 15 minutes on one account from one address, and the same
for every username whether or not it exists, while the owner, from their own address, always gets in; once
the window has passed, the right password works from the guesser's address too. A guesser who spreads over
many accounts meets the per-IP failure limit; a flood of any attempts, the per-IP limit. A guesser with many
addresses against one account is left to the password policy (engine/people/passwords.py) and argon2:
locking the account would hand that same guesser the lock-out of its owner.

A limit breached answers 429 with `Retry-After`: JSON on the API, the log-in page with the message on pages.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from flask import Flask, Response, render_template, request
from flask_babel import gettext as _
from flask_limiter import Limiter, RateLimitExceeded
from limits import parse_many
from werkzeug.middleware.proxy_fix import ProxyFix

from engine.base.settings import RateLimits, Settings, SettingsInvalid

from . import errors
from .security import answering_with_error_page, client_ip

LOGIN = ("auth.create_token", "auth_pages.login_page")
PUBLIC = ("public.verify", "public.fund_quarters", "public.fund_disclosure", "public_pages.verify_form",
          "public_pages.verify", "public_pages.quarters", "public_pages.report")


def _account_and_ip() -> str:
    """The username a log-in names (hashed: any text a caller sends becomes a short key), with the IP."""
    body = request.get_json(silent=True) if request.is_json else None
    name = body.get("username") if isinstance(body, dict) else request.form.get("username")
    digest = hashlib.sha256(str(name or "").encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{client_ip()}|{digest}"


def _failed(response: Response) -> bool:
    return response.status_code == 401


def _checked(settings: RateLimits) -> RateLimits:
    for name in ("login_per_ip", "login_failures_per_ip", "login_failures_per_user", "public_per_ip"):
        try:
            parse_many(getattr(settings, name))
        except ValueError:
            variable = f"TONGBAN_RATELIMIT_{name.upper()}"
            raise SettingsInvalid(f"环境变量 {variable} 须形如 \"5 per 15 minutes\" ({variable} must read like "
                                  f"\"5 per 15 minutes\"; got {getattr(settings, name)!r})") from None
    return settings


def install(app: Flask, settings: Settings) -> Limiter:
    """One limiter per app (its counters in the configured storage), wrapped around the views it limits."""
    if settings.trusted_proxies < 0:
        raise SettingsInvalid("环境变量 TONGBAN_TRUSTED_PROXIES 不能为负 (TONGBAN_TRUSTED_PROXIES must be ≥ 0)")
    if settings.trusted_proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    limits = _checked(settings.rate_limits)
    # a counter store that is down must not stop every log-in: each process counts in memory until it is back
    limiter = Limiter(client_ip, app=app, storage_uri=limits.storage, strategy="moving-window",
                      key_prefix="tongban", in_memory_fallback_enabled=True)
    # Every limit here decorates its view (below), and the decorator checks it; the check Flask-Limiter also runs
    # before every request is for default and application-wide limits, which tongban does not set: it found
    # nothing to do, in ~5 % of each API call's time.
    app.before_request_funcs[None].remove(limiter._check_request_limit)
    posts = {"methods": ["POST"]}
    login = [limiter.shared_limit(limits.login_per_ip, scope="login-ip", **posts),
             limiter.shared_limit(limits.login_failures_per_ip, scope="login-ip-failures", deduct_when=_failed,
                                  **posts),
             limiter.shared_limit(limits.login_failures_per_user, scope="login-account-ip",
                                  key_func=_account_and_ip, deduct_when=_failed, **posts)]
    public = [limiter.shared_limit(limits.public_per_ip, scope="public")]
    for endpoints, decorators in ((LOGIN, login), (PUBLIC, public)):
        for endpoint in endpoints:
            view = app.view_functions[endpoint]
            for decorate in decorators:
                view = decorate(view)
            app.view_functions[endpoint] = view

    @app.errorhandler(RateLimitExceeded)
    def _too_many(_exc: RateLimitExceeded) -> Any:
        return too_many(limiter)

    return limiter


def too_many(limiter: Limiter) -> Response:
    """429 with the seconds to wait, in `Retry-After` and in the message; the log-in page shows it in place."""
    current = limiter.current_limit
    wait = max(1, int((current.reset_at if current else time.time() + 60) - time.time()))
    message = f"尝试次数过多，请 {wait} 秒后再试 (too many attempts; retry in {wait} s)"
    if request.endpoint == "auth_pages.login_page":
        answering_with_error_page()
        page = Response(render_template("login.html", error=_("尝试次数过多，请 %(wait)s 秒后再试", wait=wait),
                                        title=_("登录")), status=429)
    else:
        page = errors.body(429, message, code="too_many_attempts")
    page.headers["Retry-After"] = str(wait)
    return page
