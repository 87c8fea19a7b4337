"""催办 (urging): the applicant's enterprise or a supervisor presses an open task; its holders are told.

At most once per task and working day, counted on the district's working-day calendar by the runtime's clock
(a scenario's travelled time, not the wall clock): an urge on a Saturday counts for the Monday after. A second
urge for the same working day is a conflict saying when the next is possible; the unique key (task, working
day) keeps two racing requests from both counting. Every urge is a row (counted on the task, in the inbox and
in the supervision dashboard), an event of the case's history and a notice to each holder of the task.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, tzinfo
from typing import Any

from sqlalchemy import Connection, func, insert, select
from sqlalchemy.exc import IntegrityError

from engine.base import workdays
from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, NotFound
from engine.base.notice import Notice
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus, NoticeKind
from engine.case.notifications import holders, raise_notice
from engine.people.access import Actor, may_supervise, may_urge, own_step, scope_instances
from engine.runtime.reasons import checked_reason
from engine.store.db import Database
from engine.store.models import Event, HumanTask, Instance, Organisation, Urge


@dataclass(frozen=True)
class Urged:
    """What an urge did: the task's count of urges now, the working day it counts for, when the next may come."""

    task_id: str
    urges: int
    workday: date
    next_possible: datetime
    notified: int


def working_day(at: datetime, tz: tzinfo) -> date:
    """The working day an urge at `at` counts for: that day, or the next working day when it is a day off."""
    calendar = workdays.current()
    today = at.astimezone(tz).date()
    return today if calendar.is_working_day(today) else calendar.add_working_days(today, 1)


def urge_counts(conn: Connection, task_ids: Iterable[str]) -> dict[str, int]:
    """Task id → how many times it was urged (tasks never urged are left out)."""
    ids = list(task_ids)
    if not ids:
        return {}
    query = select(Urge.task_id, func.count()).where(Urge.task_id.in_(ids)).group_by(Urge.task_id)
    return {task_id: count for task_id, count in conn.execute(query)}


def urges_of(db: Database, task_id: str) -> int:
    """How many times one task was urged (the task page's badge)."""
    with db.reading() as conn:
        return urge_counts(conn, [task_id]).get(task_id, 0)


def _sees(conn: Connection, instance_id: int, actor: Actor) -> bool:
    query = scope_instances(select(Instance.id).where(Instance.id == instance_id), actor)
    return conn.execute(query).first() is not None


def _visible_task(conn: Connection, task_id: str, actor: Actor) -> Any:
    """The task with its case, when the actor may urge it: the case must be one the actor sees (a supervisor
    watches every unit's), else "not found"; seeing it without being its applicant or a supervisor is forbidden."""
    query = (select(HumanTask.id, HumanTask.instance_id, HumanTask.element_id, HumanTask.name, HumanTask.role,
                    HumanTask.org_id, HumanTask.assignee_id, HumanTask.state, Instance.status,
                    Instance.case_number, Instance.enterprise_id)
             .join(Instance, Instance.id == HumanTask.instance_id).where(HumanTask.id == task_id))
    row = conn.execute(query).first()
    if row is None or not (may_supervise(actor) or _sees(conn, row.instance_id, actor)):
        raise NotFound(f"任务不存在 (no task {task_id})")
    if not may_urge(actor, row.enterprise_id):
        raise Forbidden("只有申请企业和督办人员可以催办 (only the applicant's enterprise and supervisors may urge)")
    if own_step(actor, row.org_id):
        raise Forbidden("这是您自己的待办环节，无需催办 (the step is your own to do: there is nobody to urge)")
    if row.state != HumanTaskState.READY or row.status != InstanceStatus.RUNNING:
        raise Conflict("该环节已办结，无需催办 (the task is no longer open: nothing to urge)")
    return row


def urge(db: Database, task_id: str, reason: Any, actor: Actor, tz: tzinfo) -> Urged:
    """Urge an open task (see the module's docstring) in one transaction: the urge, its event, its notices.
    The urge says why (required, see `checked_reason`): the holders are told it."""
    reason = checked_reason(reason)
    at = now()
    day = working_day(at, tz)
    next_day = workdays.current().add_working_days(day, 1)
    next_possible = datetime.combine(next_day, time(), tz)
    again = Conflict(f"该环节本工作日已催办，{next_day.isoformat()} 起可再次催办 (already urged for the working day "
                     f"{day.isoformat()}; possible again from {next_possible.isoformat()})",
                     {"task_id": [f"next urge possible from {next_possible.isoformat()}"]})
    try:
        with db.writing() as conn:
            row = _visible_task(conn, task_id, actor)
            if conn.execute(select(Urge.id).where(Urge.task_id == task_id, Urge.workday == day)).first():
                raise again
            conn.execute(insert(Urge).values(instance_id=row.instance_id, task_id=task_id, by_user_id=actor.id,
                                             workday=day, reason=reason, at=at))
            count = urge_counts(conn, [task_id])[task_id]
            conn.execute(insert(Event).values(
                instance_id=row.instance_id, at=at, kind=EventKind.TASK_URGED, task_id=task_id,
                element_id=row.element_id, user_id=actor.id,
                detail={"count": count, "workday": day.isoformat(), "reason": reason}))
            told = [row.assignee_id] if row.assignee_id is not None else holders(conn, row.role, row.org_id)
            notice = Notice(NoticeKind.URGED, f"urge:{task_id}:{day.isoformat()}",
                            f"办件 {row.case_number} 的“{row.name}”被催办（第 {count} 次），请尽快办理：{reason}",
                            f"Case {row.case_number}: “{row.name}” was urged (time {count}); please act on it soon: "
                            f"{reason}", instance_id=row.instance_id, task_id=task_id)
            notified = raise_notice(conn, notice, told, None if row.assignee_id else row.role,
                                    None if row.assignee_id else row.org_id)
    except IntegrityError:  # another request urged the task for this working day between our check and insert
        raise again from None
    return Urged(task_id, count, day, next_possible, notified)


def urgeable(db: Database, instance_id: int, actor: Actor, tz: tzinfo) -> list[dict[str, Any]]:
    """The open steps of a case the actor may urge, each with its count and whether it can be urged now; empty
    for whoever may not urge this case (not found when the actor does not see it at all)."""
    with db.reading() as conn:
        case = conn.execute(select(Instance.id, Instance.enterprise_id).where(Instance.id == instance_id)).first()
        if case is None or not (may_supervise(actor) or _sees(conn, instance_id, actor)):
            raise NotFound(f"办件不存在 (no case {instance_id})")
        if not may_urge(actor, case.enterprise_id):
            return []
        tasks = conn.execute(select(HumanTask.id, HumanTask.name, HumanTask.created_at, HumanTask.due_at,
                                    HumanTask.org_id)
                             .join(Instance, Instance.id == HumanTask.instance_id)
                             .where(HumanTask.instance_id == instance_id, HumanTask.state == HumanTaskState.READY,
                                    Instance.status == InstanceStatus.RUNNING)
                             .order_by(HumanTask.created_at, HumanTask.id)).all()
        tasks = [t for t in tasks if not own_step(actor, t.org_id)]
        counts = urge_counts(conn, (t.id for t in tasks))
        day = working_day(now(), tz) if tasks else None
        today = set(conn.execute(select(Urge.task_id).where(Urge.task_id.in_([t.id for t in tasks]),
                                                           Urge.workday == day)).scalars()) if tasks else set()
    return [{"task_id": t.id, "name": t.name, "created_at": t.created_at, "due_at": t.due_at,
             "urges": counts.get(t.id, 0), "urged_today": t.id in today} for t in tasks]


@dataclass(frozen=True)
class UrgeFigure:
    """One row of the dashboard's 催办 table: a unit (the task's organisation) and process, with its urges."""

    unit: str | None
    process_key: str
    urges: int
    tasks: int


def urge_figures(conn: Connection, lo: datetime, hi: datetime) -> list[UrgeFigure]:
    """Urges made in [lo, hi) per unit and process, most urged first (supervisors read it)."""
    query = (select(Organisation.name, HumanTask.process_key, func.count(Urge.id),
                    func.count(func.distinct(Urge.task_id)))
             .select_from(Urge).join(HumanTask, HumanTask.id == Urge.task_id)
             .outerjoin(Organisation, Organisation.id == HumanTask.org_id)
             .where(Urge.at >= lo, Urge.at < hi)
             .group_by(Organisation.name, HumanTask.process_key)
             .order_by(func.count(Urge.id).desc(), Organisation.name, HumanTask.process_key))
    return [UrgeFigure(unit, key or "", urges, tasks) for unit, key, urges, tasks in conn.execute(query)]
