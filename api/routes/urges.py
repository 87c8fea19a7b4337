"""催办 (urging) an open task: the applicant's enterprise and the supervisors, once per task and working day."""

from __future__ import annotations

from typing import Any

from engine.runtime.urging import urge, urgeable

from ..openapi import Blueprint
from ..schemas import UrgeableStep, UrgeRequest, UrgeResult
from ..security import REQUIRED, actor, runtime

blp = Blueprint("urges", __name__, description="催办 (urging)")

URGED_ALREADY = ("该环节本工作日已催办，或已办结 (already urged this working day — the message says when it is "
                 "possible again — or the task is no longer open)")


@blp.route("/tasks/<task:task_id>/urge", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="urgeTask",
         summary="催办: press an open task of the caller's case (applicant's enterprise) or of any case (supervisors)")
@blp.arguments(UrgeRequest)
@blp.response(201, UrgeResult)
@blp.alt_response(409, description=URGED_ALREADY)
def urge_task(body: dict[str, Any], task_id: str) -> Any:
    return urge(runtime().db, task_id, body["reason"], actor(), runtime().settings.timezone)


@blp.route("/instances/<id:instance_id>/urges", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listUrgeableSteps",
         summary="the open steps of a case the caller may urge, with their counts (empty if the caller may not urge)")
@blp.response(200, UrgeableStep(many=True))
def urgeable_steps(instance_id: int) -> Any:
    return urgeable(runtime().db, instance_id, actor(), runtime().settings.timezone)
