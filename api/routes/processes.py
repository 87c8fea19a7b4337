"""What the caller may start, and starting it."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ..schemas import DataRequest, InstanceSummary, ProcessSchema
from ..security import REQUIRED, actor, runtime

blp = Blueprint("processes", __name__, description="可办理的事项 (processes)")


@blp.route("/processes", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listProcesses", summary="the processes the caller may start")
@blp.response(200, ProcessSchema(many=True))
def list_processes() -> list[dict[str, Any]]:
    return runtime().startable(actor())


@blp.route("/processes/<string:key>/instances", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="startInstance", summary="start a case with the start form's data")
@blp.arguments(DataRequest)
@blp.response(201, InstanceSummary)
def start(body: dict[str, Any], key: str) -> Any:
    return runtime().start(key, body["data"], actor())
