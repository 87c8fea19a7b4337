"""The approvers' inbox and the page where one task is worked."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, render_template, request, url_for
from flask_babel import gettext as _

from engine.base.clock import now
from engine.base.vocabulary import InstanceStatus
from engine.case import carboncopy
from engine.case.notifications import list_notifications
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
                     overdue=request.args.get("overdue") == "1", q=request.args.get("q") or None,
                     sort="-created" if request.args.get("sort") == "newest" else "created")
    tasks, cursor = list_tasks(runtime().db, actor(), flt, request.args.get("cursor"), 20)
    return render_template("inbox/list.html", tasks=tasks, next_cursor=cursor, scope=scope, tabs=TABS,
                           lists=_lists(), now=now(), title=_("待办"))


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
    picker = carboncopy.choices(runtime().db, detail["instance"]["id"], actor())  # None: no 抄送 form
    roles = _role_names() if picker else {}
    return render_template("inbox/task.html", task=detail, case=case, fields=fields, title=detail["name"],
                           signing=record, entrusted=entrusted, urges=urges_of(runtime().db, task_id),
                           cc=picker, cc_roles=[roles.get(code, code) for code in (picker.roles if picker else [])])


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
