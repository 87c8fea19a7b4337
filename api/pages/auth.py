"""Log-in and log-out for the pages: the session cookie carries an ordinary (revocable) API token."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.base.errors import Unauthorized
from engine.people.access import Actor
from engine.people.auth import login, revoke

from ..redirects import safe_next
from ..security import actor, client_ip, runtime

bp = Blueprint("auth_pages", __name__)


def page_actor() -> Actor | None:
    """The logged-in user, or None when the session is absent, expired or revoked."""
    if not session.get("token"):
        return None
    try:
        return actor()
    except Unauthorized:
        session.pop("token", None)
        return None


def login_required(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if page_actor() is None:
            return redirect(url_for("auth_pages.login_page", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper


@bp.route("/login", methods=["GET", "POST"])
def login_page() -> Any:
    error = None
    if request.method == "POST":
        try:
            token, _expires = login(runtime().db, request.form.get("username", ""), request.form.get("password", ""),
                                    ip=client_ip(), via="page")
        except Unauthorized as exc:
            error = exc.message
        else:
            session.clear()  # a new session id for the new identity
            session["token"] = token
            return redirect(safe_next(request.args.get("next"), url_for("portal.home")))
    return render_template("login.html", error=error, title=_("登录"), oidc="tongban_oidc" in current_app.extensions,
                           next=request.args.get("next")), 401 if error else 200


@bp.route("/logout", methods=["POST"])
def logout() -> Response:
    provider = current_app.extensions.get("tongban_oidc")  # api/pages/oidc.py, when a platform is configured
    platform_logout = provider.end_session_url() if provider is not None else None
    token = session.pop("token", None)
    if token:
        revoke(runtime().db, token, client_ip())
    session.clear()
    return redirect(platform_logout or url_for("auth_pages.login_page"))
