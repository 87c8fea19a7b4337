"""What the caller may start, and starting it."""

from __future__ import annotations

from typing import Any

from ..openapi import Blueprint
from ..schemas import DataRequest, InstanceSummary, MigrationRequest, MigrationSchema, ProcessSchema
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


@blp.route("/processes/<string:key>/migrations", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="migrateInstances",
         summary="版本迁移 (administrators): move running cases to a later version of the process, each checked "
                 "first (every element it waits at or passed maps to one of the same kind; the new forms find the "
                 "case's data); one refused case refuses all, and dry_run lists what would happen per case")
@blp.arguments(MigrationRequest)
@blp.response(200, MigrationSchema)
@blp.alt_response(409, description="有办件不能迁移，未迁移任何办件；`fields` 按办件列出原因 (a selected case cannot "
                                   "move, so none moved: `fields` gives each one's reasons under /cases/<number>)")
def migrate(body: dict[str, Any], key: str) -> Any:
    return runtime().migrate(key, body["from_version"], body["to_version"], body["mapping"], body["cases"],
                             actor(), dry_run=body["dry_run"]).to_dict()
