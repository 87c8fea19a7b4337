"""The inbox and working a task: detail, claim, unclaim, delegate, complete, comment."""

from __future__ import annotations

from typing import Any

from engine.case.comments import add_comment
from engine.people.assignment import claim, colleagues, delegate, unclaim
from engine.runtime.inbox import TaskFilter, list_tasks

from ..openapi import BAD_CURSOR, STEP_CONFLICT, TASK_CLOSED, Blueprint
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
@blp.doc(security=REQUIRED, operationId="listTasks", summary="the caller's inbox: tasks assigned, or open to claim")
@blp.arguments(TaskQuery, location="query")
@blp.response(200, TaskPage)
@blp.alt_response(400, description=BAD_CURSOR)
def inbox(query: dict[str, Any]) -> dict[str, Any]:
    flt = TaskFilter(scope=query["scope"], process=query.get("process"), overdue=query["overdue"],
                     due_before=query.get("due_before"), q=query.get("q"), sort=query["sort"])
    items, cursor = list_tasks(runtime().db, actor(), flt, query.get("cursor"), query["limit"])
    return {"items": items, "next_cursor": cursor}


@blp.route("/tasks/<task:task_id>", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getTask", summary="a task with its form, data and case")
@blp.response(200, TaskDetail)
def show(task_id: str) -> dict[str, Any]:
    return runtime().task_detail(task_id, actor())


@blp.route("/tasks/<task:task_id>/claim", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="claimTask", summary="take a task open to the caller's role")
@blp.response(200, TaskDetail)
@blp.alt_response(409, description=TASK_CLOSED)
def claim_task(task_id: str) -> dict[str, Any]:
    claim(runtime().db, task_id, actor())
    return runtime().task_detail(task_id, actor())


@blp.route("/tasks/<task:task_id>/unclaim", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="unclaimTask", summary="give a claimed task back to its role")
@blp.response(200, TaskDetail)
@blp.alt_response(409, description=TASK_CLOSED)
def unclaim_task(task_id: str) -> dict[str, Any]:
    unclaim(runtime().db, task_id, actor())
    return runtime().task_detail(task_id, actor())


@blp.route("/tasks/<task:task_id>/colleagues", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listTaskColleagues",
         summary="who the task can be delegated to (same role, same organisation)")
@blp.response(200, ColleagueSchema(many=True))
@blp.alt_response(409, description=TASK_CLOSED)
def task_colleagues(task_id: str) -> Any:
    return colleagues(runtime().db, task_id, actor())


@blp.route("/tasks/<task:task_id>/delegate", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="delegateTask", summary="hand a task to a colleague with its role")
@blp.arguments(DelegateRequest)
@blp.response(204)
@blp.alt_response(409, description=TASK_CLOSED)
def delegate_task(body: dict[str, Any], task_id: str) -> None:
    delegate(runtime().db, task_id, body["user"], actor())


@blp.route("/tasks/<task:task_id>/complete", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="completeTask", summary="complete a task with its form's data")
@blp.arguments(DataRequest)
@blp.response(200, InstanceSummary)
@blp.alt_response(409, description=STEP_CONFLICT)
def complete_task(body: dict[str, Any], task_id: str) -> Any:
    return runtime().complete(task_id, body["data"], actor())


@blp.route("/tasks/<task:task_id>/comments", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="addTaskComment", summary="comment on a case from one of its tasks")
@blp.arguments(CommentRequest)
@blp.response(201, CommentSchema)
def comment(body: dict[str, Any], task_id: str) -> Any:
    detail = runtime().task_detail(task_id, actor())
    return add_comment(runtime().db, detail["instance"]["id"], body["body"], actor(), task_id=task_id)
