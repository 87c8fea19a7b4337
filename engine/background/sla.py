"""The SLA sweep: warnings, due-day notices, 督办 and the report to 督查室 for open tasks with deadlines.

DOMAIN.md D.4 ("135"): a warning at the task's `warnAt`, a notice on the due day, at the deadline
the task is marked 督办 (supervised) and the handling unit and the enterprise-service centre's
dispatchers (the units' supervising side in this model) are told; still open 5 working days after
the deadline it is reported to the inspection office (督查室).  Cases in their error state are
reported to administrators as incidents.

Each task remembers the last stage it was notified of and when its next stage comes
(`sla_stage`, `sla_next_at`), so a sweep reads only tasks whose next stage is due — an index
range — and never re-reads the rest; the unique key on notifications makes a second sweep (or a
second sweeper) insert nothing.  The sweep runs with the timer sweep: `TimerThread` embedded, the
beat's `sweep` job on Celery.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from sqlalchemy import Connection, String, cast, exists, literal, or_, select, update

from engine.base import workdays
from engine.base.clock import now
from engine.base.notice import Notice
from engine.base.vocabulary import HumanTaskState, InstanceStatus, NoticeKind
from engine.case.notifications import holders, raise_notice, raise_role_notice
from engine.people.access import ADMIN, DISPATCHER, INSPECTION_OFFICE
from engine.runtime.context import in_context
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, Instance, Notification

log = logging.getLogger(__name__)

WARNED, DUE_DAY, SUPERVISED, REPORTED = 1, 2, 3, 4
DONE = REPORTED  # nothing further will happen to the task
REPORT_AFTER = 5  # working days after the deadline, still open → 督查室
RETRY_CALENDAR = timedelta(hours=1)  # a deadline in a year not loaded yet: look again later
_KIND = {WARNED: NoticeKind.SLA_WARNING, DUE_DAY: NoticeKind.DUE_TODAY, SUPERVISED: NoticeKind.OVERDUE,
         REPORTED: NoticeKind.ESCALATION_REPORT}


@dataclass(frozen=True)
class _Task:
    id: str
    instance_id: int
    case_number: str
    name: str
    role: str | None
    org_id: int | None
    assignee_id: int | None
    due_at: datetime | None
    warn_at: datetime | None
    sla_stage: int


def _texts(stage: int, task: _Task, due: str) -> tuple[str, str]:
    what_zh, what_en = f"办件 {task.case_number}“{task.name}”", f"'{task.name}' of case {task.case_number}"
    return {
        WARNED: (f"{what_zh}即将到期（{due}）", f"{what_en} is due soon ({due})"),
        DUE_DAY: (f"{what_zh}今日到期（{due}）", f"{what_en} is due today ({due})"),
        SUPERVISED: (f"{what_zh}已超期（{due}），已督办",
                     f"{what_en} is overdue since {due}: under supervision (督办)"),
        REPORTED: (f"{what_zh}超期 {REPORT_AFTER} 个工作日仍未办结，报督查室",
                   f"{what_en} is still open {REPORT_AFTER} working days after {due}: reported to the inspection "
                   "office (督查室)"),
    }[stage]


def _thresholds(task: _Task, tz: Any) -> tuple[dict[int, datetime], bool]:
    """When each stage comes; the flag says the report date could not be worked out yet (unknown year)."""
    at: dict[int, datetime] = {}
    if task.warn_at is not None:
        at[WARNED] = task.warn_at
    if task.due_at is None:
        return at, False
    at[DUE_DAY] = datetime.combine(task.due_at.astimezone(tz).date(), time(), tz)
    at[SUPERVISED] = task.due_at
    try:
        at[REPORTED] = workdays.current().due_at(task.due_at, REPORT_AFTER, tz)
    except workdays.UnknownYear:
        return at, True
    return at, False


def _notify(conn: Connection, stage: int, task: _Task, due: str) -> int:
    zh, en = _texts(stage, task, due)
    notice = Notice(_KIND[stage], task.id, zh, en, task.instance_id, task.id)
    if stage == REPORTED:
        return raise_role_notice(conn, notice, INSPECTION_OFFICE)
    handlers = [task.assignee_id] if task.assignee_id else holders(conn, task.role, task.org_id) if task.role else []
    raised = raise_notice(conn, notice, handlers, task.role, task.org_id)
    if stage == SUPERVISED:  # 督办 is copied to the supervising side
        raised += raise_role_notice(conn, notice, DISPATCHER)
    return raised


def _advance(runtime: Runtime, task: _Task, at: datetime) -> int:
    """Move one task to the stage it has reached, notifying once; returns the notices raised."""
    tz = runtime.settings.timezone
    thresholds, waiting_for_year = _thresholds(task, tz)
    reached = max((s for s, when in thresholds.items() if when <= at), default=task.sla_stage)
    reached = max(reached, task.sla_stage)
    later = [when for s, when in thresholds.items() if s > reached]
    next_at = min(later) if later else (at + RETRY_CALENDAR if waiting_for_year else None)
    stage = reached if next_at is not None else DONE
    due = task.due_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if task.due_at else ""
    fresh = [s for s in range(task.sla_stage + 1, reached + 1) if s in thresholds and thresholds[s] <= at
             and not (s < SUPERVISED <= reached)]  # a late look skips warnings that no longer help
    with runtime.db.writing() as conn:
        values: dict[str, Any] = {"sla_stage": stage, "sla_next_at": next_at}
        if SUPERVISED in fresh:
            values["supervised_at"] = at
        won = conn.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.state == HumanTaskState.READY,
                                                   HumanTask.sla_stage == task.sla_stage).values(**values)).rowcount
        if not won:
            return 0  # another sweeper moved it, or it was completed meanwhile
        return sum(_notify(conn, s, task, due) for s in fresh)


def _incidents(conn: Connection) -> int:
    """Cases that went into their error state since the last look: one notice per failure, to administrators."""
    subject = literal("instance:") + cast(Instance.id, String) + literal(":") + cast(Instance.version, String)
    told = exists(select(Notification.id).where(Notification.kind == NoticeKind.INCIDENT,
                                                Notification.subject == subject))
    rows = conn.execute(select(Instance.id, Instance.version, Instance.case_number, Instance.error_element,
                               Instance.error_message).where(Instance.status == InstanceStatus.ERROR, ~told)).all()
    admins = holders(conn, ADMIN) if rows else []
    return sum(raise_notice(conn, Notice(
        NoticeKind.INCIDENT, f"instance:{r.id}:{r.version}",
        f"办件 {r.case_number} 在“{r.error_element}”出错：{r.error_message}",
        f"case {r.case_number} failed at {r.error_element!r}: {r.error_message}", r.id), admins, ADMIN)
        for r in rows)


@in_context
def sweep(runtime: Runtime, limit: int = 500) -> int:
    """Notify whatever SLA stage came due and every new incident; returns how many notices were raised."""
    at = now()
    due = (select(HumanTask.id, HumanTask.instance_id, Instance.case_number, HumanTask.name, HumanTask.role,
                  HumanTask.org_id, HumanTask.assignee_id, HumanTask.due_at, HumanTask.warn_at, HumanTask.sla_stage)
           .join(Instance, Instance.id == HumanTask.instance_id)
           .where(HumanTask.state == HumanTaskState.READY, HumanTask.sla_stage < DONE,
                  or_(HumanTask.due_at.is_not(None), HumanTask.warn_at.is_not(None)),
                  or_(HumanTask.sla_next_at.is_(None), HumanTask.sla_next_at <= at))
           .order_by(HumanTask.sla_next_at).limit(limit))
    with runtime.db.reading() as conn:
        tasks = [_Task(*row) for row in conn.execute(due)]
    raised = 0
    for task in tasks:
        try:
            raised += _advance(runtime, task, at)
        except Exception:
            log.exception("SLA stage of task %s could not be recorded", task.id)
    with runtime.db.writing() as conn:
        raised += _incidents(conn)
    return raised
