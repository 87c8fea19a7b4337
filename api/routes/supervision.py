"""GET /supervision/heatmap — where the cases of a process version wait and which way they go (supervisors)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from engine.base.errors import FormInvalid
from engine.runtime.heatmap import heat_map, versions
from engine.runtime.supervision import Period, default_period

from ..openapi import Blueprint
from ..schemas import Text
from ..security import REQUIRED, actor, runtime

blp = Blueprint("supervision", __name__, description="督办 (supervision: supervisors)")

SUPERVISORS_ONLY = "仅企业服务中心、督查室和管理员可查看 (supervisors only)"


class HeatMapQuery(Schema):
    # required, but checked in the view: who asks is checked first (401 before 422, as everywhere)
    version = fields.Integer(validate=validate.Range(1, 2**31 - 1), metadata={
        "description": "required: the process version's id (GET /supervision/heatmap/versions)"})
    from_ = fields.Date(data_key="from", metadata={"description": "cases started from this day (default 1 January)"})
    to = fields.Date(metadata={"description": "… to this day, inclusive (default today)"})
    street = Text(validate=validate.Length(1, 64), metadata={"description": "only cases of this street (its code)"})

    @validates_schema
    def _ordered(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data.get("from_") and data.get("to") and data["from_"] > data["to"]:
            raise ValidationError("结束日期早于开始日期 (to is before from)", "to")


class VersionSchema(Schema):
    id = fields.Integer(required=True)
    process_key = Text(required=True)
    version = fields.Integer(required=True)
    name_zh = Text(required=True)
    name_en = Text(required=True)
    cases = fields.Integer(required=True, metadata={"description": "all its cases, whatever the period"})


class ElementHeatSchema(Schema):
    element_id = Text(required=True)
    name = Text(required=True)
    closed = fields.Integer(required=True, metadata={"description": "tasks completed or cancelled (timers: fired "
                                                                    "or cancelled)"})
    open = fields.Integer(required=True, metadata={"description": "tasks open now"})
    median = fields.Float(allow_none=True, metadata={"description": "median seconds a closed task was open"})
    p90 = fields.Float(allow_none=True, metadata={"description": "90th percentile, seconds (percentile_cont)"})
    breaches = fields.Integer(required=True, metadata={"description": "completed after, or open past, the due time"})
    open_breaches = fields.Integer(required=True, metadata={"description": "of the breaches, those still open"})
    kind = Text(required=True, metadata={"description": "task: a user task; timer: an intermediate timer event "
                                                         "(closed/open are its waits, which have no SLA)"})


class FlowShareSchema(Schema):
    flow_id = Text(required=True)
    source = Text(required=True)
    target = Text(required=True)
    name = Text(required=True)
    cases = fields.Integer(allow_none=True, metadata={"description": "cases that took it; null: cannot be told"})
    share = fields.Float(allow_none=True, metadata={"description": "cases / all cases of the selection (0–1)"})
    source_name = Text(required=True)
    target_name = Text(required=True)


class StreetSchema(Schema):
    code = Text(required=True)
    name = Text(required=True)


class HeatMapSchema(Schema):
    version = fields.Nested(VersionSchema, required=True)
    start = fields.Date(required=True)
    end = fields.Date(required=True)
    street = Text(allow_none=True)
    cases = fields.Integer(required=True)
    elements = fields.List(fields.Nested(ElementHeatSchema), required=True)
    flows = fields.List(fields.Nested(FlowShareSchema), required=True)
    streets = fields.List(fields.Nested(StreetSchema), required=True)
    truncated = fields.Boolean(required=True, metadata={"description": "more tasks or cases than one answer reads"})


def heat_map_of(query: dict[str, Any]) -> Any:
    """The heat map a query asks for: the page and its export read the same."""
    who = actor()
    if "version" not in query:
        raise FormInvalid("数据校验未通过 (validation failed)", {"/version": ["必须填写 (required)"]})
    tz = runtime().settings.timezone
    fallback = default_period(tz)
    period = Period(query.get("from_") or fallback.start, query.get("to") or fallback.end)
    return heat_map(runtime().db, who, query["version"], period, query.get("street"), tz)


@blp.route("/supervision/heatmap", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="getHeatMap",
         summary="per user task the median and p90 time open and the SLA breaches, per flow the share of cases "
                 "that took it: one process version, a period, optionally a street (supervisors)")
@blp.arguments(HeatMapQuery, location="query")
@blp.response(200, HeatMapSchema)
@blp.alt_response(403, description=SUPERVISORS_ONLY)
@blp.alt_response(404, description="流程版本不存在 (no such process version)")
def heatmap(query: dict[str, Any]) -> dict[str, Any]:
    board = heat_map_of(query)
    return {**asdict(board), "start": board.period.start, "end": board.period.end,
            "streets": [{"code": c, "name": n} for c, n in board.streets]}


@blp.route("/supervision/heatmap/versions", methods=["GET"])
@blp.doc(security=REQUIRED, operationId="listHeatMapVersions",
         summary="the deployed process versions a heat map can be asked of, with their numbers of cases (supervisors)")
@blp.response(200, VersionSchema(many=True))
@blp.alt_response(403, description=SUPERVISORS_ONLY)
def heatmap_versions() -> Any:
    return versions(runtime().db, actor())
