"""The approvers' inbox and the page where one task is worked."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from engine.base.clock import now
from engine.case.notifications import list_notifications
from engine.runtime.caseview import labelled_data
from engine.runtime.inbox import TaskFilter, list_tasks

from ..security import actor, runtime
from .auth import login_required

bp = Blueprint("inbox_pages", __name__)

TABS = ("assigned", "candidate", "all")


@bp.route("/inbox")
@login_required
def inbox() -> Any:
    scope = request.args.get("scope", "candidate")
    scope = scope if scope in TABS else "candidate"
    flt = TaskFilter(scope=scope, process=request.args.get("process") or None,  # type: ignore[arg-type]
                     overdue=request.args.get("overdue") == "1", q=request.args.get("q") or None,
                     sort="-created" if request.args.get("sort") == "newest" else "created")
    tasks, cursor = list_tasks(runtime().db, actor(), flt, request.args.get("cursor"), 20)
    return render_template("inbox/list.html", tasks=tasks, next_cursor=cursor, scope=scope, tabs=TABS,
                           now=now(), title=_("待办"))


@bp.route("/tasks/<task:task_id>")
@login_required
def task(task_id: str) -> Any:
    detail = runtime().task_detail(task_id, actor())
    case = runtime().instance(detail["instance"]["id"], actor(), detail=True)
    fields = labelled_data(runtime(), case.id, actor())
    return render_template("inbox/task.html", task=detail, case=case, fields=fields, title=detail["name"])


@bp.route("/notifications")
@login_required
def notifications() -> Any:
    """SLA warnings, due-day notices, 督办 and incident notices addressed to the caller, newest first."""
    items, cursor = list_notifications(runtime().db, actor(), request.args.get("unread") == "1",
                                       request.args.get("cursor"), 30)
    return render_template("inbox/notifications.html", items=items, next_cursor=cursor, title=_("通知"))
