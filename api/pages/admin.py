"""Administrators' pages: users, organisations, the role catalogue and the working-day table of a new year.

Only the HTTP side lives here (forms, flashed messages, redirects, templates): each use-case, with its
permission check and its one transaction, is a function of engine.people.administration.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta, tzinfo
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.base.errors import Conflict, FormInvalid, TongbanError
from engine.base.workdays import YearTable, library_years
from engine.definitions.catalogue import Role, RoleCatalogue
from engine.definitions.organisations import ORGANISATIONS_FILE, load_organisations
from engine.people import administration, audit
from engine.people.access import may_administer
from engine.people.accounts import ORG_KINDS

from ..security import actor, client_ip, runtime
from .auth import login_required

bp = Blueprint("admin_pages", __name__, url_prefix="/admin")
MAX_TABLE = 64 * 1024  # a year's table is a few hundred bytes; anything large is not one
PAGE = 100  # audit entries per page


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
                form.get("display_name") or None, email=form.get("email"), ip=client_ip())
        except TongbanError as exc:
            return _done("admin_pages.users", "", exc)
        return _done("admin_pages.users", _("用户 %(name)s 已创建，初始口令（只显示这一次）：%(pw)s",
                                            name=form["username"], pw=password))
    args = request.args
    status = {"active": False, "disabled": True}.get(args.get("status", ""))
    known = administration.directory(runtime().db, actor(), (args.get("q") or "").strip()[:100] or None,
                                     args.get("role") or None, status)
    roles = administration.role_list(actor(), catalogue())
    return render_template("admin/users.html", users=known.users, orgs=known.orgs, roles=roles,
                           role_names=_role_names(roles), searched=bool(args.get("q") or args.get("role") or status
                                                                        is not None), title=_("用户"))


def _role_names(roles: list[Role]) -> dict[str, str]:
    """Role code → its name in the page's language (a code the catalogue no longer has stays a code)."""
    english = str(get_locale()) == "en"
    return {r.code: r.en if english else r.zh for r in roles}


#: the changes that ask first (what the confirmation page says, the endpoint it posts to)
CONFIRMED = {"disable": "admin_pages.disable", "password": "admin_pages.reset_password"}


@bp.route("/users/<string:username>/confirm/<any(disable, password):what>")
@admin_only
def confirm(username: str, what: str) -> Any:
    """停用 and 重置口令 ask first, on a page of their own (no script needed): who it is, and what follows."""
    found = next((u for u in administration.directory(runtime().db, actor(), username).users
                  if u["username"] == username), None)
    if found is None:
        abort(404)
    return render_template("admin/confirm.html", user=found, what=what, action=url_for(CONFIRMED[what],
                           username=username), title=_("停用用户") if what == "disable" else _("重置口令"))


def _unconfirmed(username: str, what: str) -> Response | None:
    """A POST that did not come from the confirmation page goes there first and changes nothing."""
    if request.form.get("confirmed") == "1":
        return None
    return redirect(url_for("admin_pages.confirm", username=username, what=what))


@bp.route("/users/<string:username>/disable", methods=["POST"])
@admin_only
def disable(username: str) -> Response:
    if (ask := _unconfirmed(username, "disable")) is not None:
        return ask
    try:
        administration.disable(runtime().db, actor(), username, ip=client_ip())
    except Conflict as exc:  # oneself (an unknown user is a 404, as before)
        return _done("admin_pages.users", "", exc)
    return _done("admin_pages.users", _("用户 %(name)s 已停用", name=username))


@bp.route("/users/<string:username>/enable", methods=["POST"])
@admin_only
def enable(username: str) -> Response:
    administration.enable(runtime().db, actor(), username, ip=client_ip())
    return _done("admin_pages.users", _("用户 %(name)s 已启用", name=username))


@bp.route("/users/<string:username>/access", methods=["POST"])
@admin_only
def change_access(username: str) -> Response:
    """The user's organisation and roles as the form has them (what changed is audited)."""
    try:
        administration.change_access(runtime().db, actor(), catalogue(), username,
                                     org_code=request.form.get("org") or None, roles=request.form.getlist("roles"),
                                     ip=client_ip())
    except TongbanError as exc:
        return _done("admin_pages.users", "", exc)
    return _done("admin_pages.users", _("用户 %(name)s 的组织和角色已保存", name=username))


@bp.route("/audit")
@admin_only
def audit_log() -> Any:
    """The audit log, newest first, filtered by day range (in the district's time zone), action and user."""
    args, zone = request.args, runtime().settings.timezone
    try:
        since, until = _day(args.get("since"), zone, "since"), _day(args.get("until"), zone, "until", 1)
        where = audit.AuditFilter(since, until, args.get("action") or None, (args.get("user") or "").strip() or None)
        entries, cursor = audit.entries(runtime().db, actor(), where, PAGE, args.get("cursor") or None)
    except TongbanError as exc:
        flash(f"{exc.message} {'; '.join(f'{k}: {v[0]}' for k, v in exc.fields.items())}", "error")
        entries, cursor = [], None
    query = {k: v for k, v in args.items() if k != "cursor" and v}
    entries = _named(entries)
    return render_template("admin/audit.html", entries=entries, actions=audit.ACTIONS, filters=args,
                           next_url=url_for("admin_pages.audit_log", cursor=cursor, **query) if cursor else None,
                           title=_("审计日志"))


def _named(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Audit details as people read them: role and organisation codes by their names."""
    roles = _role_names(administration.role_list(actor(), catalogue()))
    orgs = {o.code: o.name for o in administration.organisations(runtime().db, actor())}
    by_action = {audit.AuditAction.ROLES_CHANGED: roles, audit.AuditAction.ORGANISATION_CHANGED: orgs}

    def name(value: Any, names: dict[str, str]) -> Any:
        if isinstance(value, list):
            return "、".join(names.get(v, str(v)) for v in value) or "—"
        return names.get(value, value) if isinstance(value, str) else value

    def detail(e: dict[str, Any]) -> dict[str, Any]:
        names = {"roles": roles, "org": orgs}
        if e["action"] in by_action:
            names |= {"before": by_action[e["action"]], "after": by_action[e["action"]]}
        return {k: name(v, names[k]) if k in names else v for k, v in e["detail"].items()}

    return [{**e, "detail": detail(e)} for e in entries]


def _day(value: str | None, zone: tzinfo, name: str, days_after: int = 0) -> datetime | None:
    """The start of a day as the district counts it (`until` names the last day shown: the day after it)."""
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        raise FormInvalid(_("日期格式应为 YYYY-MM-DD"), {f"/{name}": [value[:20]]}) from None
    return datetime.combine(day + timedelta(days=days_after), time(), zone)


@bp.route("/users/<string:username>/email", methods=["POST"])
@admin_only
def change_email(username: str) -> Response:
    """Where copies of the user's notices are mailed; an empty address stops them."""
    try:
        stored = administration.change_email(runtime().db, actor(), username, request.form.get("email"),
                                             ip=client_ip())
    except TongbanError as exc:
        return _done("admin_pages.users", "", exc)
    return _done("admin_pages.users", _("用户 %(name)s 的通知邮箱已设为 %(email)s", name=username, email=stored)
                 if stored else _("用户 %(name)s 的通知邮箱已清除", name=username))


@bp.route("/users/<string:username>/password", methods=["POST"])
@admin_only
def reset_password(username: str) -> Response:
    if (ask := _unconfirmed(username, "password")) is not None:
        return ask
    password = administration.reset_password(runtime().db, actor(), username, ip=client_ip())
    return _done("admin_pages.users", _("用户 %(name)s 的新口令（只显示这一次）：%(pw)s", name=username, pw=password))


@bp.route("/orgs", methods=["GET", "POST"])
@admin_only
def orgs() -> Any:
    if request.method == "POST":
        form = request.form
        try:
            administration.ensure_organisation(runtime().db, actor(), form["code"].strip(), form["name"].strip(),
                                               form["kind"], form.get("credit_code") or None, ip=client_ip())
        except TongbanError as exc:
            return _done("admin_pages.orgs", "", exc)
        return _done("admin_pages.orgs", _("组织 %(code)s 已就绪", code=form["code"]))
    return render_template("admin/orgs.html", orgs=administration.organisations(runtime().db, actor()),
                           kinds=ORG_KINDS, title=_("组织"))


@bp.route("/orgs/sync", methods=["POST"])
@admin_only
def sync_orgs() -> Response:
    """The district's organisations as processes/organisations.yaml lists them (`tongban orgs sync`)."""
    path = runtime().settings.processes_dir / ORGANISATIONS_FILE
    try:
        if not path.is_file():
            raise TongbanError(_("没有组织目录 processes/organisations.yaml"))
        done = administration.sync_organisations(runtime().db, actor(), load_organisations(path.read_bytes()),
                                                   ip=client_ip())
    except ValueError as exc:  # a malformed list says where
        return _done("admin_pages.orgs", "", TongbanError(str(exc)))
    except TongbanError as exc:
        return _done("admin_pages.orgs", "", exc)
    return _done("admin_pages.orgs", _("组织目录已同步：新建 %(created)s 个，更新 %(updated)s 个，未变 %(n)s 个",
                                       created=len(done.created), updated=len(done.updated), n=len(done.unchanged)))


@bp.route("/roles")
@admin_only
def roles() -> Any:
    roles = administration.role_list(actor(), catalogue())
    orgs = {o.code: o.name for o in administration.organisations(runtime().db, actor())}
    return render_template("admin/roles.html", roles=roles, org_names=orgs, title=_("角色"))


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
            administration.load_calendar_year(runtime().db, actor(), table, ip=client_ip())
        except TongbanError as exc:
            return _done("admin_pages.calendar", "", exc)
        return _done("admin_pages.calendar", _("%(year)s 年工作日安排已载入", year=table.year))
    loaded = administration.calendar_years(runtime().db, actor())
    years = library_years()
    return render_template("admin/calendar.html", loaded=loaded, first=years.start, last=years.stop - 1,
                           title=_("工作日历"))
