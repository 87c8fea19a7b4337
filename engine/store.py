"""The runtime's SQL, built once: loading an instance for a step and writing what the step produced.

These statements run on every request, so they are constructed at import time (SQLAlchemy then
only binds parameters) and run on plain Core connections: one read before the step, and one
transaction after it — the instance row (guarded by its version counter), the derived task
rows and the events, together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, Row, bindparam, insert, select, update

from .errors import Conflict
from .models import Event, HumanTask, Instance, Organisation, ProcessVersion, Timer

INSTANCE_COLUMNS = (
    Instance.id, Instance.case_number, Instance.process_key, Instance.version_id, Instance.status,
    Instance.enterprise_id, Instance.version, Instance.state, Instance.error_message, Instance.error_element,
)

TASK_WITH_INSTANCE = (
    select(HumanTask.id.label("task_id"), HumanTask.state.label("task_state"), HumanTask.role, HumanTask.org_id,
           HumanTask.assignee_id, HumanTask.form, HumanTask.element_id, *INSTANCE_COLUMNS)
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
    select(HumanTask)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == "ready")
    .order_by(HumanTask.created_at, HumanTask.id)
)
INSERT_INSTANCE = insert(Instance).returning(Instance.id)
STEP_COLUMNS = ("state", "status", "updated_at", "ended_at", "error_message", "error_element")
GUARDED_UPDATE = (
    update(Instance)
    .where(Instance.id == bindparam("iid"), Instance.version == bindparam("expected"))
    .values(version=bindparam("new_version"), **{c: bindparam(f"v_{c}") for c in STEP_COLUMNS})
)
COMPLETE_TASK = update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state="completed", completed_at=bindparam("at"), completed_by=bindparam("by"))
CANCEL_TASK = update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state="cancelled", completed_at=bindparam("at"))
INSERT_TASK = insert(HumanTask)
INSERT_TIMER = insert(Timer)
END_TIMER = update(Timer).where(Timer.task_id == bindparam("tid")).values(
    state=bindparam("outcome"), ended_at=bindparam("at"), claimed_until=None)
INSERT_EVENT = insert(Event)


def load_task(conn: Connection, task_id: str) -> Row[Any] | None:
    return conn.execute(TASK_WITH_INSTANCE, {"task_id": task_id}).first()


def insert_instance(conn: Connection, values: dict[str, Any]) -> int:
    return conn.execute(INSERT_INSTANCE, values).scalar_one()


def guarded_update(conn: Connection, instance_id: int, expected_version: int, values: dict[str, Any]) -> None:
    """Write the instance only if nobody else did since we read it; otherwise the whole step is void."""
    params = {"iid": instance_id, "expected": expected_version, "new_version": expected_version + 1}
    params.update({f"v_{c}": values[c] for c in STEP_COLUMNS})
    result = conn.execute(GUARDED_UPDATE, params)
    if result.rowcount != 1:
        raise Conflict("办件已被他人更新，请刷新后重试 (the instance was changed by someone else; reload)")


def write_tasks_and_events(conn: Connection, at: datetime, actor_id: int | None, completed_task: str | None,
                           cancelled: Iterable[str], new_tasks: list[dict[str, Any]],
                           events: list[dict[str, Any]]) -> None:
    if completed_task is not None:
        conn.execute(COMPLETE_TASK, {"tid": completed_task, "at": at, "by": actor_id})
    _execute(conn, CANCEL_TASK, [{"tid": t, "at": at} for t in cancelled])
    _execute(conn, INSERT_TASK, new_tasks)
    _execute(conn, INSERT_EVENT, events)


def write_timers(conn: Connection, at: datetime, new: list[dict[str, Any]], ended: dict[str, str]) -> None:
    _execute(conn, INSERT_TIMER, new)
    _execute(conn, END_TIMER, [{"tid": t, "outcome": outcome, "at": at} for t, outcome in ended.items()])


def _execute(conn: Connection, statement: Executable, rows: list[dict[str, Any]]) -> None:
    """One row is a plain execute; executemany machinery only pays off for several."""
    if len(rows) == 1:
        conn.execute(statement, rows[0])
    elif rows:
        conn.execute(statement, rows)
