"""The "135" supervision dashboard (DOMAIN.md D.7): on time, overdue, 督办 and satisfaction by unit and building.

Which process it watches, and which of its elements mean what, the process itself declares: a
`supervision:` section in its process.yaml (processes/qysq/process.yaml) names the handling task,
the tasks whose deadlines count as overdue (the 1-day dispatch pledge as well as handling), and
the boundary timers whose firing means 督办 and 报督查室.  Renaming an element in the diagram is a
change to that file, not to this module.

Every figure is one SQL query over `case_facts` (the keys the process lists under `report:`)
joined to the cases' tasks and their fired timers: no workflow is read.  督办 and 报督查室 are
what the engine did (the declared timers fired), not flags a script might forget to set.  A case
counts as finished when its handling unit has completed the handling task and no such task is
open again (a quality check sent back or a reopening makes it unfinished), and as on time when
that last completion came no later than its deadline: the task's own due time, else the case's
`due_at`.  A case closed "not rated" (the enterprise let the rating period pass) is counted on its
own, outside the five levels and the satisfied share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any

import yaml
from sqlalchemy import Select, and_, case, func, literal, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from engine.base.clock import now
from engine.base.errors import Forbidden
from engine.base.vocabulary import HumanTaskState, TimerState
from engine.definitions.workspace import MANIFEST_NAME
from engine.people.access import Actor, may_supervise
from engine.runtime.urging import UrgeFigure, urge_figures
from engine.store.calendars import calendar_from_db
from engine.store.db import Database
from engine.store.models import CaseFact, HumanTask, Instance, Organisation, ProcessVersion, Timer

#: The follow-up call's five levels (forms/qysq_rating.json), best first; the first three count as satisfied.
LEVELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")
SATISFIED = LEVELS[:3]
#: The rating a case gets when the enterprise let the rating period pass (processes/qysq/qysq.bpmn `not_rated`).
NOT_RATED = "未评价"
SECTION = "supervision"


@dataclass(frozen=True)
class Watched:
    """A process's `supervision:` section: which of its elements the dashboard reads, and as what."""

    process_key: str
    handling: str  # the task whose completion finishes the case
    deadlines: tuple[str, ...]  # tasks an open one of which, past its due time, makes the case overdue
    supervised: tuple[str, ...]  # timers whose firing is 督办
    reported: tuple[str, ...]  # timers whose firing is 报督查室

    @classmethod
    def from_manifest(cls, process_key: str, section: object) -> Watched:
        """Read the section; ValueError says what is missing, so a bad manifest is not silently ignored."""
        if not isinstance(section, dict) or not isinstance(section.get("handling"), str):
            raise ValueError(f"{process_key}: {SECTION}.handling 须为办理任务的元素 id (must name the handling task)")
        lists = {}
        for key in ("deadlines", "supervised", "reported"):
            value = section.get(key, [])
            if not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
                raise ValueError(f"{process_key}: {SECTION}.{key} 须为元素 id 列表 (must be a list of element ids)")
            lists[key] = tuple(value)
        deadlines = lists["deadlines"] if section["handling"] in lists["deadlines"] else \
            (section["handling"], *lists["deadlines"])
        return cls(process_key, section["handling"], deadlines, lists["supervised"], lists["reported"])

    @property
    def waiting(self) -> tuple[str, ...]:
        """The deadline tasks other than handling (dispatch, sign): overdue while open past their due time."""
        return tuple(e for e in self.deadlines if e != self.handling)


def watched_processes(session: Session) -> list[Watched]:
    """Every process whose newest deployed version declares a `supervision:` section, in key order."""
    newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_key).subquery())
    rows = session.execute(select(ProcessVersion.process_key, ProcessVersion.files)
                           .join(newest, and_(newest.c.process_key == ProcessVersion.process_key,
                                              newest.c.version == ProcessVersion.version))
                           .order_by(ProcessVersion.process_key)).all()
    found = []
    for key, files in rows:
        for path, text in (files or {}).items():
            if not path.endswith("/" + MANIFEST_NAME):
                continue
            raw = yaml.safe_load(text) or {}
            if raw.get("key") == key and SECTION in raw:
                found.append(Watched.from_manifest(key, raw[SECTION]))
    return found


@dataclass(frozen=True)
class Period:
    """Cases started from `start` to `end`, both days included, in the district's time zone."""

    start: date
    end: date

    def bounds(self, tz: tzinfo) -> tuple[datetime, datetime]:
        """[start's midnight, the midnight after end), kept a day inside what Python can hold in UTC: a period
        asked up to 9999-12-31 (or from 0001-01-01) was an OverflowError, a 500, not "every case"."""
        first, last = date.min + timedelta(days=1), date.max - timedelta(days=1)
        return (datetime.combine(min(max(self.start, first), last), time(), tz),
                datetime.combine(min(max(self.end, first), last) + timedelta(days=1), time(), tz))


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
    not_rated: int = 0  # closed without a rating after the rating period: neither satisfied nor not

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
    days_overdue: int | None  # working days past due, while the task (dispatch or handling) is still open
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
    urges: list[UrgeFigure] = field(default_factory=list)  # 催办 made in the period, per unit and process


def _cases(watched: Watched, lo: datetime, hi: datetime, at: datetime) -> Select[Any]:
    """One row per case of `watched` started in [lo, hi): its facts, and whether it is finished, on time, overdue."""
    facts = {n: CaseFact.__table__.alias(f"f_{n}") for n in ("lead_unit", "building", "due_at", "rating")}
    tasks, timers = HumanTask.__table__, Timer.__table__
    in_range = select(Instance.id).where(Instance.process_key == watched.process_key, Instance.created_at >= lo,
                                         Instance.created_at < hi)
    ready = tasks.c.state == HumanTaskState.READY
    handle = (select(tasks.c.instance_id,
                     func.sum(case((ready, 1), else_=0)).label("open"),
                     func.max(case((tasks.c.state == HumanTaskState.COMPLETED, tasks.c.completed_at)))
                     .label("last_done"),
                     func.min(case((ready, tasks.c.due_at))).label("open_due"))
              .where(tasks.c.instance_id.in_(in_range), tasks.c.element_id == watched.handling,
                     tasks.c.state.in_((HumanTaskState.READY, HumanTaskState.COMPLETED)))
              .group_by(tasks.c.instance_id).subquery("handle"))
    # the other pledges (dispatch within 1 working day, …): an open task past its own due time
    waiting = (select(tasks.c.instance_id, func.min(tasks.c.due_at).label("due"))
               .where(tasks.c.instance_id.in_(in_range), tasks.c.element_id.in_(watched.waiting or ("",)), ready,
                      tasks.c.due_at.is_not(None))
               .group_by(tasks.c.instance_id).subquery("waiting"))
    flagged = (*watched.supervised, *watched.reported) or ("",)
    fired = (select(timers.c.instance_id,
                    func.max(_flag(timers.c.element_id.in_(watched.supervised or ("",)))).label("supervised"),
                    func.max(_flag(timers.c.element_id.in_(watched.reported or ("",)))).label("reported"))
             .where(timers.c.instance_id.in_(in_range), timers.c.state == TimerState.FIRED,
                    timers.c.element_id.in_(flagged))
             .group_by(timers.c.instance_id).subquery("fired"))
    last = tasks.alias("last_handle")
    orgs = Organisation.__table__
    enterprise, unit, place = orgs.alias("enterprise"), orgs.alias("unit"), orgs.alias("place")
    case_due = facts["due_at"].c.moment
    finished = and_(handle.c.open == 0, handle.c.last_done.is_not(None))
    done_by = func.coalesce(last.c.due_at, case_due)
    open_due = func.coalesce(handle.c.open_due, case_due)
    handling_late = and_(handle.c.open > 0, open_due < at)
    query = (
        select(Instance.id, Instance.case_number, Instance.status, enterprise.c.name.label("enterprise"),
               facts["lead_unit"].c.value.label("unit"), unit.c.name.label("unit_name"),
               facts["building"].c.value.label("building"), place.c.name.label("building_name"),
               facts["rating"].c.value.label("rating"),
               _flag(finished).label("finished"),
               _flag(and_(finished, or_(done_by.is_(None), handle.c.last_done <= done_by))).label("on_time"),
               _flag(or_(handling_late, waiting.c.due < at)).label("overdue"),
               func.coalesce(fired.c.supervised, 0).label("supervised"),
               func.coalesce(fired.c.reported, 0).label("reported"),
               case((handle.c.open > 0, open_due), (waiting.c.due.is_not(None), waiting.c.due),
                    else_=case_due).label("due"))
        .select_from(Instance)
        .outerjoin(enterprise, enterprise.c.id == Instance.enterprise_id)
        .outerjoin(handle, handle.c.instance_id == Instance.id)
        .outerjoin(waiting, waiting.c.instance_id == Instance.id)
        .outerjoin(fired, fired.c.instance_id == Instance.id)
        .outerjoin(last, and_(last.c.instance_id == Instance.id, last.c.element_id == watched.handling,
                              last.c.state == HumanTaskState.COMPLETED, last.c.completed_at == handle.c.last_done))
    )
    for name, alias in facts.items():
        query = query.outerjoin(alias, and_(alias.c.instance_id == Instance.id, alias.c.name == name))
    query = (query.outerjoin(unit, unit.c.code == facts["lead_unit"].c.value)
             .outerjoin(place, place.c.code == facts["building"].c.value))  # a building listed by code: its name
    return query.where(Instance.process_key == watched.process_key, Instance.created_at >= lo,
                       Instance.created_at < hi)


def _all_cases(watched: list[Watched], lo: datetime, hi: datetime, at: datetime) -> Any:
    """The case rows of every watched process as one subquery (no rows when none is deployed)."""
    parts = [_cases(w, lo, hi, at) for w in watched] or [
        _cases(Watched("", "", (), (), ()), lo, hi, at).where(literal(False))]
    return (parts[0] if len(parts) == 1 else union_all(*parts)).subquery("cases")


def _flag(condition: ColumnElement[bool]) -> ColumnElement[int]:
    """1 or 0 (never NULL, whatever the outer joins left empty), so flags add up on every database."""
    return case((condition, 1), else_=0)


def _figures(cases: Any, *group: ColumnElement[Any]) -> Select[Any]:
    ratings = [func.sum(case((cases.c.rating == level, 1), else_=0)) for level in (*LEVELS, NOT_RATED)]
    query = select(*group, func.count(), func.sum(cases.c.finished), func.sum(cases.c.on_time),
                   func.sum(cases.c.overdue), func.sum(cases.c.supervised), func.sum(cases.c.reported), *ratings)
    return query.group_by(*group).order_by(group[0].is_(None), *group) if group else query  # "none" last


def _row_figures(key: str | None, label: str | None, counts: Any) -> Figures:
    n = [int(c or 0) for c in counts]
    return Figures(key, label, *n[:6], ratings=dict(zip(LEVELS, n[6:-1], strict=True)), not_rated=n[-1])


def dashboard(db: Database, actor: Actor, period: Period, tz: tzinfo) -> Dashboard:
    """The figures, tables and lists for one period; only supervisors may ask (403 for anyone else)."""
    if not may_supervise(actor):
        raise Forbidden("仅企业服务中心、督查室和管理员可查看督办统计 (supervisors only)")
    at = now()
    with db.read() as session:
        cases = _all_cases(watched_processes(session), *period.bounds(tz), at)
        lines = select(cases.c.id, cases.c.case_number, cases.c.enterprise,
                       func.coalesce(cases.c.building_name, cases.c.building),
                       func.coalesce(cases.c.unit_name, cases.c.unit), cases.c.due, cases.c.status,
                       cases.c.reported, cases.c.overdue)
        calendar = calendar_from_db(session, tz)
        conn = session.connection()
        total = _row_figures(None, None, conn.execute(_figures(cases)).one())
        by_unit = [_row_figures(r[0], r[1] or r[0], r[2:])
                   for r in conn.execute(_figures(cases, cases.c.unit, cases.c.unit_name))]
        by_building = [_row_figures(r[0], r[1] or r[0], r[2:])
                       for r in conn.execute(_figures(cases, cases.c.building, cases.c.building_name))]
        overdue = conn.execute(lines.where(cases.c.overdue == 1).order_by(cases.c.due, cases.c.id)).all()
        supervised = conn.execute(lines.where(cases.c.supervised == 1).order_by(cases.c.id)).all()
        urges = urge_figures(conn, *period.bounds(tz))

    def line(row: Any) -> CaseLine:
        late = calendar.working_days_between(row[5], at) if row[8] and row[5] is not None else None
        return CaseLine(row[0], row[1], row[2], row[3], row[4], row[5], late, row[6], bool(row[7]))

    return Dashboard(period, total, by_unit, by_building, [line(r) for r in overdue], [line(r) for r in supervised],
                     urges)


def default_period(tz: tzinfo) -> Period:
    """This year so far: what the centre reports on unless asked otherwise."""
    today = now().astimezone(tz).date()
    return Period(today.replace(month=1, day=1), today)

