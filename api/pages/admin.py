"""Administrators' pages: users, organisations, the role catalogue and the working-day table of a new year."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.wrappers import Response

from engine.base import workdays
from engine.base.errors import TongbanError
from engine.base.workdays import YearTable, library_years, load_year
from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import (
    ORG_KINDS,
    add_user,
    disable_user,
    ensure_org,
    list_orgs,
    list_users,
    set_email,
    set_password,
)
from engine.people.auth import revoke_all
from engine.store.models import CalendarYear

from ..security import actor, runtime
from .auth import login_required

bp = Blueprint("admin_pages", __name__, url_prefix="/admin")
MAX_TABLE = 64 * 1024  # a year's table is a few hundred bytes; anything large is not one


def admin_only(view: Callable[..., Any]) -> Callable[..., Any]:
    @wraps(view)
    @login_required
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not actor().is_admin:
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
        password = secrets.token_urlsafe(12)
        try:
            with runtime().db.write() as session:
                add_user(session, catalogue(), form["username"].strip(), form["org"], form.getlist("roles"),
                         form.get("display_name") or None, password, form.get("email"))
        except TongbanError as exc:
            return _done("admin_pages.users", "", exc)
        return _done("admin_pages.users", _("用户 %(name)s 已创建，初始口令（只显示这一次）：%(pw)s",
                                            name=form["username"], pw=password))
    with runtime().db.read() as session:
        people, orgs = list_users(session), list_orgs(session)
    return render_template("admin/users.html", users=people, orgs=orgs, roles=catalogue().roles.values(),
                           title=_("用户"))


@bp.route("/users/<string:username>/disable", methods=["POST"])
@admin_only
def disable(username: str) -> Response:
    with runtime().db.write() as session:
        user_id = disable_user(session, username)
    revoke_all(runtime().db, user_id)
    return _done("admin_pages.users", _("用户 %(name)s 已停用", name=username))


@bp.route("/users/<string:username>/email", methods=["POST"])
@admin_only
def change_email(username: str) -> Response:
    """Where copies of the user's notices are mailed; an empty address stops them."""
    try:
        with runtime().db.write() as session:
            stored = set_email(session, username, request.form.get("email"))
    except TongbanError as exc:
        return _done("admin_pages.users", "", exc)
    return _done("admin_pages.users", _("用户 %(name)s 的通知邮箱已设为 %(email)s", name=username, email=stored)
                 if stored else _("用户 %(name)s 的通知邮箱已清除", name=username))


@bp.route("/users/<string:username>/password", methods=["POST"])
@admin_only
def reset_password(username: str) -> Response:
    password = secrets.token_urlsafe(12)
    with runtime().db.write() as session:
        user_id = set_password(session, username, password)
    revoke_all(runtime().db, user_id)
    return _done("admin_pages.users", _("用户 %(name)s 的新口令（只显示这一次）：%(pw)s", name=username, pw=password))


@bp.route("/orgs", methods=["GET", "POST"])
@admin_only
def orgs() -> Any:
    if request.method == "POST":
        form = request.form
        try:
            with runtime().db.write() as session:
                ensure_org(session, form["code"].strip(), form["name"].strip(), form["kind"],
                           form.get("credit_code") or None)
        except TongbanError as exc:
            return _done("admin_pages.orgs", "", exc)
        return _done("admin_pages.orgs", _("组织 %(code)s 已就绪", code=form["code"]))
    with runtime().db.read() as session:
        rows = list_orgs(session)
    return render_template("admin/orgs.html", orgs=rows, kinds=ORG_KINDS, title=_("组织"))


@bp.route("/roles")
@admin_only
def roles() -> Any:
    return render_template("admin/roles.html", roles=catalogue().roles.values(), title=_("角色"))


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
            with runtime().db.write() as session:
                load_year(session, table, actor().username)
            workdays.refresh()
        except TongbanError as exc:
            return _done("admin_pages.calendar", "", exc)
        return _done("admin_pages.calendar", _("%(year)s 年工作日安排已载入", year=table.year))
    with runtime().db.read() as session:
        loaded = list(session.scalars(select(CalendarYear).order_by(CalendarYear.year)))
    years = library_years()
    return render_template("admin/calendar.html", loaded=loaded, first=years.start, last=years.stop - 1,
                           title=_("工作日历"))
