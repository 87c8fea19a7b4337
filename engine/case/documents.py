"""Documents the applicant receives: issued when an element completes, frozen as text, printed as PDF.

A process folder's `documents.yaml` holds its templates (title, issuing office, body as a sandboxed
Jinja template over the case data). An element with the property `document` (template names,
comma-separated) issues them when it completes, in the same transaction as the step. The text is
rendered once, at issue, and kept: a later change to a template never alters a notice already sent.
The PDF (A4, embedded CJK font) is rendered from that text on download.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import TemplateError
from SpiffWorkflow.task import TaskState
from sqlalchemy import Connection, func, select

from engine.base.errors import FormInvalid, NotFound
from engine.case.output import StepOutput
from engine.store.models import Document, Instance

FONT = Path(__file__).resolve().parent / "fonts" / "NotoSerifSC-Regular-subset.otf"


# -- issuing (inside a step's transaction) -------------------------------------------------------

def issue(conn: Connection, out: StepOutput) -> None:
    """Issue the documents of elements that have completed and not yet issued them (a side product, in the
    step's transaction).

    The process's `document_elements` map element id → template names. The unique key (instance, task, name)
    makes issuing idempotent: a step re-run after a lost race or a retried job issues nothing twice.
    """
    elements = out.compiled.document_elements
    if not elements:
        return
    instance_id, templates, at, tz = out.instance_id, out.compiled.documents, out.at, out.timezone
    pending = [t for t in out.workflow.get_tasks(state=TaskState.COMPLETED)
               if getattr(t.task_spec, "bpmn_id", None) in elements]
    if not pending:
        return
    done = {(t, n) for t, n in conn.execute(select(Document.task_id, Document.name)
                                           .where(Document.instance_id == instance_id))}
    todo = [(t, n) for t in pending for n in elements[t.task_spec.bpmn_id] if (str(t.id), n) not in done]
    if not todo:
        return
    case_number = conn.execute(select(Instance.case_number).where(Instance.id == instance_id)).scalar_one()
    for task, name in todo:
        template = templates[name]
        seq = conn.execute(select(func.count()).select_from(Document).where(
            Document.instance_id == instance_id, Document.name == name)).scalar_one() + 1
        context = {**task.data, "case_number": case_number, "issue_date": _date(at, tz)}
        try:
            text = template.render(context)
        except TemplateError as exc:  # e.g. `x[:10]` of a field the data lacks: refuse the step, like the ledger
            element = task.task_spec.bpmn_id
            raise FormInvalid(f"文书 {name} 无法生成 (document {name} of {element} failed: {exc})") from None
        conn.execute(Document.__table__.insert().values(
            instance_id=instance_id, task_id=str(task.id), element_id=task.task_spec.bpmn_id, name=name, seq=seq,
            title=template.title, office=template.office, case_number=case_number, issued_at=at, text=text))


def _date(at: datetime, tz: tzinfo) -> str:
    local = at.astimezone(tz)
    return f"{local.year}年{local.month}月{local.day}日"


# -- reading -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class IssuedDocument:
    name: str
    seq: int
    title: str
    office: str
    case_number: str
    issued_at: datetime
    body: str
    tz: tzinfo

    @property
    def text(self) -> str:
        """The whole notice as printed: title, case number, body, issuing office and date."""
        return "\n".join([self.title, f"办件编号：{self.case_number}", self.body, self.office,
                          _date(self.issued_at, self.tz)])

    def summary(self) -> dict[str, Any]:
        """Plain data like the rest of a view: `issued_at` stays a datetime (callers format it; the API schema
        declares a DateTime, which a string broke)."""
        return {"name": self.name, "seq": self.seq, "title": self.title, "issued_at": self.issued_at}

    @property
    def filename(self) -> str:
        suffix = f"-{self.seq}" if self.seq > 1 else ""
        return f"{self.case_number}-{self.title}{suffix}.pdf"

    def pdf(self) -> bytes:
        return render_pdf(self.title, self.case_number, self.body, self.office, _date(self.issued_at, self.tz))


def issued(conn: Connection, instance_id: int, tz: tzinfo) -> list[IssuedDocument]:
    rows = conn.execute(select(Document.__table__).where(Document.instance_id == instance_id)
                        .order_by(Document.issued_at, Document.id))
    return [IssuedDocument(r.name, r.seq, r.title, r.office, r.case_number, r.issued_at, r.text, tz) for r in rows]


def find(documents: list[IssuedDocument], name: str, seq: int | None = None) -> IssuedDocument:
    """The latest issue of `name` (or issue `seq`); NotFound otherwise."""
    matching = [d for d in documents if d.name == name and (seq is None or d.seq == seq)]
    if not matching:
        raise NotFound(f"文书不存在 (no document {name!r} for this case)")
    return max(matching, key=lambda d: d.seq)


# -- PDF -----------------------------------------------------------------------------------------

@cache
def _font() -> Path:
    if not FONT.is_file():
        raise FileNotFoundError(f"the document font is missing: {FONT}")
    return FONT


# closing marks that must not begin a line (避头点): they hang at the end of the line before instead
_NO_LINE_START = frozenset("，。、；：？！）》」』】〉”’…%,.;:?!)")


def _wrap(pdf: Any, paragraph: str) -> list[str]:
    """fpdf2's character wrap (Chinese has no spaces to break at, and word wrap would drop the ideographic-space
    indent), then 避头点, which fpdf2 does not know: a closing mark pushed to a line's start moves back one line."""
    lines = pdf.multi_cell(0, 9, paragraph, wrapmode="CHAR", dry_run=True, output="LINES")
    for i in range(1, len(lines)):
        while lines[i] and lines[i][0] in _NO_LINE_START:
            lines[i - 1], lines[i] = lines[i - 1] + lines[i][0], lines[i][1:]
    return [line for line in lines if line]


def _footer(pdf: Any, case_number: str) -> None:
    """The case number and page count on every page: a page that comes loose still says which case it is."""
    pdf.set_y(-18)
    pdf.set_font("serif", size=9)
    pdf.cell(0, 6, f"办件编号 {case_number}　第 {pdf.page_no()} 页 共 {{nb}} 页", align="C")


@lru_cache(maxsize=32)  # an issued document never changes: repeat downloads skip the ~0.3 s of font subsetting
def render_pdf(title: str, case_number: str, text: str, office: str, date: str) -> bytes:
    """A4, title centred, case number, body paragraphs (first-line indent), office and date at the right."""
    from fpdf import FPDF  # imported here: only downloads need it

    pdf = FPDF(format="A4", unit="mm")
    pdf.footer = lambda: _footer(pdf, case_number)  # type: ignore[method-assign]
    pdf.set_margins(28, 30, 26)
    pdf.set_auto_page_break(True, margin=30)
    pdf.add_font("serif", fname=str(_font()))
    pdf.set_title(f"{case_number} {title}")
    pdf.set_author(office)
    pdf.set_creator("楼宇通办 tongban")
    pdf.add_page()
    pdf.set_font("serif", size=22)
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("serif", size=11)
    pdf.cell(0, 8, f"办件编号：{case_number}", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("serif", size=14)
    lines = text.splitlines()
    for number, line in enumerate(lines):
        stripped = line.strip()
        if not stripped:
            pdf.ln(4)
            continue
        salutation = number == 0 and stripped.endswith(("：", ":"))
        for wrapped in _wrap(pdf, stripped if salutation else "\u3000\u3000" + stripped):
            pdf.cell(0, 9, wrapped, new_x="LMARGIN", new_y="NEXT")
    gap = 14 if not pdf.will_page_break(14 + 2 * 9) else 4  # a full page closes up the gap before it breaks
    if pdf.will_page_break(gap + 2 * 9):
        pdf.add_page()  # the office and date stay together
    pdf.ln(gap)
    pdf.cell(0, 9, office, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, date, align="R", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
