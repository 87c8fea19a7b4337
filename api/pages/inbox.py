"""The approvers' inbox and the page where one task is worked."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, render_template, request
from flask_babel import gettext as _

from engine.base.clock import now
from engine.case.notifications import list_notifications
from engine.runtime.caseview import task_page
from engine.runtime.inbox import Scope, TaskFilter, list_tasks

from ..security import actor, runtime
from .auth import login_required
from .labels import SCOPE_LABELS

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
                           now=now(), title=_("待办"))


@bp.route("/tasks/<task:task_id>")
@login_required
def task(task_id: str) -> Any:
    detail, case, fields = task_page(runtime(), task_id, actor())  # one read of the case, one deserialization
    return render_template("inbox/task.html", task=detail, case=case, fields=fields, title=detail["name"])


@bp.route("/notifications")
@login_required
def notifications() -> Any:
    """SLA warnings, due-day notices, 督办 and incident notices addressed to the caller, newest first."""
    items, cursor = list_notifications(runtime().db, actor(), request.args.get("unread") == "1",
                                       request.args.get("cursor"), 30)
    return render_template("inbox/notifications.html", items=items, next_cursor=cursor, title=_("通知"))
