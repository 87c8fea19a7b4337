"""The "135" supervision dashboard (DOMAIN.md D.7): on time, overdue, 督办 and satisfaction by unit and building.

Every figure is one SQL query over `case_facts` (the keys processes/qysq/process.yaml lists
under `report:`) joined to the cases' `handle` tasks and their fired overdue timers: no workflow
is read.  督办 and 报督查室 are what the engine did (the `b_overdue` / `b_report` boundary timers
fired), not flags a script might forget to set.  A case counts as
finished when its handling unit has completed `handle` and no `handle` task is open again (a
quality check sent back or a reopening makes it unfinished), and as on time when that last
completion came no later than its deadline: the task's own due time, else the case's `due_at`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

from sqlalchemy import Select, and_, case, func, or_, select
from sqlalchemy.sql.elements import ColumnElement

from engine.base.clock import now
from engine.base.errors import Forbidden
from engine.base.vocabulary import HumanTaskState, TimerState
from engine.people.access import Actor, may_supervise
from engine.store.calendars import calendar_from_db
from engine.store.db import Database
from engine.store.models import CaseFact, HumanTask, Instance, Organisation, Timer

PROCESS_KEY = "qysq_request"
HANDLE = "handle"
SUPERVISED_TIMER, REPORTED_TIMER = "b_overdue", "b_report"  # processes/qysq/qysq.bpmn, on `handle`
#: The follow-up call's five levels (forms/qysq_rating.json), best first; the first three count as satisfied.
LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
SATISFIED = LEVELS[:3]


@dataclass(frozen=True)
class Period:
    """Cases started from `start` to `end`, both days included, in the district's time zone."""

    start: date
    end: date

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        return (datetime.combine(self.start, time(), tz),
                datetime.combine(self.end + timedelta(days=1), time(), tz))


@dataclass
class Figures:
    """One row of a by-unit or by-building table (or the total)."""

    key: str | None
    label: str | None
    requests: int = 0
    finished: int = 0
    on_time: int = 0
    overdue: int = 0
    supervised: int = 0
    reported: int = 0
    ratings: dict[str, int] = field(default_factory=dict)

    @property
    def on_time_rate(self) -> float | None:
        return self.on_time / self.finished if self.finished else None

    @property
    def rated(self) -> int:
        return sum(self.ratings.values())

    @property
    def satisfied_share(self) -> float | None:
        return sum(self.ratings.get(level, 0) for level in SATISFIED) / self.rated if self.rated else None


@dataclass(frozen=True)
class CaseLine:
    """A case in the overdue or the 督办 list."""

    id: int
    case_number: str
    enterprise: str | None
    building: str | None
    unit: str | None
    due: datetime | None
    days_overdue: int | None  # working days past due, while the handling is still open
    status: str
    reported: bool


@dataclass
class Dashboard:
    period: Period
    total: Figures
    by_unit: list[Figures]
    by_building: list[Figures]
    overdue: list[CaseLine]
    supervised: list[CaseLine]


def _cases(lo: datetime, hi: datetime, at: datetime) -> Any:
    """One row per case started in [lo, hi): its facts, and whether it is finished, on time, overdue now."""
    facts = {n: CaseFact.__table__.alias(f"f_{n}") for n in ("lead_unit", "building", "due_at", "rating")}
    tasks, timers = HumanTask.__table__, Timer.__table__
    in_range = select(Instance.id).where(Instance.process_key == PROCESS_KEY, Instance.created_at >= lo,
                                         Instance.created_at < hi)
    handle = (select(tasks.c.instance_id,
                     func.sum(case((tasks.c.state == HumanTaskState.READY, 1), else_=0)).label("open"),
                     func.max(case((tasks.c.state == HumanTaskState.COMPLETED, tasks.c.completed_at)))
                     .label("last_done"),
                     func.min(case((tasks.c.state == HumanTaskState.READY, tasks.c.due_at))).label("open_due"))
              .where(tasks.c.instance_id.in_(in_range), tasks.c.element_id == HANDLE,
                     tasks.c.state.in_((HumanTaskState.READY, HumanTaskState.COMPLETED)))
              .group_by(tasks.c.instance_id).subquery("handle"))
    fired = (select(timers.c.instance_id,
                    func.max(_flag(timers.c.element_id == SUPERVISED_TIMER)).label("supervised"),
                    func.max(_flag(timers.c.element_id == REPORTED_TIMER)).label("reported"))
             .where(timers.c.instance_id.in_(in_range), timers.c.state == TimerState.FIRED,
                    timers.c.element_id.in_((SUPERVISED_TIMER, REPORTED_TIMER)))
             .group_by(timers.c.instance_id).subquery("fired"))
    last = tasks.alias("last_handle")
    enterprise, unit = Organisation.__table__.alias("enterprise"), Organisation.__table__.alias("unit")
    case_due = facts["due_at"].c.moment
    finished = and_(handle.c.open == 0, handle.c.last_done.is_not(None))
    done_by = func.coalesce(last.c.due_at, case_due)
    open_due = func.coalesce(handle.c.open_due, case_due)
    query = (
        select(Instance.id, Instance.case_number, Instance.status, enterprise.c.name.label("enterprise"),
               facts["lead_unit"].c.value.label("unit"), unit.c.name.label("unit_name"),
               facts["building"].c.value.label("building"), facts["rating"].c.value.label("rating"),
               _flag(finished).label("finished"),
               _flag(and_(finished, or_(done_by.is_(None), handle.c.last_done <= done_by))).label("on_time"),
               _flag(and_(handle.c.open > 0, open_due < at)).label("overdue"),
               func.coalesce(fired.c.supervised, 0).label("supervised"),
               func.coalesce(fired.c.reported, 0).label("reported"),
               case((handle.c.open > 0, open_due), else_=case_due).label("due"))
        .select_from(Instance)
        .outerjoin(enterprise, enterprise.c.id == Instance.enterprise_id)
        .outerjoin(handle, handle.c.instance_id == Instance.id)
        .outerjoin(fired, fired.c.instance_id == Instance.id)
        .outerjoin(last, and_(last.c.instance_id == Instance.id, last.c.element_id == HANDLE,
                              last.c.state == HumanTaskState.COMPLETED, last.c.completed_at == handle.c.last_done))
    )
    for name, alias in facts.items():
        query = query.outerjoin(alias, and_(alias.c.instance_id == Instance.id, alias.c.name == name))
    query = query.outerjoin(unit, unit.c.code == facts["lead_unit"].c.value)
    return query.where(Instance.process_key == PROCESS_KEY, Instance.created_at >= lo,
                       Instance.created_at < hi).subquery("cases")


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 or 0 (never NULL, whatever the outer joins left empty), so flags add up on every database."""
    return case((condition, 1), else_=0)


def _figures(cases: Any, *group: ColumnElement[Any]) -> Select[Any]:
    ratings = [func.sum(case((cases.c.rating == level, 1), else_=0)) for level in LEVELS]
    query = select(*group, func.count(), func.sum(cases.c.finished), func.sum(cases.c.on_time),
                   func.sum(cases.c.overdue), func.sum(cases.c.supervised), func.sum(cases.c.reported), *ratings)
    return query.group_by(*group).order_by(group[0].is_(None), *group) if group else query  # "none" last


def _row_figures(key: str | None, label: str | None, counts: Any) -> Figures:
    n = [int(c or 0) for c in counts]
    return Figures(key, label, *n[:6], ratings=dict(zip(LEVELS, n[6:], strict=True)))


def dashboard(db: Database, actor: Actor, period: Period, tz: tzinfo) -> Dashboard:
    """The figures, tables and lists for one period; only supervisors may ask (403 for anyone else)."""
    if not may_supervise(actor):
        raise Forbidden("仅企业服务中心、督查室和管理员可查看督办统计 (supervisors only)")
    at = now()
    cases = _cases(*period.bounds(tz), at)
    lines = select(cases.c.id, cases.c.case_number, cases.c.enterprise, cases.c.building,
                   func.coalesce(cases.c.unit_name, cases.c.unit), cases.c.due, cases.c.status,
                   cases.c.reported, cases.c.overdue)
    with db.read() as session:
        calendar = calendar_from_db(session, tz)
        conn = session.connection()
        total = _row_figures(None, None, conn.execute(_figures(cases)).one())
        by_unit = [_row_figures(r[0], r[1] or r[0], r[2:])
                   for r in conn.execute(_figures(cases, cases.c.unit, cases.c.unit_name))]
        by_building = [_row_figures(r[0], r[0], r[1:]) for r in conn.execute(_figures(cases, cases.c.building))]
        overdue = conn.execute(lines.where(cases.c.overdue == 1).order_by(cases.c.due, cases.c.id)).all()
        supervised = conn.execute(lines.where(cases.c.supervised == 1).order_by(cases.c.id)).all()

    def line(row: Any) -> CaseLine:
        late = calendar.working_days_between(row[5], at) if row[8] and row[5] is not None else None
        return CaseLine(row[0], row[1], row[2], row[3], row[4], row[5], late, row[6], bool(row[7]))

    return Dashboard(period, total, by_unit, by_building, [line(r) for r in overdue], [line(r) for r in supervised])


def default_period(tz: tzinfo) -> Period:
    """This year so far: what the centre reports on unless asked otherwise."""
    today = now().astimezone(tz).date()
    return Period(today.replace(month=1, day=1), today)

