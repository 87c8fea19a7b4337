"""Documents the applicant receives: issued when an element completes, frozen as text, printed as PDF.

A process folder's `documents.yaml` holds its templates (title, issuing office, body as a sandboxed
Jinja template over the case data). An element with the property `document` (template names,
comma-separated) issues them when it completes, in the same transaction as the step. The text is
rendered once, at issue, and kept: a later change to a template never alters a notice already sent.
The PDF (A4, embedded CJK font) is rendered from that text on download. Each document carries a verification
code (engine/case/verification.py), printed in its footer and as a QR code of the public address that answers
for it (`verified` here, `GET /verify/{code}`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

from jinja2 import TemplateError
from SpiffWorkflow.task import TaskState
from sqlalchemy import Connection, func, select

from engine.base.errors import FormInvalid, NotFound
from engine.base.vocabulary import EventKind, Outcome
from engine.case import opinions, verification
from engine.case.history import element_names
from engine.case.output import StepOutput
from engine.store.db import Database
from engine.store.models import Document, Event, Instance

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
    case_number = out.case_number
    for task, name in todo:
        template = templates[name]
        seq = conn.execute(select(func.count()).select_from(Document).where(
            Document.instance_id == instance_id, Document.name == name)).scalar_one() + 1
        context = {**task.data, "case_number": case_number, "issue_date": _date(at, tz)}
        try:
            text, office = template.render(context), template.render_office(context)
            if template.opinions and (trail := opinions.printed(
                    opinions.trail(conn, instance_id, element_names(out.compiled), with_internal=False), tz)):
                text = f"{text}\n{trail}"
        except TemplateError as exc:  # e.g. `x[:10]` of a field the data lacks: refuse the step, like the ledger
            element = task.task_spec.bpmn_id
            raise FormInvalid(f"文书 {name} 无法生成 (document {name} of {element} failed: {exc})") from None
        conn.execute(Document.__table__.insert().values(
            instance_id=instance_id, task_id=str(task.id), element_id=task.task_spec.bpmn_id, name=name, seq=seq,
            title=template.title, office=office, case_number=case_number, issued_at=at, text=text,
            verification_code=verification.new_code()))


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
    verification_code: str | None = None
    public_url: str | None = None  # where the verification address points (settings.public_url)

    @property
    def verify_url(self) -> str | None:
        if self.verification_code is None or self.public_url is None:
            return None
        return verification.verify_url(self.public_url, self.verification_code)

    @property
    def text(self) -> str:
        """The whole notice as printed: title, case number, body, issuing office and date, and the footer that
        tells how to verify it."""
        return "\n".join([self.title, f"办件编号：{self.case_number}", self.body, self.office,
                          _date(self.issued_at, self.tz), *self._verify_lines()])

    def _verify_lines(self) -> list[str]:
        if self.verification_code is None:
            return []
        line = f"文书验证码：{verification.display(self.verification_code)}"
        return [line + (f"（核验网址 {self.verify_url}）" if self.verify_url else "")]

    def summary(self) -> dict[str, Any]:
        """Plain data like the rest of a view: `issued_at` stays a datetime (callers format it; the API schema
        declares a DateTime, which a string broke)."""
        return {"name": self.name, "seq": self.seq, "title": self.title, "issued_at": self.issued_at}

    @property
    def filename(self) -> str:
        suffix = f"-{self.seq}" if self.seq > 1 else ""
        return f"{self.case_number}-{self.title}{suffix}.pdf"

    def pdf(self) -> bytes:
        code = None if self.verification_code is None else verification.display(self.verification_code)
        return render_pdf(self.title, self.case_number, self.body, self.office, _date(self.issued_at, self.tz),
                          code, self.verify_url)


def issued(conn: Connection, instance_id: int, tz: tzinfo, public_url: str | None = None) -> list[IssuedDocument]:
    rows = conn.execute(select(Document.__table__).where(Document.instance_id == instance_id)
                        .order_by(Document.issued_at, Document.id))
    return [IssuedDocument(r.name, r.seq, r.title, r.office, r.case_number, r.issued_at, r.text, tz,
                           r.verification_code, public_url) for r in rows]


@dataclass(frozen=True)
class Standing:
    """Whether a verified document still stands today: `valid`, or `superseded` by a later issue of the same
    document in its case, or `revoked` with the case's licence or registration (outcome revoked after it was
    issued) — with the district's date it stopped standing and a sentence for the reader, zh-CN and English."""

    status: str  # valid | superseded | revoked
    since: date | None
    zh: str
    en: str


VALID = Standing("valid", None, "本文书现行有效。", "This document is in force.")


@dataclass(frozen=True)
class Verified:
    """All that a verification tells: what the paper shows on its face (no applicant, no body), and whether it
    still stands (a printed notice can be genuine and no longer in force)."""

    case_number: str
    title: str
    office: str
    issued_on: date  # the district's date: the time of day is not on the paper, so a check does not tell it
    issue_date: str  # as printed, e.g. 2026年11月22日
    standing: Standing = VALID


def _standing(conn: Connection, instance_id: int, name: str, seq: int, issued_at: datetime, tz: tzinfo) -> Standing:
    """A revocation of the case after the document was issued outranks a reissue: the revocation decision itself
    (issued in the revoking step) and anything later stand; earlier papers of the case do not."""
    revoked_at = conn.execute(
        select(Event.at).join(Instance, Instance.id == Event.instance_id)
        .where(Event.instance_id == instance_id, Event.kind == EventKind.OUTCOME_SET,
               Instance.outcome == Outcome.REVOKED)
        .order_by(Event.id.desc()).limit(1)).scalar()
    if revoked_at is not None and issued_at < revoked_at:
        on = _date(revoked_at, tz)
        return Standing("revoked", revoked_at.astimezone(tz).date(),
                        f"本办件的许可/备案已于{on}被撤销，本文书不再有效。",
                        f"The licence or registration of this case was revoked on "
                        f"{revoked_at.astimezone(tz).date().isoformat()}; this document is no longer in force.")
    later = conn.execute(select(Document.seq, Document.issued_at).where(
        Document.instance_id == instance_id, Document.name == name, Document.seq > seq)
        .order_by(Document.seq).limit(1)).first()
    if later is not None:
        on = later.issued_at.astimezone(tz).date()
        return Standing("superseded", on,
                        f"本文书已被{_date(later.issued_at, tz)}重新出具的同名文书（第 {later.seq} 次出具）取代，"
                        f"以新文书为准。",
                        f"This document was superseded on {on.isoformat()} by a later issue (issue {later.seq}); "
                        f"the later one is in force.")
    return VALID


def verified(conn: Connection, code: str, tz: tzinfo) -> Verified | None:
    """The document a verification code belongs to, or None: unknown and malformed codes alike, each after the
    same one probe of the unique index (a malformed one looks up a code that matches nothing)."""
    row = conn.execute(select(Document.instance_id, Document.name, Document.seq, Document.case_number,
                              Document.title, Document.office, Document.issued_at)
                       .where(Document.verification_code == (verification.normalise(code) or verification.NEVER))
                       ).first()
    if row is None:
        return None
    return Verified(row.case_number, row.title, row.office, row.issued_at.astimezone(tz).date(),
                    _date(row.issued_at, tz), _standing(conn, row.instance_id, row.name, row.seq, row.issued_at, tz))


def verify(db: Database, code: str, tz: tzinfo) -> Verified:
    """What `GET /verify/{code}` answers (public: no actor); NotFound alike for an unknown and a malformed code."""
    with db.reading() as conn:
        found = verified(conn, code, tz)
    if found is None:
        raise NotFound("未找到该验证码对应的文书 (no document has this verification code)")
    return found


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
# an amount or a number (￥40,000.00, 2026-03-02, 77.78%) is never broken over two lines
_NUMBER_CHARS = frozenset("0123456789.,%-")
_NUMBER_END = re.compile(r"[￥¥]?[0-9][0-9.,%-]*$")


def _wrap(pdf: Any, paragraph: str) -> list[str]:
    """fpdf2's character wrap (Chinese has no spaces to break at, and word wrap would drop the ideographic-space
    indent), then 避头点, which fpdf2 does not know: a closing mark pushed to a line's start moves back one line."""
    lines = pdf.multi_cell(0, 9, paragraph, wrapmode="CHAR", dry_run=True, output="LINES")
    for i in range(1, len(lines)):
        while lines[i] and lines[i][0] in _NO_LINE_START:
            lines[i - 1], lines[i] = lines[i - 1] + lines[i][0], lines[i][1:]
        split = _NUMBER_END.search(lines[i - 1])
        if split and lines[i][:1] in _NUMBER_CHARS and split.start() > 0:  # a number cut in two moves down whole
            lines[i - 1], lines[i] = lines[i - 1][:split.start()], split.group() + lines[i]
    return [line for line in lines if line]


def _footer(pdf: Any, case_number: str, code: str | None) -> None:
    """The case number, verification code and page count on every page: a page that comes loose still says
    which case it is and how to check it."""
    pdf.set_y(-18)
    pdf.set_font("serif", size=9)
    verify = f"　验证码 {code}" if code else ""
    pdf.cell(0, 6, f"办件编号 {case_number}{verify}　第 {pdf.page_no()} 页 共 {{nb}} 页", align="C")


QR_SIZE = 24  # mm: some 0.7 mm a module for a verification address, well above what phone cameras read


def _qr(pdf: Any, url: str, x: float, y: float) -> None:
    """The QR code of `url` as filled rectangles (one per run of dark modules): vector, so it prints sharp."""
    import segno  # imported here: only downloads need it

    rows = [list(row) for row in segno.make(url, error="m", micro=False).matrix_iter(scale=1, border=0)]
    module = QR_SIZE / len(rows)
    for r, row in enumerate(rows):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            run = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + run * module, y + r * module, (c - run) * module, module, style="F")


@lru_cache(maxsize=32)  # an issued document never changes: repeat downloads skip the ~0.3 s of font subsetting
def render_pdf(title: str, case_number: str, text: str, office: str, date: str, code: str | None = None,
               verify_url: str | None = None) -> bytes:
    """A4, title centred, case number, body paragraphs (first-line indent), office and date at the right, and
    at the left of them the QR code of the verification address with the code under it."""
    from fpdf import FPDF  # imported here: only downloads need it

    pdf = FPDF(format="A4", unit="mm")
    pdf.footer = lambda: _footer(pdf, case_number, code)  # type: ignore[method-assign]
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
    block = QR_SIZE + 8 if verify_url else 2 * 9  # the office and date, beside the QR code when there is one
    gap = 14 if not pdf.will_page_break(14 + block) else 4  # a full page closes up the gap before it breaks
    if pdf.will_page_break(gap + block):
        pdf.add_page()  # the office, date and QR code stay together
    pdf.ln(gap)
    top = pdf.get_y()
    pdf.cell(0, 9, office, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.cell(0, 9, date, align="R", new_x="LMARGIN", new_y="NEXT")
    if verify_url:
        _qr(pdf, verify_url, pdf.l_margin, top)
        pdf.set_xy(pdf.l_margin, top + QR_SIZE + 3)  # past the quiet zone a reader needs
        pdf.set_font("serif", size=8)
        pdf.cell(0, 4, f"扫码核验 · 验证码 {code}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
