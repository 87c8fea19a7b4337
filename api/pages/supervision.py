"""The "135" supervision dashboard page and its CSV / Excel exports (figures from engine/runtime/supervision.py)."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Any

from flask import Blueprint, Response, abort, render_template, request
from flask_babel import gettext as _
from openpyxl import Workbook

from engine.people.access import may_approve_signer
from engine.runtime.signers import proposals
from engine.runtime.supervision import LEVELS, CaseLine, Dashboard, Figures, Period, dashboard, default_period

from ..security import actor, runtime
from .auth import login_required

bp = Blueprint("supervision_pages", __name__)

Table = tuple[str, list[str], list[list[Any]]]


def _period() -> Period:
    """The ?from=&to= dates (YYYY-MM-DD); this year so far when missing or unreadable."""
    fallback = default_period(runtime().settings.timezone)
    try:
        start = date.fromisoformat(request.args.get("from") or fallback.start.isoformat())
        end = date.fromisoformat(request.args.get("to") or fallback.end.isoformat())
    except ValueError:
        return fallback
    return Period(start, end) if start <= end else Period(end, start)


def _board() -> Dashboard:
    return dashboard(runtime().db, actor(), _period(), runtime().settings.timezone)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def _figure_row(f: Figures) -> list[Any]:
    return [f.label or _("未派单"), f.requests, f.finished, f.on_time, _share(f.on_time_rate), f.overdue,
            f.supervised, f.reported, f.rated, *(f.ratings[level] for level in LEVELS), _share(f.satisfied_share),
            f.not_rated]


def _case_row(c: CaseLine) -> list[Any]:
    tz = runtime().settings.timezone
    return [c.case_number, c.enterprise or "", c.building or "", c.unit or "",
            c.due.astimezone(tz).strftime("%Y-%m-%d %H:%M") if c.due else "", "" if c.days_overdue is None else
            c.days_overdue, _("是") if c.reported else _("否")]


def _tables(board: Dashboard) -> list[Table]:
    """What both exports hold: the two figure tables (with the total) and the two case lists."""
    figures = [_("承办单位"), _("诉求数"), _("已办结"), _("按期办结"), _("按期率"), _("当前逾期"), _("督办"),
               _("报督查室"), _("已评价"), *LEVELS, _("满意率"), _("未评价")]
    cases = [_("办件编号"), _("企业"), _("楼宇"), _("承办单位"), _("到期"), _("逾期工作日"), _("已报督查室")]
    total = _figure_row(board.total)
    total[0] = _("合计")
    return [
        (_("按承办单位"), figures, [*map(_figure_row, board.by_unit), total]),
        (_("按楼宇"), [_("楼宇"), *figures[1:]], [*map(_figure_row, board.by_building), total]),
        (_("逾期清单"), cases, list(map(_case_row, board.overdue))),
        (_("督办清单"), cases, list(map(_case_row, board.supervised))),
        (_("催办统计"), [_("承办单位"), _("事项"), _("催办次数"), _("被催办环节数")],
         [[u.unit or _("未指定单位"), u.process_key, u.urges, u.tasks] for u in board.urges]),
    ]


#: What makes Excel, LibreOffice or WPS read a cell as a formula (OWASP's list for CSV injection)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _csv_cell(value: Any) -> Any:
    """Enterprise and building names come from the public: one that starts like a formula is written as text
    (a leading apostrophe), so opening the export never runs `=HYPERLINK(…)` or `=cmd|…`."""
    return "'" + value if isinstance(value, str) and value.startswith(_FORMULA_STARTS) else value


def _filename(board: Dashboard, suffix: str) -> str:
    return f"supervision_{board.period.start:%Y%m%d}-{board.period.end:%Y%m%d}.{suffix}"


@bp.route("/supervision")
@login_required
def supervision() -> Any:
    board = _board()
    charts = {
        "units": {"labels": [f.label or _("未派单") for f in board.by_unit],
                  "on_time_rate": [None if f.on_time_rate is None else round(f.on_time_rate * 100, 1)
                                   for f in board.by_unit],
                  "label": _("按期率 (%)")},
        "buildings": {"labels": [f.label for f in board.by_building],
                      "levels": [{"label": level, "data": [f.ratings[level] for f in board.by_building]}
                                 for level in LEVELS]},
    }
    return render_template("supervision/dashboard.html", board=board, charts=charts, levels=LEVELS,
                           share=_share, title=_("督办统计"))


@bp.route("/supervision/export.csv")
@login_required
def export_csv() -> Response:
    board = _board()
    return csv_response(_tables(board), _filename(board, "csv"))


@bp.route("/supervision/export.xlsx")
@login_required
def export_xlsx() -> Response:
    board = _board()
    return xlsx_response(_tables(board), _filename(board, "xlsx"))


def csv_response(tables: list[Table], filename: str) -> Response:
    """UTF-8 with a byte-order mark, so Excel opens the Chinese text right; tables one after another."""
    out = io.StringIO()
    writer = csv.writer(out)
    for index, (title, header, rows) in enumerate(tables):
        if index:
            writer.writerow([])
            writer.writerow([title])
        writer.writerow(header)
        writer.writerows([_csv_cell(value) for value in row] for row in rows)
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


def xlsx_response(tables: list[Table], filename: str) -> Response:
    """One worksheet per table."""
    book = Workbook()
    book.remove(book.active)
    for title, header, rows in tables:
        sheet = book.create_sheet(title[:31])  # Excel's limit on sheet names
        sheet.append(header)
        for row in rows:
            sheet.append(row)
            for cell in sheet[sheet.max_row]:
                if cell.data_type == "f":  # openpyxl takes a string starting with "=" for a formula: keep it text
                    cell.data_type = "s"
        sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return Response(out.getvalue(), mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": f"attachment; filename={filename}"})


@bp.route("/supervision/signers")
@login_required
def signer_proposals() -> Any:
    """加签审批: co-signers from outside a task's lane, waiting for a supervisor to let them in or refuse them."""
    if not may_approve_signer(actor()):
        abort(404)
    return render_template("supervision/signers.html", proposals=proposals(runtime().db, actor()),
                           title=_("加签审批"))
