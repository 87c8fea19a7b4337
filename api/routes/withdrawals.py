"""撤回 withdraw (the applicant; the office decides a request once the case is accepted) and 退回 return (an
approver sends a case back to an earlier step): engine/runtime/withdrawal.py and engine/runtime/returns.py."""

from __future__ import annotations

from typing import Any

from ..openapi import STEP_CONFLICT, Blueprint
from ..schemas import (
    InstanceSummary,
    ReasonRequest,
    ReturnRequest,
    ReturnTargetSchema,
    WithdrawalDecisionRequest,
    WithdrawalStateSchema,
    WithdrawResult,
)
from ..security import REQUIRED, actor, runtime

blp = Blueprint("withdrawals", __name__, description="撤回与退回 (withdraw and return)")

UNDECIDABLE = ("办件已决定、已办结或已挂起，或已有待决定的撤回申请 (the case is decided, ended or stopped, or a "
               "request to withdraw already awaits a decision)")


@blp.route("/instances/<id:instance_id>/withdrawal", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getWithdrawal",
         summary="whether the caller may withdraw the case (or ask to), and the pending request")
@blp.response(200, WithdrawalStateSchema)
def withdrawal_state(instance_id: int) -> Any:
    return runtime().withdrawal_state(instance_id, actor()).to_dict()


@blp.route("/instances/<id:instance_id>/withdraw", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="withdrawInstance",
         summary="撤回: the filing enterprise's applicant withdraws the case before acceptance, or asks to after it")
@blp.arguments(ReasonRequest)
@blp.response(200, WithdrawResult)
@blp.alt_response(409, description=UNDECIDABLE)
def withdraw(body: dict[str, Any], instance_id: int) -> Any:
    view, withdrawn = runtime().withdraw(instance_id, body["reason"], actor())
    return {"withdrawn": withdrawn, "instance": view}


@blp.route("/instances/<id:instance_id>/withdrawal/decision", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="decideWithdrawal",
         summary="the office holding the case grants (case withdrawn) or refuses (with reason) the request")
@blp.arguments(WithdrawalDecisionRequest)
@blp.response(200, InstanceSummary)
@blp.alt_response(409, description="没有待决定的撤回申请，或办件已决定 (no pending request, or the case is decided)")
def decide(body: dict[str, Any], instance_id: int) -> Any:
    return runtime().decide_withdrawal(instance_id, body["grant"], body["reason"], actor())


@blp.route("/tasks/<task:task_id>/return-targets", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listReturnTargets",
         summary="the earlier user tasks on the case's path this task may send it back to, nearest first")
@blp.response(200, ReturnTargetSchema(many=True))
def return_targets(task_id: str) -> Any:
    return [t.to_dict() for t in runtime().return_targets(task_id, actor())]


@blp.route("/tasks/<task:task_id>/return", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="returnTask",
         summary="退回: send the case back to an earlier user task on its path, with a reason")
@blp.arguments(ReturnRequest)
@blp.response(200, InstanceSummary)
@blp.alt_response(409, description=STEP_CONFLICT)
def send_back(body: dict[str, Any], task_id: str) -> Any:
    return runtime().send_back(task_id, body["target"], body["reason"], actor())
