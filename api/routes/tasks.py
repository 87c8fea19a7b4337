"""The inbox and working a task: detail, claim, unclaim, delegate, complete, comment."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from engine.case.comments import add_comment
from engine.people.assignment import claim, colleagues, delegate, unclaim
from engine.runtime.inbox import TaskFilter, list_tasks

from ..schemas import (
    ColleagueSchema,
    CommentRequest,
    CommentSchema,
    DataRequest,
    DelegateRequest,
    InstanceSummary,
    TaskDetail,
    TaskPage,
    TaskQuery,
)
from ..security import REQUIRED, actor, runtime

blp = Blueprint("tasks", __name__, description="待办 (tasks)")


@blp.route("/tasks", methods=["GET"])
@blp.doc(security=REQUIRED)
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskPage)
def inbox(query: dict[str, Any]) -> dict[str, Any]:
    flt = TaskFilter(scope=query["scope"], process=query.get("process"), overdue=query["overdue"],
                     due_before=query.get("due_before"), q=query.get("q"), sort=query["sort"])
    items, cursor = list_tasks(runtime().db, actor(), flt, query.get("cursor"), query["limit"])
    return {"items": items, "next_cursor": cursor}


@blp.route("/tasks/<task:task_id>", methods=["GET"])
@blp.doc(security=REQUIRED)
@blp.response(200, TaskDetail)
def show(task_id: str) -> dict[str, Any]:
    return runtime().task_detail(task_id, actor())


@blp.route("/tasks/<task:task_id>/claim", methods=["POST"])
@blp.doc(security=REQUIRED)
@blp.response(200, TaskDetail)
def claim_task(task_id: str) -> dict[str, Any]:
    claim(runtime().db, task_id, actor())
    return runtime().task_detail(task_id, actor())


@blp.route("/tasks/<task:task_id>/unclaim", methods=["POST"])
@blp.doc(security=REQUIRED)
@blp.response(200, TaskDetail)
def unclaim_task(task_id: str) -> dict[str, Any]:
    unclaim(runtime().db, task_id, actor())
    return runtime().task_detail(task_id, actor())


@blp.route("/tasks/<task:task_id>/colleagues", methods=["GET"])
@blp.doc(security=REQUIRED, summary="who the task can be delegated to (same role, same organisation)")
@blp.response(200, ColleagueSchema(many=True))
def task_colleagues(task_id: str) -> Any:
    return colleagues(runtime().db, task_id, actor())


@blp.route("/tasks/<task:task_id>/delegate", methods=["POST"])
@blp.doc(security=REQUIRED)
@blp.arguments(DelegateRequest)
@blp.response(204)
def delegate_task(body: dict[str, Any], task_id: str) -> None:
    delegate(runtime().db, task_id, body["user"], actor())


@blp.route("/tasks/<task:task_id>/complete", methods=["POST"])
@blp.doc(security=REQUIRED)
@blp.arguments(DataRequest)
@blp.response(200, InstanceSummary)
def complete_task(body: dict[str, Any], task_id: str) -> Any:
    return runtime().complete(task_id, body["data"], actor())


@blp.route("/tasks/<task:task_id>/comments", methods=["POST"])
@blp.doc(security=REQUIRED)
@blp.arguments(CommentRequest)
@blp.response(201, CommentSchema)
def comment(body: dict[str, Any], task_id: str) -> Any:
    detail = runtime().task_detail(task_id, actor())
    return add_comment(runtime().db, detail["instance"]["id"], body["body"], actor(), task_id=task_id)
