"""抄送 (carbon copies) of a case: copy it ad hoc, list who it was copied to, mark one's own copy read (已阅)."""

from __future__ import annotations

from typing import Any

from engine.case.carboncopy import carbon_copy, copies, mark_read
from engine.definitions.copies import Recipients

from ..openapi import STEP_CONFLICT, Blueprint
from ..schemas import CarbonCopyRequest, CarbonCopyResult, CarbonCopySchema, ReadReceipt
from ..security import REQUIRED, actor, runtime

blp = Blueprint("carboncopies", __name__, description="抄送 (carbon copies)")


@blp.route("/instances/<id:instance_id>/copies", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="copyCase",
         summary="抄送: copy a running case to staff or to its own enterprise, to read (the case's approvers only)")
@blp.arguments(CarbonCopyRequest)
@blp.response(201, CarbonCopyResult)
@blp.alt_response(409, description=STEP_CONFLICT)
def copy_case(body: dict[str, Any], instance_id: int) -> dict[str, Any]:
    wanted = Recipients(tuple(dict.fromkeys(body["roles"])), tuple(dict.fromkeys(body["users"])))
    return {"copied": carbon_copy(runtime().db, instance_id, wanted, body["reason"], actor())}


@blp.route("/instances/<id:instance_id>/copies", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listCaseCopies", summary="who the case was copied to, and who has read it")
@blp.response(200, CarbonCopySchema(many=True))
def list_copies(instance_id: int) -> Any:
    return copies(runtime().db, instance_id, actor())


@blp.route("/instances/<id:instance_id>/copies/read", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="markCaseCopyRead", summary="已阅: mark the caller's copy of the case read")
@blp.response(200, ReadReceipt)
def read_copy(instance_id: int) -> dict[str, Any]:
    return {"read_at": mark_read(runtime().db, instance_id, actor())}
