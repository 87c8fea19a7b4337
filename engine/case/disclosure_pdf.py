"""The quarterly disclosure as a printable A4 PDF, set in the same embedded Chinese serif face as the documents.

The font shipped for documents has no U+00A5 (¥); amounts are therefore set in the PDF core face Times, whose
Latin-1 encoding has it, so the paper shows ¥40,000.00 exactly as the page does.
"""

from __future__ import annotations

from typing import Any

from engine.case.disclosure import Disclosure, SourceReport, Totals, yuan
from engine.case.documents import FONT

_HEADER = ("资金来源", "期初余额", "本期收入", "本期支出", "期末余额")
_WIDTHS = (46, 31, 31, 31, 31)


def _title(d: Disclosure) -> str:
    return f"楼宇发展基金（{d.fund_code}）{d.quarter.zh}收支公示"


def render(d: Disclosure, tz: Any) -> bytes:
    from fpdf import FPDF  # imported here: only downloads need it
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4", unit="mm")
    pdf.set_margins(20, 22, 20)
    pdf.set_auto_page_break(True, margin=22)
    pdf.add_font("serif", fname=str(FONT))
    pdf.set_title(_title(d))
    pdf.set_creator("楼宇通办 tongban")
    plain, amount = FontFace(family="serif", emphasis=""), FontFace(family="Times", emphasis="", size_pt=10)
    heading = FontFace(family="serif", emphasis="", fill_color=(235, 235, 235))

    def footer() -> None:
        pdf.set_y(-14)
        pdf.set_font("serif", size=8)
        pdf.cell(0, 5, f"{_title(d)}　第 {pdf.page_no()} 页 共 {{nb}} 页", align="C")

    pdf.footer = footer  # type: ignore[method-assign]
    pdf.add_page()
    pdf.set_font("serif", size=17)
    pdf.multi_cell(0, 10, _title(d), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("serif", size=10)
    period = f"公示期间：{d.period_start:%Y年%m月%d日} 至 {d.last_day:%Y年%m月%d日}"
    pdf.cell(0, 7, period, new_x="LMARGIN", new_y="NEXT")
    if not d.closed:
        pdf.cell(0, 7, f"本季度尚未结束，数据截至 {d.as_of.astimezone(tz):%Y年%m月%d日 %H:%M}。",
                 new_x="LMARGIN", new_y="NEXT")

    def balances(title: str, rows: list[SourceReport], totals: Totals, label: str) -> None:
        pdf.ln(3)
        pdf.set_font("serif", size=12)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("serif", size=10)
        with pdf.table(col_widths=_WIDTHS, headings_style=heading, text_align=("LEFT", *["RIGHT"] * 4),
                       line_height=6) as table:
            table.row(_HEADER)
            for r in rows:
                row = table.row()
                row.cell(r.source.zh + ("（专款专用）" if r.source.purpose else ""), style=plain)
                for value in (r.opening, r.income, r.spending, r.closing):
                    row.cell(yuan(value), style=amount)
            if len(rows) > 1:
                row = table.row()
                row.cell(label, style=plain)
                for value in (totals.opening, totals.income, totals.spending, totals.closing):
                    row.cell(yuan(value), style=amount)

    balances("一、现金收支（按资金来源）", d.of(True), d.totals(True), "现金合计")
    balances("二、非现金（资源置换，按评估价值，不计入现金）", d.of(False), d.totals(False), "非现金合计")

    def section(title: str, rows: list[Any], none: str) -> bool:
        """A numbered heading, and a line saying so when the section has no rows; whether rows follow."""
        pdf.ln(3)
        pdf.set_font("serif", size=12)
        pdf.cell(0, 8, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("serif", size=10)
        if not rows:
            pdf.cell(0, 7, none, new_x="LMARGIN", new_y="NEXT")
        return bool(rows)

    income = [(r, x) for r in d.sources for x in r.donors]
    if section("三、本期收入明细", income, "本期无收入。"):
        with pdf.table(col_widths=(46, 92, 32), headings_style=heading, text_align=("LEFT", "LEFT", "RIGHT"),
                       line_height=6) as table:
            table.row(("资金来源", "出资方", "金额"))
            for r, x in income:
                row = table.row()
                row.cell(r.source.zh, style=plain)
                row.cell(x.name or f"匿名捐赠者（{x.contributions} 笔）", style=plain)
                row.cell(yuan(x.amount), style=amount)

    spent = [(r, p) for r in d.sources for p in r.projects]
    if section("四、本期支出明细（按项目）", spent, "本期无支出。"):
        small = FontFace(family="serif", emphasis="", size_pt=8)  # a case number fits its column on one line
        with pdf.table(col_widths=(44, 24, 48, 22, 32), headings_style=heading,
                       text_align=("LEFT", "LEFT", "LEFT", "LEFT", "RIGHT"), line_height=6) as table:
            table.row(("项目名称", "类别", "办件编号", "资金来源", "金额"))
            for r, p in spent:
                row = table.row()
                row.cell(p.name, style=plain)
                row.cell(p.category_name or "—", style=plain)
                row.cell(p.case_number, style=small)
                row.cell(r.source.zh, style=plain)
                row.cell(yuan(p.amount), style=amount)
    pdf.ln(4)
    pdf.set_font("serif", size=9)
    pdf.multi_cell(0, 5, "说明：期末余额＝期初余额＋本期收入－本期支出。财政资金、党费返还单独核算、专款专用，"
                         "党费返还仅用于党建活动。出资方名称仅在其为企业且同意公开时列示，其余合并列示。"
                         "如有疑问，可向基金秘书处反映。",
                   new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
