"""The supervision heat map (issue 16 point 7): where the cases of one process version wait, and which way they go.

Per user task of the version: how long its tasks were open (median and p90 of created → completed or cancelled),
how many are open now, and how many broke their SLA (completed after their due time, or open past it).  Per
intermediate timer event: how long cases waited at it (armed → fired or cancelled) and how many wait now; a
timer has no SLA of its own, and boundary timers are left out — they run beside their task, whose time is counted.  Per
sequence flow: the share of the cases that took it.  Cases are those of the version started in the period, and
of one street when asked (the case fact `street`, which a process lists under `report:`).

The durations are aggregated in SQL: `percentile_cont` on PostgreSQL; SQLite has no percentile function, so there
the durations (one number per task, at most `MAX_ROWS`) are read in order and the same interpolation is done here.

Which flow a case took is not stored: the events say which elements it reached (a task made ready, a timer or a
message that fired, the start, a service called).  A flow counts as taken when the case reached both its ends;
an element the events never name (a gateway, a script) counts as reached when an element after it was.  A flow
whose end the events cannot tell (into an end event after a gateway) has no share: None, shown as "—".
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, exists, func, or_, select
from sqlalchemy.orm import Session

from engine.base.clock import now
from engine.base.errors import Forbidden, NotFound
from engine.base.vocabulary import EventKind, HumanTaskState, TimerKind, TimerState
from engine.base.xmlsafe import parse_xml
from engine.definitions.compiler import BPMN_NS
from engine.people.access import Actor, may_supervise
from engine.runtime.supervision import Period
from engine.store.db import Database
from engine.store.models import CaseFact, Event, HumanTask, Instance, Organisation, ProcessVersion, Timer

#: SQLite only: the most task durations read to compute percentiles here (the single-node database; beyond it
#: the figures are of the first MAX_ROWS tasks by element and time, and `truncated` says so)
MAX_ROWS = 200_000
#: the most cases whose reached elements are read for the flow shares (`truncated` when the period has more)
MAX_CASES = 20_000
STREET = "street"  # the case fact (process.yaml `report:`) the street filter reads
#: events that show a case reached their element (a cancelled timer or task shows it did not get past it)
REACHING = (EventKind.STARTED, EventKind.TASK_READY, EventKind.TASK_COMPLETED, EventKind.TIMER_FIRED,
            EventKind.MESSAGE_RECEIVED, EventKind.SERVICE_CALLED, EventKind.ENDED)
#: elements a case waits inside though the events do not name them: what follows not reached proves nothing
WAITING = frozenset({"subProcess", "callActivity", "serviceTask", "transaction", "adHocSubProcess", "sendTask"})
#: BPMN elements the events name whenever a case reaches them
RECORDED = frozenset({"startEvent", "userTask", "manualTask", "boundaryEvent", "intermediateCatchEvent",
                      "receiveTask"})


@dataclass(frozen=True)
class VersionRef:
    id: int
    process_key: str
    version: int
    name_zh: str
    name_en: str
    cases: int  # every case of the version, whatever the period


@dataclass(frozen=True)
class ElementHeat:
    """One user task (or timer event): its closed tasks' (waits') times in seconds, its open ones, its SLA breaches."""

    element_id: str
    name: str
    closed: int
    open: int
    median: float | None
    p90: float | None
    breaches: int
    open_breaches: int  # of `breaches`, those still open past their due time
    kind: str = "task"  # task | timer (an intermediate timer event: no SLA, breaches stay 0)


@dataclass(frozen=True)
class FlowShare:
    flow_id: str
    source: str
    target: str
    name: str
    cases: int | None  # None: the events cannot tell which cases took it
    share: float | None
    source_name: str = ""
    target_name: str = ""


@dataclass
class HeatMap:
    version: VersionRef
    period: Period
    street: str | None
    cases: int
    elements: list[ElementHeat]
    flows: list[FlowShare]
    streets: list[tuple[str, str]]  # (code, name) of the streets the version's cases name
    truncated: bool = False


def versions(db: Database, actor: Actor) -> list[VersionRef]:
    """Every deployed version with its number of cases, by process and newest first (supervisors only)."""
    _check(actor)
    counts = select(Instance.version_id, func.count().label("n")).group_by(Instance.version_id).subquery()
    with db.read() as session:
        rows = session.execute(
            select(ProcessVersion.id, ProcessVersion.process_key, ProcessVersion.version, ProcessVersion.name_zh,
                   ProcessVersion.name_en, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.version_id == ProcessVersion.id)
            .order_by(ProcessVersion.process_key, ProcessVersion.version.desc())).all()
    return [VersionRef(*row) for row in rows]


def heat_map(db: Database, actor: Actor, version_id: int, period: Period, street: str | None, tz: tzinfo) -> HeatMap:
    """The figures for one version, period and (optionally) street; 403 for anyone but supervisors."""
    _check(actor)
    lo, hi = period.bounds(tz)
    at = now()
    with db.read() as session:
        row = session.get(ProcessVersion, version_id)
        if row is None:
            raise NotFound(f"流程版本 {version_id} 不存在 (no process version {version_id})")
        scope = _scope(version_id, lo, hi, street)
        total = session.scalar(select(func.count()).select_from(scope.subquery())) or 0
        ref = VersionRef(row.id, row.process_key, row.version, row.name_zh, row.name_en,
                         session.scalar(select(func.count()).where(Instance.version_id == version_id)) or 0)
        diagram = _Diagram(row.files or {}, row.process_key)
        elements, cut = _elements(session, scope, at, diagram)
        flows, more = _flows(session, scope, diagram)
        streets = _streets(session, version_id)
    return HeatMap(ref, period, street, total, elements, flows, streets, cut or more)


def diagram_of(db: Database, actor: Actor, version_id: int) -> str:
    """The BPMN file of a version that defines its process, for the heat map's viewer (supervisors only)."""
    _check(actor)
    with db.read() as session:
        row = session.get(ProcessVersion, version_id)
        files = (row.files or {}) if row is not None else {}
        for path, text in sorted(files.items()):
            if path.endswith(".bpmn") and any(p.get("id") == row.process_key for p in  # type: ignore[union-attr]
                                              parse_xml(text.encode("utf-8"), path).iter(f"{{{BPMN_NS}}}process")):
                return text
    raise NotFound(f"流程版本 {version_id} 不存在 (no process version {version_id})")


def _check(actor: Actor) -> None:
    if not may_supervise(actor):
        raise Forbidden("仅企业服务中心、督查室和管理员可查看流程热力图 (supervisors only)")


def _scope(version_id: int, lo: datetime, hi: datetime, street: str | None) -> Select[Any]:
    """The ids of the version's cases started in [lo, hi), of `street` when given."""
    query = select(Instance.id).where(Instance.version_id == version_id, Instance.created_at >= lo,
                                      Instance.created_at < hi)
    if street:
        query = query.where(exists(select(CaseFact.instance_id).where(
            CaseFact.instance_id == Instance.id, CaseFact.name == STREET, CaseFact.value == street)))
    return query


def _seconds(session: Session, start: ColumnElement[Any], end: ColumnElement[Any]) -> ColumnElement[float]:
    if session.get_bind().dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return func.round((func.julianday(end) - func.julianday(start)) * 86400.0, 3)  # julianday's float, to the ms


def _elements(session: Session, scope: Select[Any], at: datetime,
              diagram: _Diagram) -> tuple[list[ElementHeat], bool]:
    """The user tasks' and the intermediate timer events' figures, slowest (by p90) first."""
    tasks = HumanTask.__table__
    closed = tasks.c.state.in_((HumanTaskState.COMPLETED, HumanTaskState.CANCELLED))
    is_open = tasks.c.state == HumanTaskState.READY
    late_done = and_(tasks.c.state == HumanTaskState.COMPLETED, tasks.c.completed_at > tasks.c.due_at)
    late_open = and_(is_open, tasks.c.due_at < at)
    mine = tasks.c.instance_id.in_(scope)
    counts = session.execute(
        select(tasks.c.element_id, func.sum(case((closed, 1), else_=0)), func.sum(case((is_open, 1), else_=0)),
               func.sum(case((or_(late_done, late_open), 1), else_=0)), func.sum(case((late_open, 1), else_=0)))
        .where(mine).group_by(tasks.c.element_id)).all()
    seconds = _seconds(session, tasks.c.created_at, tasks.c.completed_at)
    done = and_(mine, closed, tasks.c.completed_at.is_not(None))
    spread, truncated = _spread(session, tasks.c.element_id, seconds, done)
    heat = [_heat(e, diagram.names, spread, c, o, b, ob) for e, c, o, b, ob in counts]
    timers, cut = _timer_waits(session, scope, diagram)
    return sorted([*heat, *timers], key=lambda h: (-(h.p90 or 0), h.element_id)), truncated or cut


def _timer_waits(session: Session, scope: Select[Any], diagram: _Diagram) -> tuple[list[ElementHeat], bool]:
    """How long cases waited at each intermediate timer event (rows armed before migration 0026 have no start)."""
    waits = [e for e, kind in diagram.kinds.items() if kind == "intermediateCatchEvent"]
    if not waits:
        return [], False
    timers = Timer.__table__
    mine = and_(timers.c.instance_id.in_(scope), timers.c.kind == TimerKind.TIMER, timers.c.element_id.in_(waits))
    ended = timers.c.state.in_((TimerState.FIRED, TimerState.CANCELLED))
    counts = session.execute(
        select(timers.c.element_id, func.sum(case((ended, 1), else_=0)),
               func.sum(case((timers.c.state == TimerState.WAITING, 1), else_=0)))
        .where(mine).group_by(timers.c.element_id)).all()
    spread, truncated = _spread(session, timers.c.element_id, _seconds(session, timers.c.created_at, timers.c.ended_at),
                                and_(mine, ended, timers.c.created_at.is_not(None), timers.c.ended_at.is_not(None)))
    return [_heat(e, diagram.names, spread, c, o, 0, 0, "timer") for e, c, o in counts], truncated


def _heat(element: str, names: dict[str, str], spread: dict[str, tuple[Any, Any]], closed: Any, open_: Any,
          breaches: Any, open_breaches: Any, kind: str = "task") -> ElementHeat:
    median, p90 = spread.get(element, (None, None))
    return ElementHeat(element, names.get(element, element), int(closed or 0), int(open_ or 0), _float(median),
                       _float(p90), int(breaches or 0), int(open_breaches or 0), kind)


def _spread(session: Session, element: ColumnElement[Any], seconds: ColumnElement[float],
            where: ColumnElement[bool]) -> tuple[dict[str, tuple[Any, Any]], bool]:
    """Per element, the median and p90 of `seconds` over the rows `where` selects; and whether SQLite's were cut."""
    if session.get_bind().dialect.name == "postgresql":
        return {e: (m, p) for e, m, p in session.execute(
            select(element, func.percentile_cont(0.5).within_group(seconds),
                   func.percentile_cont(0.9).within_group(seconds)).where(where).group_by(element))}, False
    rows = session.execute(select(element, seconds).where(where).order_by(element, seconds).limit(MAX_ROWS + 1)).all()
    by_element: dict[str, list[float]] = defaultdict(list)
    for name, value in rows[:MAX_ROWS]:
        by_element[name].append(float(value))
    return {e: (percentile(v, 0.5), percentile(v, 0.9)) for e, v in by_element.items()}, len(rows) > MAX_ROWS


def percentile(ordered: list[float], p: float) -> float:
    """PostgreSQL's percentile_cont over sorted values: linear interpolation between the two nearest ranks."""
    if len(ordered) == 1:
        return ordered[0]
    return statistics.quantiles(ordered, n=100, method="inclusive")[round(p * 100) - 1]


def _float(value: Any) -> float | None:
    return None if value is None else float(value)


class _Diagram:
    """The version's process drawn as flows (id, source, target, name), element kinds and names."""

    def __init__(self, files: dict[str, str], process_key: str) -> None:
        self.flows: list[tuple[str, str, str, str]] = []
        self.kinds: dict[str, str] = {}
        self.names: dict[str, str] = {}
        for path, text in sorted(files.items()):
            if not path.endswith(".bpmn"):
                continue
            for process in parse_xml(text.encode("utf-8"), path).iter(f"{{{BPMN_NS}}}process"):
                if process.get("id") == process_key:
                    self._read(process)
        self.outgoing: dict[str, list[str]] = defaultdict(list)
        self.incoming: dict[str, list[str]] = defaultdict(list)
        for _, source, target, _ in self.flows:
            self.outgoing[source].append(target)
            self.incoming[target].append(source)
        self.entries = self._entries()

    def _entries(self) -> dict[str, list[str]]:
        """Per element, the elements it is entered from other than by a loop's way back (a depth-first search
        from the elements nothing leads to: a flow to an element still on the search's path goes back)."""
        back: set[tuple[str, str]] = set()
        state: dict[str, int] = {}  # 1: on the path, 2: done

        def visit(node: str) -> None:
            state[node] = 1
            for nxt in self.outgoing.get(node, []):
                if state.get(nxt) == 1:
                    back.add((node, nxt))
                elif nxt not in state:
                    visit(nxt)
            state[node] = 2

        for node in [*(n for n in self.kinds if not self.incoming.get(n)), *self.kinds]:
            if node not in state:
                visit(node)
        return defaultdict(list, {t: [s for s in sources if (s, t) not in back]
                                  for t, sources in self.incoming.items()})

    def _read(self, process: Any) -> None:
        for node in process.iter():
            tag = str(node.tag).rsplit("}", 1)[-1]
            ident = node.get("id")
            if not ident or tag in ("process", "laneSet", "lane", "incoming", "outgoing"):
                continue
            if tag == "sequenceFlow":
                self.flows.append((ident, node.get("sourceRef") or "", node.get("targetRef") or "",
                                   node.get("name") or ""))
            else:
                self.kinds[ident] = tag
                self.names[ident] = node.get("name") or ident


def _flows(session: Session, scope: Select[Any], diagram: _Diagram) -> tuple[list[FlowShare], bool]:
    """Each flow's count of cases that took it, from the elements each case's events (and tasks) name."""
    cases = session.scalars(scope.order_by(Instance.id).limit(MAX_CASES + 1)).all()
    truncated = len(cases) > MAX_CASES
    wanted = cases[:MAX_CASES]
    reached: dict[int, set[str]] = defaultdict(set)
    for chunk in _chunks(wanted, 1000):  # an IN list per chunk: SQLite's bound-parameter limit
        for instance, element in session.execute(
                select(Event.instance_id, Event.element_id).distinct()
                .where(Event.instance_id.in_(chunk), Event.kind.in_(REACHING), Event.element_id.is_not(None))):
            reached[instance].add(element)
    recorded = {e for e, kind in diagram.kinds.items() if kind in RECORDED}.union(*reached.values())
    paths: dict[frozenset[str], int] = defaultdict(int)  # cases that reached the same elements: one answer
    for c in wanted:
        paths[frozenset(reached.get(c, ()))] += 1
    reach = {seen: _Reached(seen, recorded, diagram) for seen in paths}
    shares = []
    for flow_id, source, target, name in diagram.flows:
        taken = [(reach[seen].flow(source, target), n) for seen, n in paths.items()]
        count = None if any(t is None for t, _ in taken) else sum(n for t, n in taken if t)
        shares.append(FlowShare(flow_id, source, target, name, count,
                                None if count is None or not wanted else count / len(wanted),
                                diagram.names.get(source, source), diagram.names.get(target, target)))
    return shares, truncated


class _Reached:
    """Which elements one set of cases (that reached the same recorded elements) reached, with the reasons:

    an element the events name: whether they name it; else reached when the element after it was and could be
    entered only from it (a loop's way back does not count), or the element before it was and leads only to
    it, or — behind an exclusive gateway that was reached — when no other way out of it was taken; not
    reached when what follows it was not (a script runs straight on) or what precedes it was not.  None when
    nothing tells.
    """

    def __init__(self, seen: frozenset[str], recorded: set[str], diagram: _Diagram) -> None:
        self.seen, self.recorded, self.diagram = seen, recorded, diagram
        self.memo: dict[str, bool | None] = {}

    def flow(self, source: str, target: str) -> bool | None:
        a = self.element(source)
        b = self.element(target) if a is not False else False
        return False if False in (a, b) else None if None in (a, b) else True

    def element(self, element: str, visiting: frozenset[str] = frozenset()) -> bool | None:
        if element in self.recorded:
            return element in self.seen
        if element in self.memo:
            return self.memo[element]
        if element in visiting:
            return None
        answer = self._infer(element, visiting | {element})
        if not visiting:  # an answer given inside a search may depend on where the search began
            self.memo[element] = answer
        return answer

    def _infer(self, element: str, visiting: frozenset[str]) -> bool | None:
        d = self.diagram
        after = {n: self.element(n, visiting) for n in d.outgoing.get(element, [])}
        before = d.incoming.get(element, [])
        if any(v is True and d.entries[n] == [element] for n, v in after.items()):
            return True
        if after and all(v is False for v in after.values()) and d.kinds.get(element) not in WAITING:
            return False
        if any(len(d.outgoing[p]) == 1 and self.element(p, visiting) is True for p in before):
            return True
        if before and all(self.element(p, visiting) is False for p in before):
            return False
        if len(before) == 1 and d.kinds.get(before[0]) == "exclusiveGateway" and \
                self.element(before[0], visiting) is True:
            others = {o: self.element(o, visiting) for o in d.outgoing[before[0]] if o != element}
            if all(v is False for v in others.values()):
                return True  # the gateway's one way the events cannot see
            if any(v is True and d.entries[o] == before for o, v in others.items()):
                return False
        return None


def _chunks(items: list[int], size: int) -> Iterable[list[int]]:
    return (items[i:i + size] for i in range(0, len(items), size))


def _streets(session: Session, version_id: int) -> list[tuple[str, str]]:
    """The streets the version's cases name (code and organisation name), for the filter's options."""
    rows = session.execute(
        select(CaseFact.value, func.max(Organisation.name)).distinct()
        .join(Instance, Instance.id == CaseFact.instance_id)
        .outerjoin(Organisation, Organisation.code == CaseFact.value)
        .where(Instance.version_id == version_id, CaseFact.name == STREET, CaseFact.value.is_not(None))
        .group_by(CaseFact.value).order_by(CaseFact.value)).all()
    return [(code, name or code) for code, name in rows]
