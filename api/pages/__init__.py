"""The web pages people use (enterprise portal, inbox, case pages), served by the same Flask app as the API.

Pages render lists on the server with Jinja and leave forms and actions to small scripts that call the
REST API with the session cookie and a CSRF header, so every rule the API enforces holds for pages too.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from flask import Flask, Response, request, session
from flask_babel import Babel, get_locale
from flask_wtf.csrf import CSRFProtect

from engine.base.settings import Settings, SettingsInvalid
from engine.case.notifications import UNREAD_SHOWN, unread_count
from engine.people.access import Actor, is_applicant, may_administer, may_design, may_supervise

from ..security import runtime
from . import admin, auth, cases, designer, heatmap, inbox, oidc, portal, public, supervision
from .cookies import SessionCookies
from .labels import page_labels

LANGUAGES = ("zh", "en")
csrf = CSRFProtect()

#: Scripts only from our own origin (no inline script, no eval); bpmn-js and the form renderer set
#: style attributes, so inline *styles* are allowed.  Nothing may frame the pages.
#: Forms submit to our own origin only, and to the identity platform's when its end-session page follows the
#: logout (oidc.form_targets).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "font-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action {forms}; "
       "frame-ancestors 'none'")


#: A production key is typed by an operator: shorter than this it could be guessed, and sessions forged.
MIN_SECRET_KEY = 32
#: … and a random key of that length has far more distinct characters than this (a hex one up to 16).
MIN_DISTINCT = 10


def _strong(key: str) -> bool:
    """Long enough and not a padding of a few characters (32 spaces or `a`s are as guessable as none)."""
    return len(key) >= MIN_SECRET_KEY and len(set(key)) >= MIN_DISTINCT and not key.isspace()


def _secret_key(settings: Settings) -> str:
    """TONGBAN_SECRET_KEY, else one generated once and kept in the instance folder (embedded default only).

    In production the key is required: a generated one would differ per web host behind the load balancer (each
    logging the others' users out) and vanish with a rebuilt instance folder."""
    if settings.production and not _strong(settings.secret_key or ""):
        raise SettingsInvalid(
            f"TONGBAN_ENV=production 时须设置至少 {MIN_SECRET_KEY} 个字符的随机 TONGBAN_SECRET_KEY，所有 Web 进程相同 "
            f"(TONGBAN_ENV=production needs TONGBAN_SECRET_KEY, at least {MIN_SECRET_KEY} random characters "
            f"(at least {MIN_DISTINCT} different ones) and the same for every web process, e.g. from "
            f"`python3 -c 'import secrets; print(secrets.token_urlsafe(48))'`)")
    if settings.secret_key:
        return settings.secret_key
    path = Path(settings.instance_dir) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def menu_flags(user: Actor | None) -> dict[str, bool]:
    """What the menu offers the logged-in user, decided by engine.people.access (templates name no role)."""
    if user is None:
        return {"apply": False, "supervise": False, "design": False, "administer": False}
    return {"apply": is_applicant(user), "supervise": may_supervise(user), "design": may_design(user),
            "administer": may_administer(user)}


def locale() -> str:
    """Chinese unless the user chose English with ?lang=en (remembered in the session): zh-CN first."""
    chosen = request.args.get("lang")
    if chosen in LANGUAGES:
        session["lang"] = chosen
    return session.get("lang", "zh")


@lru_cache(maxsize=8)
def _csp(form_targets: tuple[str, ...]) -> str:
    return CSP.format(forms=" ".join(["'self'", *form_targets]))


def _security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", _csp(tuple(oidc.form_targets())))
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    return response


def install(app: Flask, settings: Settings) -> None:
    app.config.update(
        SECRET_KEY=_secret_key(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.production,
        WTF_CSRF_TIME_LIMIT=None,  # valid for the session; the session itself expires with its token
        BABEL_DEFAULT_LOCALE="zh",
        BABEL_TRANSLATION_DIRECTORIES=str(Path(__file__).resolve().parent.parent / "translations"),
    )
    app.session_interface = SessionCookies()
    csrf.init_app(app)
    Babel(app, locale_selector=locale)
    for blueprint in (auth.bp, portal.bp, inbox.bp, cases.bp, designer.bp, admin.bp, supervision.bp, heatmap.bp,
                      public.bp):
        app.register_blueprint(blueprint)
    oidc.install(app, settings)
    app.after_request(_security_headers)
    # globals, not context: the macros that name statuses and events are imported without the page's context
    app.jinja_env.globals.update(page_labels())

    @app.template_filter("local")
    def _local(value: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        """Times are stored in UTC; people read them in the district's time zone."""
        if value is None:
            return "—"
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        return moment.astimezone(settings.timezone).strftime(fmt)

    @app.context_processor
    def _page_context() -> dict[str, object]:
        user = auth.page_actor() if "token" in session else None
        unread = unread_count(runtime().db, user) if user else 0  # the header's badge, on every page
        return {"current_user": user, "can": menu_flags(user), "tz": settings.timezone, "lang": str(get_locale()),
                "unread": unread, "unread_shown": UNREAD_SHOWN}
