"""The enterprise portal: the services an enterprise may apply for, and the start form of each."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, redirect, render_template, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.people.access import is_applicant

from ..security import actor, runtime
from .auth import login_required, page_actor

bp = Blueprint("portal", __name__)


@bp.route("/")
def home() -> Response:
    """Applicants land on their services, everyone else on the inbox."""
    who = page_actor()
    if who is None:
        return redirect(url_for("auth_pages.login_page"))
    return redirect(url_for("portal.services" if is_applicant(who) else "inbox_pages.inbox"))


@bp.route("/services")
@login_required
def services() -> Any:
    return render_template("portal/services.html", services=runtime().startable(actor()), title=_("办事服务"))


@bp.route("/services/<string:key>")
@login_required
def start(key: str) -> Any:
    service = next((s for s in runtime().startable(actor()) if s["key"] == key), None)
    if service is None:
        abort(404)
    return render_template("portal/start.html", service=service, title=service["name"]["zh"])
