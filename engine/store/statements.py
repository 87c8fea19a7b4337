"""The runtime's SQL, built once: loading an instance for a step and writing what the step produced.

These statements run on every request, so they are prepared once (engine/store/prepared.py) and run
straight on the driver: one read before the step, and one transaction after it — the instance
row (guarded by its version counter), the derived task rows and the events, together or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, insert, select, update

from engine.base.errors import Conflict
from engine.base.vocabulary import HumanTaskState
from engine.store.models import Event, HumanTask, Instance, Organisation, ProcessVersion, Timer
from engine.store.prepared import Prepared

INSTANCE_COLUMNS = (
    Instance.id, Instance.case_number, Instance.process_key, Instance.version_id, Instance.status,
    Instance.enterprise_id, Instance.version, Instance.state, Instance.error_message, Instance.error_element,
)

TASK_WITH_INSTANCE = Prepared(
    select(HumanTask.id.label("task_id"), HumanTask.state.label("task_state"), HumanTask.role, HumanTask.org_id,
           HumanTask.assignee_id, HumanTask.form, HumanTask.element_id, *INSTANCE_COLUMNS)
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
    select(HumanTask)
    .where(HumanTask.instance_id == bindparam("instance_id"), HumanTask.state == HumanTaskState.READY)
    .order_by(HumanTask.created_at, HumanTask.id)
)
INSERT_INSTANCE = Prepared(insert(Instance).returning(Instance.id), keys=(
    "case_number", "process_key", "version_id", "status", "started_by", "enterprise_id", "created_at", "updated_at",
    "ended_at", "version", "error_message", "error_element", "state"))
STEP_COLUMNS = ("state", "status", "updated_at", "ended_at", "error_message", "error_element")
GUARDED_UPDATE = Prepared(
    update(Instance)
    .where(Instance.id == bindparam("iid"), Instance.version == bindparam("expected"))
    .values(version=bindparam("new_version"), **{c: bindparam(f"v_{c}") for c in STEP_COLUMNS})
)
COMPLETE_TASK = Prepared(update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state=HumanTaskState.COMPLETED, completed_at=bindparam("at"), completed_by=bindparam("by")))
CANCEL_TASK = Prepared(update(HumanTask).where(HumanTask.id == bindparam("tid")).values(
    state=HumanTaskState.CANCELLED, completed_at=bindparam("at")))
#: the columns of a new task row (engine/runtime/commit.py `_task_row` plus the instance)
TASK_KEYS = ("id", "instance_id", "process_id", "process_key", "element_id", "name", "role", "org_id", "form", "state",
             "created_at", "due_at", "warn_at")
INSERT_TASK = Prepared(insert(HumanTask), keys=TASK_KEYS)
INSERT_TIMER = Prepared(insert(Timer), keys=("instance_id", "task_id", "element_id", "due_at", "state", "kind"))
END_TIMER = Prepared(update(Timer).where(Timer.task_id == bindparam("tid")).values(
    state=bindparam("outcome"), ended_at=bindparam("at"), claimed_until=None))
INSERT_EVENT = Prepared(insert(Event), keys=(
    "instance_id", "at", "kind", "task_id", "element_id", "user_id", "data_hash", "detail"))


def load_task(conn: Connection, task_id: str) -> Any | None:
    return TASK_WITH_INSTANCE.first(conn, {"task_id": task_id})


def latest_version(conn: Connection, key: str) -> Any | None:
    """(id, version, content_hash) of the newest deployed version of a process, or None."""
    return LATEST_VERSION.first(conn, {"key": key})


def open_tasks(conn: Connection, instance_id: int) -> list[dict[str, Any]]:
    """The instance's ready task rows, oldest first."""
    return [r._asdict() for r in OPEN_TASKS_OF.all(conn, {"instance_id": instance_id})]


def insert_instance(conn: Connection, values: dict[str, Any]) -> int:
    return INSERT_INSTANCE.scalar(conn, values)


def guarded_update(conn: Connection, instance_id: int, expected_version: int, values: dict[str, Any]) -> None:
    """Write the instance only if nobody else did since we read it; otherwise the whole step is void."""
    params = {"iid": instance_id, "expected": expected_version, "new_version": expected_version + 1}
    params.update({f"v_{c}": values[c] for c in STEP_COLUMNS})
    if GUARDED_UPDATE.execute(conn, params) != 1:
        raise Conflict("办件已被他人更新，请刷新后重试 (the instance was changed by someone else; reload)")


def write_tasks_and_events(conn: Connection, at: datetime, actor_id: int | None, completed_task: str | None,
                           cancelled: Iterable[str], new_tasks: list[dict[str, Any]],
                           events: list[dict[str, Any]]) -> None:
    if completed_task is not None:
        COMPLETE_TASK.execute(conn, {"tid": completed_task, "at": at, "by": actor_id})
    CANCEL_TASK.executemany(conn, [{"tid": t, "at": at} for t in cancelled])
    INSERT_TASK.executemany(conn, new_tasks)
    INSERT_EVENT.executemany(conn, events)


def write_timers(conn: Connection, at: datetime, new: list[dict[str, Any]], ended: dict[str, str]) -> None:
    INSERT_TIMER.executemany(conn, new)
    END_TIMER.executemany(conn, [{"tid": t, "outcome": outcome, "at": at} for t, outcome in ended.items()])
