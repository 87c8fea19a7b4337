"""The approvers' inbox and the page where one task is worked."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from engine.base.clock import now
from engine.base.errors import TongbanError
from engine.base.vocabulary import HumanTaskState, InstanceStatus
from engine.case import carboncopy
from engine.case.notifications import list_notifications
from engine.people.access import task_actions
from engine.people.assignment import claim_many
from engine.people.savedfilters import delete_filter, filter_query, list_filters, save_filter
from engine.runtime.caseview import task_page
from engine.runtime.inbox import Scope, TaskFilter, list_tasks
from engine.runtime.signers import OPEN, signing
from engine.runtime.urging import urges_of
from engine.runtime.worklists import COUNT_CAP, ListFilter, WorkList, counts, work_list

from ..security import actor, runtime
from .admin import catalogue
from .auth import login_required
from .labels import SCOPE_LABELS, WORKLIST_LABELS

bp = Blueprint("inbox_pages", __name__)

#: (scope, label) per tab, in order
TABS = tuple(SCOPE_LABELS.items())


def _scope(asked: str | None) -> Scope:
    """The tab asked for; what a reviewer can pick up unless it asked for a known one."""
    try:
        return Scope(asked)
    except ValueError:
        return Scope.CANDIDATE


@bp.route("/inbox")
@login_required
def inbox() -> Any:
    scope = _scope(request.args.get("scope"))
    flt = TaskFilter(scope=scope, process=request.args.get("process") or None,
                     overdue=request.args.get("overdue") == "1", q=(request.args.get("q") or "").strip()[:100] or None,
                     sort="-created" if request.args.get("sort") == "newest" else "created")
    tasks, cursor = list_tasks(runtime().db, actor(), flt, request.args.get("cursor"), 20)
    current = filter_query(request.args)
    return render_template("inbox/list.html", tasks=tasks, next_cursor=cursor, scope=scope, tabs=TABS,
                           lists=_lists(), now=now(), title=_("待办"), current=current,
                           filters=list_filters(runtime().db, actor()))


def _back(query: str) -> Response:
    """To the inbox as it was filtered (only the inbox's own parameters: `filter_query`)."""
    return redirect(url_for("inbox_pages.inbox") + (f"?{query}" if query else ""))


def _refused(error: TongbanError) -> None:
    flash(" ".join([error.message, *(f"{', '.join(v)}" for v in error.fields.values())]), "error")


@bp.route("/inbox/claim", methods=["POST"])
@login_required
def bulk_claim() -> Response:
    """批量认领 the ticked tasks, each checked on its own; what could not be claimed is listed with the reason."""
    back = filter_query(request.form)
    try:
        results = claim_many(runtime().db, request.form.getlist("task"), actor())
    except TongbanError as exc:
        _refused(exc)
        return _back(back)
    claimed = sum(r.error is None for r in results)
    if claimed:
        flash(_("已认领 %(n)s 个任务", n=claimed), "ok")
    for r in results:
        if r.error is not None:
            what = f"{r.case_number} {r.name}" if r.case_number else _("一个任务")
            flash(_("%(what)s 未能认领：%(why)s", what=what, why=r.error.message), "error")
    return _back(back)


@bp.route("/inbox/filters", methods=["POST"])
@login_required
def save_inbox_filter() -> Response:
    """Keep the inbox's current filter under a name of the user's choosing (engine/people/savedfilters)."""
    try:
        saved = save_filter(runtime().db, actor(), request.form.get("name", ""), request.form)
    except TongbanError as exc:
        _refused(exc)
        return _back(filter_query(request.form))
    flash(_("筛选「%(name)s」已保存", name=saved.name), "ok")
    return _back(saved.query)


@bp.route("/inbox/filters/<int:filter_id>/delete", methods=["POST"])
@login_required
def delete_inbox_filter(filter_id: int) -> Response:
    try:
        delete_filter(runtime().db, actor(), filter_id)
    except TongbanError as exc:
        _refused(exc)
    else:
        flash(_("筛选已删除"), "ok")
    return _back("")


def _lists() -> dict[str, Any]:
    """The tabs above the inbox and the work lists, with their numbers ("999+" past the cap)."""
    found = counts(runtime().db, actor())
    shown = {k: f"{COUNT_CAP - 1}+" if v >= COUNT_CAP else str(v) for k, v in found.items()}
    return {"labels": WORKLIST_LABELS, "counts": shown}


def _day(name: str, end: bool = False) -> datetime | None:
    """A YYYY-MM-DD filter as the start of that day in the district (of the day after, for the period's end);
    None when missing or unreadable."""
    try:
        day = date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None
    return datetime.combine(day + timedelta(days=1 if end else 0), time(), runtime().settings.timezone)


@bp.route("/inbox/<any(done, started, copied):which>")
@login_required
def worklist(which: str) -> Any:
    """已办, 我发起的, 抄送我的: filterable by process, the case's status, a period and a case number."""
    status = request.args.get("status")
    flt = ListFilter(process=request.args.get("process") or None,
                     status=status if status in InstanceStatus.__members__.values() else None,
                     since=_day("from"), until=_day("to", end=True), q=(request.args.get("q") or "").strip()[:100]
                     or None, unread=request.args.get("unread") == "1")
    items, cursor = work_list(runtime().db, actor(), WorkList(which), flt, request.args.get("cursor"), 20)
    kept = {k: v for k, v in request.args.items() if k != "cursor"}  # the next page keeps the filters
    next_url = url_for("inbox_pages.worklist", which=which, **kept, cursor=cursor) if cursor else None
    return render_template("inbox/worklist.html", items=items, next_url=next_url, which=WorkList(which),
                           lists=_lists(), title=WORKLIST_LABELS[WorkList(which)])


@bp.route("/tasks/<task:task_id>")
@login_required
def task(task_id: str) -> Any:
    detail, case, fields = task_page(runtime(), task_id, actor())  # one read of the case, one deserialization
    record = signing(runtime().db, task_id, actor())  # 加签 / 委派: who signed what, and what the caller may do
    if record["returned"]:  # what the delegate filled in, for the delegator to check and complete
        detail = {**detail, "data": {**detail["data"], **record["returned"]}}
    entrusted = any(d["state"] == "pending" and d["user"] == actor().username for d in record["delegations"])
    if any(s["state"] in OPEN for s in record["signers"] + record["delegations"]):
        detail = {**detail, "return_targets": []}  # 退回 waits for everyone added to the task (engine/runtime/returns)
    is_open = detail["state"] == HumanTaskState.READY and case.status == InstanceStatus.RUNNING
    actions = task_actions(actor(), detail["role"], detail["org_id"], detail["assignee_id"]) if is_open else frozenset()
    if any(d["state"] == "pending" for d in record["delegations"]):
        actions -= {"unclaim", "delegate"}  # an open 委派 comes back to its delegator first (engine/people/assignment)
    picker = carboncopy.choices(runtime().db, detail["instance"]["id"], actor()) if is_open else None  # no form
    roles = _role_names() if picker else {}
    return render_template("inbox/task.html", task=detail, case=case, fields=fields, title=detail["name"],
                           signing=record, entrusted=entrusted and is_open, urges=urges_of(runtime().db, task_id),
                           is_open=is_open, actions=actions, now=now(),
                           completed=detail["state"] == HumanTaskState.COMPLETED,
                           cancelled=detail["state"] == HumanTaskState.CANCELLED,
                           countdown=_countdown(detail["due_at"]) if detail["due_at"] else None,
                           cc=picker, cc_roles=[roles.get(code, code) for code in (picker.roles if picker else [])])


def _countdown(due: datetime) -> str:
    """How long is left until a task's deadline, or how long it is overdue, in days and hours (hours and minutes
    in its last day): calendar time, as the deadline itself is a moment."""
    seconds = int((due - now()).total_seconds())
    days, rest = divmod(abs(seconds), 86400)
    hours, minutes = rest // 3600, rest % 3600 // 60
    span = _("%(d)s 天 %(h)s 小时", d=days, h=hours) if days else _("%(h)s 小时 %(m)s 分钟", h=hours, m=minutes)
    return _("已超期 %(span)s", span=span) if seconds < 0 else _("剩余 %(span)s", span=span)


def _role_names() -> dict[str, Any]:
    """The role catalogue's names for the 抄送 picker; only the codes where the server has no catalogue file."""
    try:
        return catalogue().roles
    except OSError:
        return {}


@bp.route("/notifications")
@login_required
def notifications() -> Any:
    """SLA warnings, due-day notices, 督办 and incident notices addressed to the caller, newest first."""
    items, cursor = list_notifications(runtime().db, actor(), request.args.get("unread") == "1",
                                       request.args.get("cursor"), 30)
    return render_template("inbox/notifications.html", items=items, next_cursor=cursor, title=_("通知"))
