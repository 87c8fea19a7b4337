"""The runtime's SQL, built once: loading an instance for a step and writing what the step produced.

These statements run on every request: one read before the step, and one transaction after it — the
instance row (guarded by its version counter), the derived task rows and the events, together or not at
all.  They are plain SQLAlchemy Core, built once at import, so SQLAlchemy's compiled cache serves every
call after the first and each statement runs with a real execution context: cursor listeners (statement
counting, OpenTelemetry's SQLAlchemy instrumentation) see them like any other.  An INSERT of many rows
is one `executemany` (SQLAlchemy's "insertmanyvalues" batches them where the driver benefits).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, bindparam, delete, exists, func, insert, select, update

from engine.base.errors import Conflict
from engine.base.vocabulary import HumanTaskState, SignerState, TimerKind, TimerState
from engine.store.models import (
    Event,
    HeldSubmission,
    HumanTask,
    Instance,
    MessageWait,
    Organisation,
    OutboxEntry,
    ProcessVersion,
    TaskSigner,
    Timer,
)

#: the version of the step whose outbox row the case still has (None for none), read with the instance in the
#: same statement: a step writes no DELETE for a row that is not there (a row written at or before the version
#: read was committed before that read, so the read sees it; a later one makes the step's version guard fail)
FOLLOW_UP = (select(OutboxEntry.version).where(OutboxEntry.instance_id == Instance.id)
             .scalar_subquery().label("follow_up"))
INSTANCE_COLUMNS = (
    Instance.id, Instance.case_number, Instance.process_key, Instance.version_id, Instance.status, Instance.outcome,
    Instance.enterprise_id, Instance.version, Instance.state, Instance.error_message, Instance.error_element,
    FOLLOW_UP,
)

TASK_WITH_INSTANCE = (
    select(HumanTask.id.label("task_id"), HumanTask.state.label("task_state"), HumanTask.role, HumanTask.org_id,
           HumanTask.assignee_id, HumanTask.form, HumanTask.element_id, HumanTask.due_at, HumanTask.warn_at,
           HumanTask.completed_at, *INSTANCE_COLUMNS)
    .join(Instance, Instance.id == HumanTask.instance_id)
    .where(HumanTask.id == bindparam("task_id"))
)
LATEST_VERSION = (
    select(ProcessVersion.id, ProcessVersion.version, ProcessVersion.content_hash)
    .where(ProcessVersion.process_key == bindparam("key"))
    .order_by(ProcessVersion.version.desc()).limit(1)
)
VERSION_BY_ID = select(ProcessVersion).where(ProcessVersion.id == bindparam("id"))
ORG_ID_BY_CODE = select(Organisation.id).where(Organisation.code == bindparam("code"))
ORG_CODE_BY_ID = select(Organisation.code).where(Organisation.id == bindparam("id"))
OPEN_TASKS_OF = (
    select(HumanTask.__table__)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == HumanTaskState.READY)
    .order_by(HumanTask.created_at, HumanTask.id)
)
INSERT_INSTANCE = insert(Instance).returning(Instance.id)
STEP_COLUMNS = ("state", "status", "outcome", "updated_at", "ended_at", "error_message", "error_element")
GUARDED_UPDATE = (
    update(Instance)
    .where(Instance.id == bindparam("iid"), Instance.version == bindparam("expected"))
    .values(version=bindparam("new_version"), **{c: bindparam(f"v_{c}") for c in STEP_COLUMNS})
)
COMPLETE_TASK = update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state=HumanTaskState.COMPLETED, completed_at=bindparam("at"), completed_by=bindparam("by"))
#: PostgreSQL: the guarded update and the completed task's row in one statement (one round trip, not two); the
#: task is written only when the guard matched, and the statement returns how many instance rows it did match
_GUARD = GUARDED_UPDATE.returning(Instance.id).cte("guard")
GUARDED_COMPLETION = select(func.count()).select_from(_GUARD).add_cte(
    COMPLETE_TASK.where(exists(select(_GUARD.c.id))).cte("completed"))
CANCEL_TASK = update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state=HumanTaskState.CANCELLED, completed_at=bindparam("at"))
INSERT_TASK = insert(HumanTask)
INSERT_TIMER = insert(Timer)
END_TIMER = update(Timer).where(Timer.task_id == bindparam("tid")).values(
    state=bindparam("outcome"), ended_at=bindparam("at"), claimed_until=None)
REARM_TIMER = update(Timer).where(Timer.task_id == bindparam("tid")).values(due_at=bindparam("due"),
                                                                           claimed_until=None)
INSERT_MESSAGE_WAIT = insert(MessageWait)
DELETE_MESSAGE_WAIT = delete(MessageWait).where(MessageWait.task_id == bindparam("tid"))
INSERT_EVENT = insert(Event)
#: rows a multi-row VALUES statement carries at most (each row's columns are bound parameters; PostgreSQL takes
#: 65,535 a statement): a step beyond it — a multi-instance task of hundreds — goes back to `executemany`
MAX_MULTI_ROWS = 500
INSERT_FOLLOW_UP = insert(OutboxEntry)
ACK_FOLLOW_UP = delete(OutboxEntry).where(OutboxEntry.instance_id == bindparam("iid"),
                                          OutboxEntry.version <= bindparam("version"))
FOLLOW_UP_VERSION = select(OutboxEntry.version).where(OutboxEntry.instance_id == bindparam("iid"))


def _rows(conn: Connection, statement: Executable, rows: list[dict[str, Any]]) -> None:
    """One execution per row, batched by the driver (none for no rows: SQLAlchemy would run it once, bare)."""
    if rows:
        conn.execute(statement, rows)


def load_task(conn: Connection, task_id: str) -> Any | None:
    return conn.execute(TASK_WITH_INSTANCE, {"task_id": task_id}).first()


def latest_version(conn: Connection, key: str) -> Any | None:
    """(id, version, content_hash) of the newest deployed version of a process, or None."""
    return conn.execute(LATEST_VERSION, {"key": key}).first()


def open_tasks(conn: Connection, instance_id: int) -> list[dict[str, Any]]:
    """The instance's ready task rows, oldest first."""
    return [dict(r) for r in conn.execute(OPEN_TASKS_OF, {"instance_id": instance_id}).mappings()]


def last_waiting_timer(conn: Connection, instance_id: int) -> datetime | None:
    """When the last of the case's waiting timers is due (a decided case's validity, say); None without one."""
    return conn.execute(select(func.max(Timer.due_at)).where(
        Timer.instance_id == instance_id, Timer.state == TimerState.WAITING, Timer.kind == TimerKind.TIMER)).scalar()


def insert_instance(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(INSERT_INSTANCE, values).scalar_one()


def guarded_update(conn: Connection, instance_id: int, expected_version: int, values: dict[str, Any],
                   completed: dict[str, Any] | None = None) -> None:
    """Write the instance only if nobody else did since we read it; otherwise the whole step is void.

    `completed` ({"tid", "at", "by"}) is the task the step completes, marked completed with the instance: in the
    same statement on PostgreSQL (a round trip saved), in the next one on SQLite (which has no DML in CTEs)."""
    params = {"iid": instance_id, "expected": expected_version, "new_version": expected_version + 1}
    params.update({f"v_{c}": values[c] for c in STEP_COLUMNS})
    if completed is not None and conn.dialect.name == "postgresql":
        matched = conn.execute(GUARDED_COMPLETION, {**params, **completed}).scalar_one()
    else:
        matched = conn.execute(GUARDED_UPDATE, params).rowcount
        if matched == 1 and completed is not None:
            conn.execute(COMPLETE_TASK, completed)
    if matched != 1:
        raise Conflict("办件已被他人更新，请刷新后重试 (the instance was changed by someone else; reload)")


def write_tasks_and_events(conn: Connection, at: datetime, cancelled: Iterable[str],
                           new_tasks: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """The step's cancelled and new task rows and its events (the completed task goes with `guarded_update`).

    On PostgreSQL the new tasks and the events are one statement (the tasks' INSERT a CTE of the events'), so
    one round trip; on SQLite, which has no DML in CTEs and no round trips, one `executemany` each."""
    _rows(conn, CANCEL_TASK, [{"tid": t, "at": at} for t in cancelled])
    if conn.dialect.name == "postgresql" and events and len(new_tasks) + len(events) <= MAX_MULTI_ROWS:
        statement = insert(Event).values(events)
        if new_tasks:
            statement = statement.add_cte(insert(HumanTask).values(new_tasks).cte("new_tasks"))
        conn.execute(statement)
        return
    _rows(conn, INSERT_TASK, new_tasks)
    _rows(conn, INSERT_EVENT, events)


#: a co-signer, proposal or delegate that has yet to act (engine/runtime/signers.py)
OPEN_SIGNER_STATES = (SignerState.PROPOSED, SignerState.WAITING, SignerState.PENDING)


def close_signers(conn: Connection, at: datetime, cancelled: list[str]) -> None:
    """Tasks a step cancelled (withdrawn, terminated, returned, a boundary event) close their signing: whoever
    was added and had yet to act is `cancelled` (out of its inbox, no longer blocking anything) and a submission
    held for after-signers goes — in the step's transaction, so no row stays open on a dead task."""
    if not cancelled:
        return
    conn.execute(update(TaskSigner).where(TaskSigner.task_id.in_(cancelled),
                                          TaskSigner.state.in_(OPEN_SIGNER_STATES))
                 .values(state=SignerState.CANCELLED, acted_at=at))
    conn.execute(delete(HeldSubmission).where(HeldSubmission.task_id.in_(cancelled)))


def write_message_waits(conn: Connection, new: list[dict[str, Any]], gone: Iterable[str]) -> None:
    """The message catch events a step began to wait at, and the ones it left (caught, or cancelled with their
    scope): the rows message correlation looks up."""
    _rows(conn, INSERT_MESSAGE_WAIT, new)
    _rows(conn, DELETE_MESSAGE_WAIT, [{"tid": t} for t in gone])


def write_timers(conn: Connection, at: datetime, new: list[dict[str, Any]], ended: dict[str, str],
                 rearmed: dict[str, datetime] | None = None) -> None:
    """New timer rows, ended ones, and waiting ones whose next due time moved (a timeCycle's next repetition):
    those are released from the sweep's lease so that they fire when due, not when the lease runs out."""
    _rows(conn, INSERT_TIMER, new)
    _rows(conn, END_TIMER, [{"tid": t, "outcome": outcome, "at": at} for t, outcome in ended.items()])
    _rows(conn, REARM_TIMER, [{"tid": t, "due": due} for t, due in (rearmed or {}).items()])


def defer_follow_up(conn: Connection, instance_id: int, version: int, at: datetime, until: datetime) -> None:
    """The outbox row of a step (committing `version`) that left its automatic steps to the job it publishes,
    which holds it `until` then; a step writes it only after `acknowledge_follow_up`, under the instance's lock."""
    conn.execute(INSERT_FOLLOW_UP, {"instance_id": instance_id, "version": version, "written_at": at,
                                    "claimed_until": until})


def acknowledge_follow_up(conn: Connection, instance_id: int, version: int) -> int:
    """The automatic steps the case had pending at `version` are done: its outbox row goes, unless a later step
    wrote it again.  Returns the rows removed (0 or 1)."""
    return conn.execute(ACK_FOLLOW_UP, {"iid": instance_id, "version": version}).rowcount


def follow_up_version(conn: Connection, instance_id: int) -> int | None:
    """The version of the step whose automatic steps the case still waits on, or None."""
    return conn.execute(FOLLOW_UP_VERSION, {"iid": instance_id}).scalar()
