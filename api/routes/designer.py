"""Process designers: the files behind each process, saving them with validation, and deploying."""

from __future__ import annotations

from typing import Any

from flask import Response
from marshmallow import Schema, fields

from engine.design import designer

from ..openapi import FORBIDDEN, Blueprint
from ..schemas import Text
from ..security import REQUIRED, actor, runtime

blp = Blueprint("designer", __name__, description="流程设计 (process designers)")
DESIGNERS_ONLY = f"需要流程设计人员角色 (process designers only); {FORBIDDEN}"
NO_SUCH_FILE = "文件不存在，或不是可编辑的流程、表单文件 (no such file, or not an editable process or form file)"


class PathQuery(Schema):
    path = Text(required=True, metadata={"description": "processes/… or forms/… (.bpmn, .dmn, .json)"})


class SourceBody(Schema):
    content = Text(required=True)


class ProblemSchema(Schema):
    file = Text()
    line = fields.Integer(allow_none=True)
    element_id = Text(allow_none=True)
    message = Text()
    severity = Text()


class SaveResult(Schema):
    problems = fields.List(fields.Nested(ProblemSchema))


class ProcessSourceSchema(Schema):
    key = Text()
    name_zh = Text()
    name_en = Text()
    folder = Text()
    diagrams = fields.List(Text())
    forms = fields.Dict(keys=Text(), values=Text())


class DeployedSchema(Schema):
    key = Text()
    version = fields.Integer()
    content_hash = Text()
    created = fields.Boolean()


def _settings() -> Any:
    return runtime().settings


@blp.route("/designer/processes", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listProcessSources", summary="each process folder with its files")
@blp.response(200, ProcessSourceSchema(many=True))
@blp.alt_response(403, description=DESIGNERS_ONLY)
def processes() -> Any:
    return designer.process_sources(_settings(), actor())


@blp.route("/designer/files", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="readSourceFile", summary="a process or form file's text")
@blp.arguments(PathQuery, location="query")
@blp.response(200, {"type": "string"}, content_type="text/plain", description="the file's text (UTF-8)")
@blp.alt_response(403, description=DESIGNERS_ONLY)
@blp.alt_response(404, description=NO_SUCH_FILE)
def read(query: dict[str, str]) -> Response:
    return Response(designer.read_source(_settings(), query["path"], actor()), mimetype="text/plain")


@blp.route("/designer/files", methods=["PUT"])
@blp.doc(security=REQUIRED, operationId="saveSourceFile",
         summary="save a process or form file if it parses; the problems validation finds")
@blp.arguments(PathQuery, location="query")
@blp.arguments(SourceBody)
@blp.response(200, SaveResult)
@blp.alt_response(403, description=DESIGNERS_ONLY)
@blp.alt_response(404, description=NO_SUCH_FILE)
@blp.alt_response(422, description=designer.NOT_PARSED)
def save(query: dict[str, str], body: dict[str, str]) -> Any:
    return {"problems": designer.save_source(_settings(), query["path"], body["content"], actor())}


@blp.route("/designer/problems", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listDesignProblems", summary="what validation finds in every process")
@blp.response(200, SaveResult)
@blp.alt_response(403, description=DESIGNERS_ONLY)
def problems() -> Any:
    return {"problems": designer.check(_settings(), actor())}


class ScenarioResultSchema(Schema):
    name = Text()
    path = Text()
    passed = fields.Boolean()
    message = Text()


class CoverageSchema(Schema):
    process = Text()
    flows_taken = fields.List(Text())
    flows_missed = fields.List(Text())
    nodes_visited = fields.List(Text())
    nodes_missed = fields.List(Text())
    flow_ratio = fields.Float()
    node_ratio = fields.Float()


class TestRunSchema(Schema):
    results = fields.List(fields.Nested(ScenarioResultSchema))
    coverage = fields.List(fields.Nested(CoverageSchema))


class FolderQuery(Schema):
    folder = Text(required=True, metadata={"description": "processes/<folder>/"})


@blp.route("/designer/scenarios", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="runScenarios",
         summary="run a process folder's scenarios (throw-away database) with flow coverage")
@blp.arguments(FolderQuery, location="query")
@blp.response(200, TestRunSchema)
@blp.alt_response(403, description=DESIGNERS_ONLY)
@blp.alt_response(404, description="流程目录不存在 (no such process folder)")
def scenarios(query: dict[str, str]) -> Any:
    report = designer.run_scenarios(_settings(), query["folder"], actor())
    return {
        "results": [{"name": r.scenario.name, "path": r.scenario.path, "passed": r.passed, "message": r.message}
                    for r in report.results],
        "coverage": [{"process": key, "flows_taken": sorted(c.flows_taken), "flows_missed": c.missed_flows(),
                      "nodes_visited": sorted(c.nodes_visited), "nodes_missed": c.missed_nodes(),
                      "flow_ratio": c.flow_ratio, "node_ratio": c.node_ratio}
                     for key, c in sorted(report.coverage.items())],
    }


@blp.route("/designer/deploy", methods=["POST"])
@blp.doc(security=REQUIRED, operationId="deployProcesses", summary="validate and deploy every process folder")
@blp.response(200, DeployedSchema(many=True))
@blp.alt_response(403, description=DESIGNERS_ONLY)
@blp.alt_response(422, description="流程校验未通过，未部署 (a process fails validation; nothing was deployed)")
def deploy() -> Any:
    return designer.deploy_all(runtime().db, _settings(), actor())
