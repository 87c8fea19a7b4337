"""The building fund's quarterly public disclosure (DOMAIN.md C1 "Quarterly public disclosure"): for one fund and
one calendar quarter, per money source the opening balance, the income, the spending by project and the closing
balance — cash and in-kind apart, never added together.

It is read from the fund ledger as the steps posted it (engine/case/ledger.py, `ledger_entries`), counting each
entry in the quarter of its instant in the district's time zone (an entry at 2026-09-30 23:59 +08:00 is Q3). A
quarter is published from the fund's first posting up to the current one (still open, marked so); any other is
unknown (404), like a fund that has posted nothing.

No personal data: income is aggregated per source (count and total). A donor is named only when the contribution
was filed from an enterprise account and its case data says `donor_public: true` (a field a contribution form
may offer); the name is then the case's `donor_name`. Spending names each project by its case's `project_name`
and its category by the title the case's own form gives the category option.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import Connection, Row, select

from engine.base import clock
from engine.base.errors import NotFound
from engine.base.settings import Settings
from engine.base.vocabulary import EventKind
from engine.case.ledger import CENT, CREDIT, SOURCES, Source
from engine.definitions.compiler import CompiledProcess
from engine.store.db import Database
from engine.store.models import Event, Instance, LedgerEntry

_QUARTER = re.compile(r"(\d{4})Q([1-4])", re.ASCII)
_ZH_NUMBER = "一二三四"
#: the case-data keys read for names (top-level fields, as the field history records them)
PROJECT_NAME, DONOR_NAME, DONOR_PUBLIC = "project_name", "donor_name", "donor_public"
ZERO = Decimal("0.00")
MAX_FUND_CODE = 64  # fund_accounts.fund_code


class Books(Protocol):
    """What the disclosure reads through (the runtime is one): the database, the district's time zone, and the
    compiled process version of a case (for its forms' category titles)."""

    db: Database
    settings: Settings

    def compiled_version(self, conn: Connection, version_id: int) -> tuple[int, CompiledProcess]: ...


@dataclass(frozen=True, order=True)
class Quarter:
    year: int
    number: int  # 1–4

    @classmethod
    def parse(cls, text: str) -> Quarter:
        """`2026Q3`; anything else names no quarter (NotFound: it is a path segment, like a fund code)."""
        match = _QUARTER.fullmatch(text)
        if match is None or not 1900 <= int(match[1]) <= 9998:
            raise NotFound(f"季度格式应为 2026Q3 (no quarter {text[:20]!r}: write it like 2026Q3)")
        return cls(int(match[1]), int(match[2]))

    @classmethod
    def of(cls, moment: datetime, tz: tzinfo) -> Quarter:
        local = moment.astimezone(tz)
        return cls(local.year, (local.month - 1) // 3 + 1)

    def start(self, tz: tzinfo) -> datetime:
        return datetime(self.year, 3 * self.number - 2, 1, tzinfo=tz)

    def following(self) -> Quarter:
        return Quarter(self.year + self.number // 4, self.number % 4 + 1)

    def end(self, tz: tzinfo) -> datetime:
        """The first instant of the next quarter (the quarter is [start, end))."""
        return self.following().start(tz)

    def __str__(self) -> str:
        return f"{self.year}Q{self.number}"

    @property
    def zh(self) -> str:
        return f"{self.year}年第{_ZH_NUMBER[self.number - 1]}季度"

    @property
    def en(self) -> str:
        return f"Q{self.number} {self.year}"


def yuan(amount: Decimal) -> str:
    """¥40,000.00: two decimals, thousands separated, from the Decimal (never through a float)."""
    return f"¥{amount.quantize(CENT):,.2f}"


@dataclass(frozen=True)
class Project:
    """What one project of the fund spent from one source in the quarter."""

    case_number: str
    name: str
    category: str | None
    category_name: str | None
    amount: Decimal
    payments: int


@dataclass(frozen=True)
class Donor:
    """Income from one named enterprise donor, or (name None) from all the others together."""

    name: str | None
    amount: Decimal
    contributions: int


@dataclass
class SourceReport:
    source: Source
    opening: Decimal = ZERO
    income: Decimal = ZERO
    spending: Decimal = ZERO
    donors: list[Donor] = field(default_factory=list)
    projects: list[Project] = field(default_factory=list)

    @property
    def closing(self) -> Decimal:
        return self.opening + self.income - self.spending


@dataclass(frozen=True)
class Totals:
    opening: Decimal
    income: Decimal
    spending: Decimal
    closing: Decimal


@dataclass(frozen=True)
class Disclosure:
    fund_code: str
    quarter: Quarter
    period_start: datetime
    period_end: datetime
    closed: bool  # the quarter is over: its figures are final
    as_of: datetime  # when these figures were read
    sources: list[SourceReport]

    @property
    def last_day(self) -> date:
        return (self.period_end - timedelta(days=1)).date()

    def of(self, cash: bool) -> list[SourceReport]:
        return [s for s in self.sources if s.source.cash is cash]

    def totals(self, cash: bool) -> Totals:
        rows = self.of(cash)
        return Totals(*(sum((getattr(r, k) for r in rows), ZERO) for k in ("opening", "income", "spending",
                                                                            "closing")))


# -- reading -------------------------------------------------------------------------------------------------------

def _first_posting(conn: Connection, fund: str) -> datetime | None:
    return conn.execute(select(LedgerEntry.at).where(LedgerEntry.fund_code == fund)
                        .order_by(LedgerEntry.at, LedgerEntry.id).limit(1)).scalar()


def published(conn: Connection, fund: str, tz: tzinfo) -> list[Quarter]:
    """The quarters a fund discloses, oldest first: from its first posting's to the current one; [] when the fund
    has posted nothing (there is then no such fund to disclose)."""
    if not 0 < len(fund) <= MAX_FUND_CODE or "\x00" in fund:  # no such fund (and PostgreSQL refuses a NUL)
        return []
    first = _first_posting(conn, fund)
    if first is None:
        return []
    quarter, current = Quarter.of(first, tz), Quarter.of(clock.now(), tz)
    quarters = []
    while quarter <= current:
        quarters.append(quarter)
        quarter = quarter.following()
    return quarters


def quarters(runtime: Books, fund: str) -> list[Quarter]:
    """The fund's published quarters; NotFound for a fund that has posted nothing."""
    with runtime.db.reading() as conn:
        found = published(conn, fund, runtime.settings.timezone)
    if not found:
        raise NotFound(f"基金不存在 (no fund {fund[:64]!r})")
    return found


def disclosure(runtime: Books, fund: str, quarter_text: str) -> Disclosure:
    """One fund's disclosure for one quarter (`2026Q3`); NotFound for an unknown fund, a malformed quarter, or a
    quarter the fund does not publish (before its first posting, or still to come)."""
    quarter, tz = Quarter.parse(quarter_text), runtime.settings.timezone
    with runtime.db.reading() as conn:
        if quarter not in published(conn, fund, tz):
            raise NotFound(f"基金 {fund[:64]} 无 {quarter} 的公示 (no disclosure of fund {fund[:64]!r} for {quarter})")
        start, end = quarter.start(tz), quarter.end(tz)
        entries = conn.execute(select(LedgerEntry.__table__).where(LedgerEntry.fund_code == fund,
                                                                   LedgerEntry.at < end).order_by(LedgerEntry.id)).all()
        within = [e for e in entries if e.at >= start]
        cases = _cases(runtime, conn, {e.instance_id for e in within})
    reports = {code: SourceReport(source) for code, source in SOURCES.items()}
    for entry in entries:
        change = entry.amount if entry.direction == CREDIT else -entry.amount
        report = reports[entry.source]
        if entry.at < start:
            report.opening += change
        elif entry.direction == CREDIT:
            report.income += entry.amount
        else:
            report.spending += entry.amount
    for code, report in reports.items():
        mine = [e for e in within if e.source == code]
        report.donors = _donors([e for e in mine if e.direction == CREDIT], cases)
        report.projects = _projects([e for e in mine if e.direction != CREDIT], cases)
    now = clock.now()
    return Disclosure(fund, quarter, start, end, now >= end, now, list(reports.values()))


@dataclass(frozen=True)
class _Case:
    case_number: str
    from_enterprise: bool
    values: dict[str, Any]
    compiled: CompiledProcess


def _cases(runtime: Books, conn: Connection, ids: set[int]) -> dict[int, _Case]:
    """The cases behind the quarter's entries: case number, whether an enterprise filed it, the latest value of
    each name field its history records (a correction later in the case wins), and its process version."""
    if not ids:
        return {}
    values: dict[int, dict[str, Any]] = defaultdict(dict)
    wanted = {f"/{k}": k for k in (PROJECT_NAME, DONOR_NAME, DONOR_PUBLIC)}
    events = conn.execute(select(Event.instance_id, Event.detail).where(
        Event.instance_id.in_(ids),
        Event.kind.in_((EventKind.STARTED, EventKind.TASK_COMPLETED, EventKind.DATA_CHANGED))).order_by(Event.id))
    for instance_id, detail in events:
        for change in (detail or {}).get("changes") or []:
            if change.get("path") in wanted:
                values[instance_id][wanted[change["path"]]] = change.get("new")
    rows = conn.execute(select(Instance.id, Instance.case_number, Instance.enterprise_id, Instance.version_id)
                        .where(Instance.id.in_(ids)))
    return {r.id: _Case(r.case_number, r.enterprise_id is not None, values[r.id],
                        runtime.compiled_version(conn, r.version_id)[1]) for r in rows}


def _donors(credits: list[Row[Any]], cases: dict[int, _Case]) -> list[Donor]:
    """Named enterprise donors who chose to be named (largest first), then everyone else as one line."""
    named: dict[str, list[Decimal]] = defaultdict(list)
    others: list[Decimal] = []
    for entry in credits:
        case = cases[entry.instance_id]
        name = case.values.get(DONOR_NAME)
        public = case.from_enterprise and case.values.get(DONOR_PUBLIC) is True and isinstance(name, str)
        (named[str(name).strip()] if public and str(name).strip() else others).append(entry.amount)
    donors = sorted((Donor(n, sum(a, ZERO), len(a)) for n, a in named.items()), key=lambda d: (-d.amount, d.name))
    return donors + ([Donor(None, sum(others, ZERO), len(others))] if others else [])


def _projects(debits: list[Row[Any]], cases: dict[int, _Case]) -> list[Project]:
    """The quarter's payments from one source summed per project, in the order the projects first paid."""
    by_case: dict[int, list[Row[Any]]] = defaultdict(list)
    for entry in debits:
        by_case[entry.instance_id].append(entry)
    projects = []
    for instance_id, paid in by_case.items():
        case, category = cases[instance_id], paid[0].category
        name = case.values.get(PROJECT_NAME)
        projects.append(Project(case.case_number, str(name) if name else case.case_number, category,
                                category_title(case.compiled, paid[0].element_id, category),
                                sum((e.amount for e in paid), ZERO), len(paid)))
    return projects


def category_title(compiled: CompiledProcess, element_id: str, code: str | None) -> str | None:
    """The title the process's forms give the category option `code` (`facade` → 外立面整治), read from the
    field the paying element's `ledgerCategory` names; the code itself when no form has the option."""
    if code is None:
        return None
    field_name = _category_field(compiled, element_id)
    for form in compiled.forms.values():
        prop = (form.schema.get("properties") or {}).get(field_name)
        for option in _options(prop):
            if option.get("const") == code and option.get("title"):
                return str(option["title"])
    return code


def _category_field(compiled: CompiledProcess, element_id: str) -> str:
    for spec in (compiled.spec, *compiled.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if getattr(task_spec, "bpmn_id", None) == element_id:
                props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
                expression = str(props.get("ledgerCategory", "category")).strip()
                return expression if expression.isidentifier() else "category"
    return "category"


def _options(prop: Any) -> Iterable[dict[str, Any]]:
    if not isinstance(prop, dict):
        return ()
    return [o for o in prop.get("oneOf") or prop.get("anyOf") or () if isinstance(o, dict)]


# -- plain data (the API) -----------------------------------------------------------------------------------------

def _money(amount: Decimal) -> str:
    return str(amount.quantize(CENT))


def as_dict(d: Disclosure) -> dict[str, Any]:
    """The disclosure as the API sends it: amounts as decimal strings ("40000.00"), never floats."""
    def source(r: SourceReport) -> dict[str, Any]:
        return {"source": r.source.code, "name": {"zh": r.source.zh, "en": r.source.en}, "cash": r.source.cash,
                "ring_fenced": r.source.purpose is not None, "opening": _money(r.opening),
                "income": _money(r.income), "spending": _money(r.spending), "closing": _money(r.closing),
                "donors": [{"name": x.name, "amount": _money(x.amount), "contributions": x.contributions}
                           for x in r.donors],
                "projects": [{"case_number": p.case_number, "name": p.name, "category": p.category,
                              "category_name": p.category_name, "amount": _money(p.amount), "payments": p.payments}
                             for p in r.projects]}

    def totals(t: Totals) -> dict[str, str]:
        return {k: _money(getattr(t, k)) for k in ("opening", "income", "spending", "closing")}

    return {"fund_code": d.fund_code, "quarter": str(d.quarter), "name": {"zh": d.quarter.zh, "en": d.quarter.en},
            "period_start": d.period_start, "period_end": d.period_end, "closed": d.closed, "as_of": d.as_of,
            "sources": [source(r) for r in d.sources],
            "totals": {"cash": totals(d.totals(True)), "in_kind": totals(d.totals(False))}}
