"""The runtime's SQL, built once: loading an instance for a step and writing what the step produced.

These statements run on every request: one read before the step, and one transaction after it — the
instance row (guarded by its version counter), the derived task rows and the events, together or not at
all.  They are prepared once (engine/store/prepared.py) and run straight on the driver, unless somebody
listens to the connection (statement counting, OpenTelemetry's SQLAlchemy instrumentation): SQLAlchemy
then runs them, with its execution context.  An INSERT of many rows is one `executemany`.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, exists, func, insert, literal_column, or_, select, update
from sqlalchemy.orm import aliased

from engine.base.errors import Conflict
from engine.base.vocabulary import (
    OPEN_SIGNER_STATES,
    HumanTaskState,
    SignerKind,
    SignerState,
    TimerKind,
    TimerState,
)
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
    ThrownEvent,
    Timer,
)
from engine.store.prepared import Prepared

#: the version of the step whose outbox row the case still has (None for none), read with the instance in the
#: same statement: a step writes no DELETE for a row that is not there (a row written at or before the version
#: read was committed before that read, so the read sees it; a later one makes the step's version guard fail)
FOLLOW_UP = (select(OutboxEntry.version).where(OutboxEntry.instance_id == Instance.id)
             .scalar_subquery().label("follow_up"))
INSTANCE_COLUMNS = (
    Instance.id, Instance.case_number, Instance.process_key, Instance.version_id, Instance.status, Instance.outcome,
    Instance.enterprise_id, Instance.started_by, Instance.version, Instance.state, Instance.error_message,
    Instance.error_element, FOLLOW_UP,
)

def _const(value: str) -> Any:
    """A state or kind, inlined as a constant (the prepared statements bind only the task's id)."""
    return literal_column(f"'{value}'")


_LATER = aliased(TaskSigner)
#: a 会签 co-signer who disagreed and has not agreed since (the holder asked again, or returns the case)
_DISSENT = and_(TaskSigner.kind == _const(SignerKind.BEFORE), TaskSigner.state == _const(SignerState.DISAGREED),
                ~exists().where(_LATER.task_id == TaskSigner.task_id, _LATER.user_id == TaskSigner.user_id,
                                _LATER.kind == _const(SignerKind.BEFORE), _LATER.id > TaskSigner.id,
                                _LATER.state == _const(SignerState.AGREED)))
_HOLDS = or_(TaskSigner.state.in_([_const(state) for state in OPEN_SIGNER_STATES]), _DISSENT)


def _signing_holds(task_id: Any) -> Any:
    """The task may not be completed yet: someone added to it (co-signer, delegate, a proposal) has yet to act, or
    a 会签 co-signer disagreed and has not agreed since."""
    return exists().where(TaskSigner.task_id == task_id, _HOLDS)


#: read with the task, since most tasks have no signers and a statement of its own would cost every step a round
#: trip; `Runtime.complete` then asks `signers.hold_back`, which says why
SIGNERS_OPEN = _signing_holds(HumanTask.id).label("signers_open")
#: asked again in the completing step's transaction, after the task's row is written (and so locked): a signer
#: added after the task was read (its transaction locked the row first, engine/runtime/signers.py) is seen here
SIGNING_HOLDS = Prepared(select(_signing_holds(bindparam("tid"))))
TASK_WITH_INSTANCE = Prepared(
    select(HumanTask.id.label("task_id"), HumanTask.state.label("task_state"), HumanTask.role, HumanTask.org_id,
           HumanTask.assignee_id, HumanTask.form, HumanTask.element_id, HumanTask.due_at, HumanTask.warn_at,
           HumanTask.completed_at, SIGNERS_OPEN, *INSTANCE_COLUMNS)
    .join(Instance, Instance.id == HumanTask.instance_id)
    .where(HumanTask.id == bindparam("task_id"))
)
LATEST_VERSION = Prepared(
    select(ProcessVersion.id, ProcessVersion.version, ProcessVersion.content_hash)
    .where(ProcessVersion.process_key == bindparam("key"))
    .order_by(ProcessVersion.version.desc()).limit(1)
)
VERSION_BY_ID = select(ProcessVersion).where(ProcessVersion.id == bindparam("id"))
ORG_ID_BY_CODE = select(Organisation.id).where(Organisation.code == bindparam("code"))
ORG_CODE_BY_ID = select(Organisation.code).where(Organisation.id == bindparam("id"))
OPEN_TASKS_OF = Prepared(
    select(HumanTask.__table__)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == HumanTaskState.READY)
    .order_by(HumanTask.created_at, HumanTask.id)
)
#: the columns of a new instance row (engine/runtime/commit.py), its case number included
INSTANCE_KEYS = ("case_number", "process_key", "version_id", "status", "outcome", "started_by", "enterprise_id",
                 "created_at", "updated_at", "ended_at", "version", "error_message", "error_element", "state")
INSERT_INSTANCE = Prepared(insert(Instance).returning(Instance.id), keys=INSTANCE_KEYS)
STEP_COLUMNS = ("state", "status", "outcome", "updated_at", "ended_at", "error_message", "error_element")
_GUARDED_UPDATE = (
    update(Instance)
    .where(Instance.id == bindparam("iid"), Instance.version == bindparam("expected"))
    .values(version=bindparam("new_version"), **{c: bindparam(f"v_{c}") for c in STEP_COLUMNS})
)
_COMPLETE_TASK = update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state=HumanTaskState.COMPLETED, completed_at=bindparam("at"), completed_by=bindparam("by"))
GUARDED_UPDATE = Prepared(_GUARDED_UPDATE)
COMPLETE_TASK = Prepared(_COMPLETE_TASK)
#: PostgreSQL: the guarded update and the completed task's row in one statement (one round trip, not two); the
#: task is written only when the guard matched, and the statement returns how many instance rows it did match
_GUARD = _GUARDED_UPDATE.returning(Instance.id).cte("guard")
GUARDED_COMPLETION = Prepared(select(func.count()).select_from(_GUARD).add_cte(
    _COMPLETE_TASK.where(exists(select(_GUARD.c.id))).cte("completed")))
CANCEL_TASK = Prepared(update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state=HumanTaskState.CANCELLED, completed_at=bindparam("at")))
#: the columns of a new task row (engine/runtime/commit.py `_task_row` plus the instance)
TASK_KEYS = ("id", "instance_id", "process_id", "process_key", "element_id", "name", "role", "org_id", "form", "state",
             "created_at", "due_at", "warn_at")
INSERT_TASK = Prepared(insert(HumanTask), keys=TASK_KEYS)
INSERT_TIMER = Prepared(insert(Timer), keys=("instance_id", "task_id", "element_id", "due_at", "state", "kind",
                                             "created_at"))
END_TIMER = Prepared(update(Timer).where(Timer.task_id == bindparam("tid")).values(
    state=bindparam("outcome"), ended_at=bindparam("at"), claimed_until=None))
REARM_TIMER = Prepared(update(Timer).where(Timer.task_id == bindparam("tid")).values(due_at=bindparam("due"),
                                                                                    claimed_until=None))
INSERT_MESSAGE_WAIT = Prepared(insert(MessageWait), keys=(
    "task_id", "element_id", "message", "key", "kind", "created_at", "instance_id"))
DELETE_MESSAGE_WAIT = Prepared(delete(MessageWait).where(MessageWait.task_id == bindparam("tid")))
INSERT_EVENT = Prepared(insert(Event), keys=(
    "instance_id", "at", "kind", "task_id", "element_id", "user_id", "data_hash", "detail"))
INSERT_FOLLOW_UP = Prepared(insert(OutboxEntry), keys=("instance_id", "version", "written_at", "claimed_until"))
ACK_FOLLOW_UP = Prepared(delete(OutboxEntry).where(OutboxEntry.instance_id == bindparam("iid"),
                                                   OutboxEntry.version <= bindparam("version")))
FOLLOW_UP_VERSION = Prepared(select(OutboxEntry.version).where(OutboxEntry.instance_id == bindparam("iid")))


def load_task(conn: Connection, task_id: str) -> Any | None:
    return TASK_WITH_INSTANCE.first(conn, {"task_id": task_id})


def latest_version(conn: Connection, key: str) -> Any | None:
    """(id, version, content_hash) of the newest deployed version of a process, or None."""
    return LATEST_VERSION.first(conn, {"key": key})


def open_tasks(conn: Connection, instance_id: int) -> list[dict[str, Any]]:
    """The instance's ready task rows, oldest first."""
    return [r._asdict() for r in OPEN_TASKS_OF.all(conn, {"instance_id": instance_id})]


def last_waiting_timer(conn: Connection, instance_id: int) -> datetime | None:
    """When the last of the case's waiting timers is due (a decided case's validity, say); None without one."""
    return conn.execute(select(func.max(Timer.due_at)).where(
        Timer.instance_id == instance_id, Timer.state == TimerState.WAITING, Timer.kind == TimerKind.TIMER)).scalar()


def insert_instance(conn: Connection, values: dict[str, Any]) -> int:
    return INSERT_INSTANCE.scalar(conn, values)


def guarded_update(conn: Connection, instance_id: int, expected_version: int, values: dict[str, Any],
                   completed: dict[str, Any] | None = None) -> None:
    """Write the instance only if nobody else did since we read it; otherwise the whole step is void.

    `completed` ({"tid", "at", "by"}) is the task the step completes, marked completed with the instance: in the
    same statement on PostgreSQL (a round trip saved), in the next one on SQLite (which has no DML in CTEs). The
    task must then have nobody added to it left to act (`SIGNING_HOLDS`, asked once its row is written): on a
    pipelined connection that question goes out with the guard, and both answers come back in one round trip."""
    params = {"iid": instance_id, "expected": expected_version, "new_version": expected_version + 1}
    params.update({f"v_{c}": values[c] for c in STEP_COLUMNS})
    holds = None
    if completed is not None and conn.dialect.name == "postgresql":
        guard = GUARDED_COMPLETION.send(conn, {**params, **completed})
        holds = SIGNING_HOLDS.send(conn, {"tid": completed["tid"]})
        matched = guard.scalar()
    else:
        matched = GUARDED_UPDATE.changed(conn, params)
        if matched == 1 and completed is not None:
            COMPLETE_TASK.execute(conn, completed)
            holds = SIGNING_HOLDS.send(conn, {"tid": completed["tid"]})
    if matched != 1:
        raise Conflict("办件已被他人更新，请刷新后重试 (the instance was changed by someone else; reload)")
    if holds is not None and holds.scalar():
        raise Conflict("加签人有变化，请刷新后再办理 (a co-signer was added meanwhile or has yet to agree; reload)")


def write_tasks_and_events(conn: Connection, at: datetime, cancelled: Iterable[str],
                           new_tasks: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    """The step's cancelled and new task rows and its events (the completed task goes with `guarded_update`).

    Each is one prebuilt statement run for all its rows (the driver batches them): one statement of the tasks'
    and events' rows together would save PostgreSQL a round trip but, built per step from the rows' values,
    cost a compilation every time — several times a round trip."""
    CANCEL_TASK.executemany(conn, [{"tid": t, "at": at} for t in cancelled])
    INSERT_TASK.executemany(conn, new_tasks)
    INSERT_EVENT.executemany(conn, events)


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
    INSERT_MESSAGE_WAIT.executemany(conn, new)
    DELETE_MESSAGE_WAIT.executemany(conn, [{"tid": t} for t in gone])


def write_thrown(conn: Connection, rows: list[dict[str, Any]]) -> None:
    """The messages and signals a step threw for other cases, routed after its commit (engine/runtime/routing.py);
    rare, so plain SQLAlchemy rather than a prepared statement."""
    conn.execute(insert(ThrownEvent), rows)


def write_timers(conn: Connection, at: datetime, new: list[dict[str, Any]], ended: dict[str, str],
                 rearmed: dict[str, datetime] | None = None) -> None:
    """New timer rows, ended ones, and waiting ones whose next due time moved (a timeCycle's next repetition):
    those are released from the sweep's lease so that they fire when due, not when the lease runs out."""
    INSERT_TIMER.executemany(conn, [{**row, "created_at": at} for row in new])
    END_TIMER.executemany(conn, [{"tid": t, "outcome": outcome, "at": at} for t, outcome in ended.items()])
    REARM_TIMER.executemany(conn, [{"tid": t, "due": due} for t, due in (rearmed or {}).items()])


def defer_follow_up(conn: Connection, instance_id: int, version: int, at: datetime, until: datetime) -> None:
    """The outbox row of a step (committing `version`) that left its automatic steps to the job it publishes,
    which holds it `until` then; a step writes it only after `acknowledge_follow_up`, under the instance's lock."""
    INSERT_FOLLOW_UP.execute(conn, {"instance_id": instance_id, "version": version, "written_at": at,
                                    "claimed_until": until})


def acknowledge_follow_up(conn: Connection, instance_id: int, version: int) -> None:
    """The automatic steps the case had pending at `version` are done: its outbox row goes, unless a later step
    wrote it again."""
    ACK_FOLLOW_UP.execute(conn, {"iid": instance_id, "version": version})


def follow_up_version(conn: Connection, instance_id: int) -> int | None:
    """The version of the step whose automatic steps the case still waits on, or None."""
    row = FOLLOW_UP_VERSION.first(conn, {"iid": instance_id})
    return None if row is None else row[0]
