"""Administrators' pages: users, organisations, the role catalogue and the working-day table of a new year.

Only the HTTP side lives here (forms, flashed messages, redirects, templates): each use-case, with its
permission check and its one transaction, is a function of engine.people.administration.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.base.errors import TongbanError
from engine.base.workdays import YearTable, library_years
from engine.definitions.catalogue import RoleCatalogue
from engine.people import administration
from engine.people.access import may_administer
from engine.people.accounts import ORG_KINDS

from ..security import actor, runtime
from .auth import login_required

bp = Blueprint("admin_pages", __name__, url_prefix="/admin")
MAX_TABLE = 64 * 1024  # a year's table is a few hundred bytes; anything large is not one


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not may_administer(actor()):
            abort(403)
        return view(*args, **kwargs)

    return wrapper


def catalogue() -> RoleCatalogue:
    return RoleCatalogue.from_folder(runtime().settings.processes_dir)


def _done(endpoint: str, message: str, error: TongbanError | None = None) -> Response:
    if error is None:
        flash(message, "ok")
    else:
        detail = "; ".join(f"{k}: {', '.join(v)}" for k, v in error.fields.items())
        flash(f"{error.message} {detail}".strip(), "error")
    return redirect(url_for(endpoint))


@bp.route("/users", methods=["GET", "POST"])
@admin_only
def users() -> Any:
    if request.method == "POST":
        form = request.form
        try:
            password = administration.create_user(
                runtime().db, actor(), catalogue(), form["username"].strip(), form["org"], form.getlist("roles"),
                form.get("display_name") or None, email=form.get("email"))
        except TongbanError as exc:
            return _done("admin_pages.users", "", exc)
        return _done("admin_pages.users", _("用户 %(name)s 已创建，初始口令（只显示这一次）：%(pw)s",
                                            name=form["username"], pw=password))
    known = administration.directory(runtime().db, actor())
    return render_template("admin/users.html", users=known.users, orgs=known.orgs,
                           roles=administration.role_list(actor(), catalogue()), title=_("用户"))


@bp.route("/users/<string:username>/disable", methods=["POST"])
@admin_only
def disable(username: str) -> Response:
    administration.disable(runtime().db, actor(), username)
    return _done("admin_pages.users", _("用户 %(name)s 已停用", name=username))


@bp.route("/users/<string:username>/email", methods=["POST"])
@admin_only
def change_email(username: str) -> Response:
    """Where copies of the user's notices are mailed; an empty address stops them."""
    try:
        stored = administration.change_email(runtime().db, actor(), username, request.form.get("email"))
    except TongbanError as exc:
        return _done("admin_pages.users", "", exc)
    return _done("admin_pages.users", _("用户 %(name)s 的通知邮箱已设为 %(email)s", name=username, email=stored)
                 if stored else _("用户 %(name)s 的通知邮箱已清除", name=username))


@bp.route("/users/<string:username>/password", methods=["POST"])
@admin_only
def reset_password(username: str) -> Response:
    password = administration.reset_password(runtime().db, actor(), username)
    return _done("admin_pages.users", _("用户 %(name)s 的新口令（只显示这一次）：%(pw)s", name=username, pw=password))


@bp.route("/orgs", methods=["GET", "POST"])
@admin_only
def orgs() -> Any:
    if request.method == "POST":
        form = request.form
        try:
            administration.ensure_organisation(runtime().db, actor(), form["code"].strip(), form["name"].strip(),
                                               form["kind"], form.get("credit_code") or None)
        except TongbanError as exc:
            return _done("admin_pages.orgs", "", exc)
        return _done("admin_pages.orgs", _("组织 %(code)s 已就绪", code=form["code"]))
    return render_template("admin/orgs.html", orgs=administration.organisations(runtime().db, actor()),
                           kinds=ORG_KINDS, title=_("组织"))


@bp.route("/roles")
@admin_only
def roles() -> Any:
    return render_template("admin/roles.html", roles=administration.role_list(actor(), catalogue()), title=_("角色"))


@bp.route("/calendar", methods=["GET", "POST"])
@admin_only
def calendar() -> Any:
    if request.method == "POST":
        upload = request.files.get("table")
        text = upload.read(MAX_TABLE + 1).decode("utf-8", errors="replace") if upload else ""
        try:
            if not text or len(text) > MAX_TABLE:
                raise TongbanError(_("请选择不超过 64 KiB 的 YAML 或 CSV 文件"))
            if upload.filename.lower().endswith(".csv"):
                table = YearTable.from_csv(text, int(request.form.get("year") or 0))
            else:
                table = YearTable.from_yaml(text)
            administration.load_calendar_year(runtime().db, actor(), table)
        except TongbanError as exc:
            return _done("admin_pages.calendar", "", exc)
        return _done("admin_pages.calendar", _("%(year)s 年工作日安排已载入", year=table.year))
    loaded = administration.calendar_years(runtime().db, actor())
    years = library_years()
    return render_template("admin/calendar.html", loaded=loaded, first=years.start, last=years.stop - 1,
                           title=_("工作日历"))
