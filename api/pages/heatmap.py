"""The supervision heat map page, its diagram and its CSV / Excel exports (figures from engine/runtime/heatmap.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

from flask import Blueprint, Response, render_template, request
from flask_babel import gettext as _
from marshmallow import ValidationError

from engine.runtime.heatmap import ElementHeat, FlowShare, HeatMap, diagram_of, versions

from ..messages import bilingual
from ..routes.supervision import HeatMapQuery, heat_map_of
from ..security import actor, runtime
from .auth import login_required
from .supervision import Table, csv_response, xlsx_response

bp = Blueprint("heatmap_pages", __name__)

FILTERS = ("version", "from", "to", "street")
#: the colour steps of the scale, by a task's p90 against the slowest one's (the figures are printed beside)
STEPS = 5


def hours(seconds: float | None) -> str:
    """A duration as people compare them: hours below two days, days above."""
    if seconds is None:
        return "—"
    if seconds < 48 * 3600:
        return _("%(n)s 小时", n=f"{seconds / 3600:.1f}")
    return _("%(n)s 天", n=f"{seconds / 86400:.1f}")


def share(value: float | None) -> str:
    return "—" if value is None else f"{value:.0%}"


def _query() -> tuple[dict[str, Any] | None, dict[str, Any], list[Any]]:
    """The filters asked (the version with most cases when none is), the field errors, and the versions offered."""
    offered = versions(runtime().db, actor())
    args = {k: v for k, v in request.args.items() if v != "" and k in FILTERS}  # not ?lang=, the page's own
    if "version" not in args and offered:
        args["version"] = str(max(offered, key=lambda v: (v.cases, v.id)).id)
    try:
        return HeatMapQuery().load(args), {}, offered
    except ValidationError as error:
        return None, {field: [bilingual(str(m)) for m in messages]
                      for field, messages in error.normalized_messages().items()}, offered


def _step(heat: ElementHeat, slowest: float) -> int:
    return 0 if not heat.p90 or not slowest else min(STEPS - 1, int(heat.p90 / slowest * STEPS))


def _state(board: HeatMap) -> dict[str, Any]:
    """What the diagram script draws: per task its colour step and its figures, per flow its share, as text."""
    slowest = max((e.p90 or 0 for e in board.elements), default=0)
    return {
        "elements": [{"id": e.element_id, "step": _step(e, slowest), "median": hours(e.median), "p90": hours(e.p90),
                      "breaches": e.breaches, "open": e.open, "timer": e.kind == "timer"} for e in board.elements],
        "flows": [{"id": f.flow_id, "share": share(f.share), "taken": bool(f.cases)} for f in board.flows
                  if f.share is not None],
        "labels": {"median": _("中位"), "p90": "P90", "breaches": _("超期"), "open": _("在办"), "waiting": _("等待中")},
    }


@bp.route("/supervision/heatmap")
@login_required
def heatmap() -> Any:
    query, errors, offered = _query()
    board = heat_map_of(query) if query is not None and "version" in query else None  # none deployed: no map
    ways = Counter(f.source for f in board.flows) if board else Counter()
    return render_template("supervision/heatmap.html", board=board, errors=errors, versions=offered,
                           branches=[f for f in board.flows if ways[f.source] > 1] if board else [],
                           state=_state(board) if board else {}, hours=hours, share=share,
                           args=request.args, title=_("流程热力图")), 200 if board or not errors else 422


@bp.route("/supervision/heatmap/diagram")
@login_required
def diagram() -> Response:
    """The version's BPMN XML for the page's viewer (the same check as the figures: supervisors only)."""
    query, errors, _offered = _query()
    if query is None:
        return Response(str(errors), status=422, mimetype="text/plain")
    return Response(diagram_of(runtime().db, actor(), query["version"]), mimetype="application/xml")


def _tables(board: HeatMap) -> list[Table]:
    """Both languages in the headers: an export travels to people who read either."""
    tasks = ["环节 Step", "元素 Element", "类型 Kind", "已结束 Closed", "在办 Open", "中位时长(小时) Median (hours)",
             "P90 时长(小时) P90 (hours)", "超期 SLA breaches", "其中在办超期 Of them open"]
    kinds = {"task": "办理 task", "timer": "定时等待 timer"}
    flows = ["连线 Flow", "名称 Name", "从 From", "到 To", "办件数 Cases", "占比 Share"]

    def h(seconds: float | None) -> Any:
        return "" if seconds is None else round(seconds / 3600, 2)

    def task_row(e: ElementHeat) -> list[Any]:
        return [e.name, e.element_id, kinds[e.kind], e.closed, e.open, h(e.median), h(e.p90), e.breaches,
                e.open_breaches]

    def flow_row(f: FlowShare) -> list[Any]:
        return [f.flow_id, f.name, f.source, f.target, "" if f.cases is None else f.cases,
                "" if f.share is None else round(f.share, 4)]

    return [("环节用时 Time per step", tasks, [task_row(e) for e in board.elements]),
            ("连线占比 Share per flow", flows, [flow_row(f) for f in board.flows])]


def _filename(board: HeatMap, suffix: str) -> str:
    street = f"_{board.street}" if board.street else ""
    return (f"heatmap_{board.version.process_key}_v{board.version.version}_{board.period.start:%Y%m%d}-"
            f"{board.period.end:%Y%m%d}{street}.{suffix}")


def _export(write: Any, suffix: str) -> Response:
    query, errors, _offered = _query()
    if query is None:
        return Response(str(errors), status=422, mimetype="text/plain")
    board = heat_map_of(query)
    return write(_tables(board), _filename(board, suffix))


@bp.route("/supervision/heatmap/export.csv")
@login_required
def export_csv() -> Response:
    return _export(csv_response, "csv")


@bp.route("/supervision/heatmap/export.xlsx")
@login_required
def export_xlsx() -> Response:
    return _export(xlsx_response, "xlsx")
