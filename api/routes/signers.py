"""加签 / 减签, an outside signer's approval, a co-signer's opinion, and 委派 (delegate and give back) on a task."""

from __future__ import annotations

from typing import Any

from marshmallow import Schema, fields, validate

from engine.base.vocabulary import SignerKind
from engine.runtime import signers

from ..openapi import TASK_CLOSED, Blueprint
from ..schemas import ReasonRequest, Text
from ..security import REQUIRED, actor, runtime

blp = Blueprint("signers", __name__, description="加签与委派 (co-signers and delegate-and-return)")

Reason = Text(load_default=None, allow_none=True, validate=validate.Length(max=500))
REFUSED = ("不能这样加签：不是办理人，或加签人在办理范围之外且未申请批准 (refused: not the task's holder, or a "
           "signer outside the task's lane without asking approval)")
NOT_ASKED = "您不是待签署的加签人，或不是受托人 (not a signer whose turn it is, or not the delegate)"


class AddSignersRequest(ReasonRequest):
    mode = Text(required=True, validate=validate.OneOf([SignerKind.BEFORE, SignerKind.AFTER]))
    users = fields.List(Text(validate=validate.Length(1, 64)), required=True,
                        validate=validate.Length(1, signers.MAX_SIGNERS))
    ask_approval = fields.Boolean(load_default=False)


class SignRequest(Schema):
    decision = Text(required=True, validate=validate.OneOf(list(signers.DECISIONS)))
    opinion = Text(required=True, validate=validate.Length(1, 2000))


class DecideRequest(Schema):
    approve = fields.Boolean(required=True)
    reason = Reason


class EntrustRequest(ReasonRequest):
    user = Text(required=True, validate=validate.Length(1, 64))


class GiveBackRequest(Schema):
    data = fields.Dict(keys=Text(), load_default=dict)
    opinion = Text(load_default="", validate=validate.Length(max=2000))


class SignerSchema(Schema):
    id = fields.Integer(required=True)
    kind = Text(required=True)
    seq = fields.Integer()
    user = Text(required=True)
    display_name = Text()
    state = Text(required=True)
    reason = Text(allow_none=True)
    opinion = Text(allow_none=True)
    data = fields.Dict(allow_none=True)
    added_by = Text()
    decided_by = Text(allow_none=True)
    created_at = fields.DateTime()
    acted_at = fields.DateTime(allow_none=True)


class ProposalSchema(SignerSchema):
    task_id = Text(required=True)
    task_name = Text(allow_none=True)
    case_number = Text(allow_none=True)


class HeldSchema(Schema):
    data = fields.Dict()
    held_at = fields.DateTime()


class SigningSchema(Schema):
    signers = fields.List(fields.Nested(SignerSchema), required=True)
    delegations = fields.List(fields.Nested(SignerSchema), required=True)
    held = fields.Nested(HeldSchema, allow_none=True)
    dissent = fields.List(Text(), required=True, metadata={
        "description": "会签 co-signers whose last opinion disagrees: the task cannot be completed until each "
                       "agrees when asked again (or the holder returns the case)"})
    holder = fields.Boolean(required=True)
    my_turn = Text(allow_none=True)
    returned = fields.Dict(allow_none=True)


@blp.route("/tasks/<task:task_id>/signers", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getTaskSigning",
         summary="the task's co-signers and delegates with their opinions, the held submission, the caller's turn")
@blp.response(200, SigningSchema)
def record(task_id: str) -> dict[str, Any]:
    return signers.signing(runtime().db, task_id, actor())


@blp.route("/tasks/<task:task_id>/signers", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="addTaskSigners",
         summary="加签: add co-signers before (all must agree) or after the holder; outside the lane, ask approval")
@blp.arguments(AddSignersRequest)
@blp.response(201, SigningSchema)
@blp.alt_response(403, description=REFUSED)
@blp.alt_response(409, description=TASK_CLOSED + "；或已是加签人、已委派、已提交待后加签 (or already a signer, "
                                   "entrusted, or submitted for the after-signers)")
def add(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    return signers.add_signers(runtime().db, task_id, body["users"], SignerKind(body["mode"]), body["reason"],
                               actor(), body["ask_approval"])


@blp.route("/tasks/<task:task_id>/signers/<id:signer_id>/remove", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="removeTaskSigner", summary="减签: remove a co-signer who has not signed")
@blp.arguments(ReasonRequest)
@blp.response(200, SigningSchema)
@blp.alt_response(403, description="只有任务的办理人可以减签 (only the task's holder removes a signer)")
@blp.alt_response(409, description="该加签人已签署或已移除 (the signer has signed or was removed)")
def remove(body: dict[str, Any], task_id: str, signer_id: int) -> dict[str, Any]:
    return signers.remove_signer(runtime(), task_id, signer_id, body["reason"], actor())


@blp.route("/tasks/<task:task_id>/sign", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="signTask",
         summary="a co-signer's opinion (agree / disagree, with its text), once; the last after-signer completes")
@blp.arguments(SignRequest)
@blp.response(200, SigningSchema)
@blp.alt_response(403, description=NOT_ASKED)
@blp.alt_response(409, description="已签署过、已被减签，或任务已不可办理 (already signed, removed meanwhile, or the "
                                   "task is closed)")
def sign(body: dict[str, Any], task_id: str) -> dict[str, Any]:
    return signers.sign(runtime(), task_id, body["decision"], body["opinion"], actor())


@blp.route("/signers/proposals", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listSignerProposals",
         summary="outside co-signers waiting for a supervisor's approval (supervisors; empty for others)")
@blp.response(200, ProposalSchema(many=True))
def proposals() -> Any:
    return signers.proposals(runtime().db, actor())


@blp.route("/signers/<id:signer_id>/decision", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="decideSignerProposal",
         summary="a supervisor approves or refuses an outside co-signer")
@blp.arguments(DecideRequest)
@blp.response(200, ProposalSchema)
@blp.alt_response(409, description="已被处理，或任务已不可办理 (decided meanwhile, or the task is closed)")
def decide(body: dict[str, Any], signer_id: int) -> dict[str, Any]:
    return signers.decide(runtime().db, signer_id, body["approve"], body["reason"], actor())


@blp.route("/tasks/<task:task_id>/entrust", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="entrustTask",
         summary="委派: hand the task to a colleague with its role, who gives it back for the caller to complete")
@blp.arguments(EntrustRequest)
@blp.response(204)
@blp.alt_response(409, description=TASK_CLOSED + "；或尚有加签人 (or co-signers are open)")
def entrust(body: dict[str, Any], task_id: str) -> None:
    signers.entrust(runtime().db, task_id, body["user"], body["reason"], actor())


@blp.route("/tasks/<task:task_id>/entrust/return", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="returnEntrustedTask",
         summary="the delegate gives the task back with the form filled in (checked) and/or an opinion")
@blp.arguments(GiveBackRequest)
@blp.response(204)
@blp.alt_response(403, description=NOT_ASKED)
@blp.alt_response(409, description=TASK_CLOSED)
def give_back(body: dict[str, Any], task_id: str) -> None:
    signers.give_back(runtime(), task_id, body["data"], body["opinion"], actor())
