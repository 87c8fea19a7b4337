"""Cases: the list, one case in detail, comments, and the administrators' suspend/resume/terminate/retry."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from flask import Response

from engine.case.comments import add_comment, list_comments
from engine.runtime.caseview import diagram_xml
from engine.runtime.correlation import Correlated
from engine.runtime.inbox import InstanceFilter, list_instances

from ..openapi import BAD_CURSOR, STEP_PRODUCT_FAILED, Blueprint
from ..schemas import (
    CommentRequest,
    CommentSchema,
    CorrelatedMessageRequest,
    CorrelatedSchema,
    DocumentQuery,
    InstanceDetail,
    InstancePage,
    InstanceQuery,
    InstanceSummary,
    MessageRequest,
)
from ..security import REQUIRED, actor, runtime

blp = Blueprint("instances", __name__, description="办件 (cases)")


@blp.route("/instances", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listInstances", summary="the cases the caller may see, newest first")
@blp.arguments(InstanceQuery, location="query")
@blp.response(200, InstancePage)
@blp.alt_response(400, description=BAD_CURSOR)
def list_cases(query: dict[str, Any]) -> dict[str, Any]:
    flt = InstanceFilter(status=query.get("status"), outcome=query.get("outcome"), process=query.get("process"),
                         case_number=query.get("case_number"), started_by_me=query["mine"],
                         started_from=query.get("started_from"), started_to=query.get("started_to"))
    items, cursor = list_instances(runtime().db, actor(), flt, query.get("cursor"), query["limit"])
    return {"items": items, "next_cursor": cursor}


@blp.route("/instances/<id:instance_id>", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getInstance", summary="a case in detail: data, open tasks, history")
@blp.response(200, InstanceDetail)
def show(instance_id: int) -> dict[str, Any]:
    view = runtime().instance(instance_id, actor(), detail=True)
    return {**view.__dict__, "documents": view.documents or []}


@blp.route("/instances/<id:instance_id>/diagram", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getInstanceDiagram",
         summary="the BPMN XML of the case's own process version (for diagram viewers)")
@blp.response(200, {"type": "string"}, content_type="application/xml", description="BPMN 2.0 XML")
def diagram(instance_id: int) -> Response:
    return Response(diagram_xml(runtime(), instance_id, actor()), mimetype="application/xml")


def _admin(name: str, runs_on: bool) -> None:
    """`runs_on`: the case goes on from where it stood, so the step's products (documents, fund entries) run."""
    products = blp.alt_response(422, description=STEP_PRODUCT_FAILED) if runs_on else (lambda view: view)

    @blp.route(f"/instances/<id:instance_id>/{name}", methods=["POST"], endpoint=name)
    @blp.doc(security=REQUIRED, operationId=f"{name}Instance", summary=f"{name} (administrators)")
    @blp.response(200, InstanceSummary)
    @blp.alt_response(409, description=f"办件当前状态不能执行该操作 (the case's status does not allow {name})")
    @products
    def view(instance_id: int) -> Any:
        return getattr(runtime(), name)(instance_id, actor())


for _name, _runs_on in (("suspend", False), ("resume", True), ("terminate", False), ("retry", True)):
    _admin(_name, _runs_on)


@blp.route("/instances/<id:instance_id>/messages", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="deliverMessage",
         summary="deliver a message to a waiting case (administrators, integrations)")
@blp.arguments(MessageRequest)
@blp.response(200, InstanceSummary)
@blp.alt_response(409, description="办件未在等待该消息 (the case is not running, or not waiting for this message)")
def deliver(body: dict[str, Any], instance_id: int) -> Any:
    return runtime().deliver(instance_id, body["name"], body["payload"], actor())


@blp.route("/messages", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="correlateMessage",
         summary="deliver a message by name and correlation key to every case waiting for it; with none waiting, "
                 "start the processes whose message start event it is (administrators, integrations)")
@blp.arguments(CorrelatedMessageRequest)
@blp.response(200, CorrelatedSchema)
@blp.alt_response(409, description="没有办件在等待该消息，也没有流程由它发起 (no case waits for the message with this "
                                   "key, and no process starts with it)")
def correlate(body: dict[str, Any]) -> Any:
    return _reached(runtime().correlate(body["name"], body["key"], body["payload"], actor()))


@blp.route("/signals", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="broadcastSignal",
         summary="send a signal to every case waiting for it and start every process whose signal start event it "
                 "is (administrators, integrations); reaching nobody is no error")
@blp.arguments(MessageRequest)
@blp.response(200, CorrelatedSchema)
def broadcast(body: dict[str, Any]) -> Any:
    return _reached(runtime().broadcast(body["name"], body["payload"], actor()))


def _reached(result: Correlated) -> dict[str, Any]:
    return {"message": result.message, "key": result.key, "delivered": result.delivered, "started": result.started,
            "skipped": result.skipped}


@blp.route("/instances/<id:instance_id>/comments", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listInstanceComments", summary="a case's comments, oldest first")
@blp.response(200, CommentSchema(many=True))
def comments(instance_id: int) -> Any:
    return list_comments(runtime().db, instance_id, actor())


@blp.route("/instances/<id:instance_id>/comments", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="addInstanceComment", summary="comment on a case")
@blp.arguments(CommentRequest)
@blp.response(201, CommentSchema)
def comment(body: dict[str, Any], instance_id: int) -> Any:
    return add_comment(runtime().db, instance_id, body["body"], actor())


@blp.route("/instances/<id:instance_id>/documents/<string:name>", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getDocument",
         summary="an issued document as PDF (the latest issue, or ?seq=N)")
@blp.arguments(DocumentQuery, location="query")
@blp.response(200, {"type": "string", "format": "binary"}, content_type="application/pdf",
              description="the document, as issued")
@blp.alt_response(404, description="办件或文书不存在，或无权查看 (no such case or document for the caller)")
def document(query: dict[str, Any], instance_id: int, name: str) -> Response:
    issued = runtime().document(instance_id, name, actor(), query.get("seq"))
    response = Response(issued.pdf(), mimetype="application/pdf")
    ascii_name = f"{issued.case_number}-{issued.name}.pdf"
    response.headers["Content-Disposition"] = (f'attachment; filename="{ascii_name}"; '
                                               f"filename*=UTF-8''{quote(issued.filename)}")
    response.headers["Cache-Control"] = "private, no-store"
    return response
