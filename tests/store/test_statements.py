"""A step's statements (engine/store/statements.py) store and read values as the ORM does, on each database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import event, select

from engine.runtime.runtime import Runtime
from engine.store import statements as store
from engine.store.models import Event, HumanTask
from tests.support.shipped import SUBMIT

APPLICANT_DATA = {"title": "写入测试", "amount": 50000}


def _instance(runtime: Runtime) -> int:
    return runtime.start("sample_approval", APPLICANT_DATA, runtime.actor("haiyun")).id


def test_rows_written_raw_read_back_through_the_orm_as_written(runtime: Runtime) -> None:
    """Aware datetimes (any zone) land as UTC, JSON round-trips, a column's scalar default is applied."""
    instance_id = _instance(runtime)
    at = datetime(2026, 11, 23, 9, 30, 15, 123456, tzinfo=timezone(timedelta(hours=8)))
    task = {"id": "00000000-0000-4000-8000-000000000001", "instance_id": instance_id, "process_id": "p",
            "process_key": "sample_approval", "element_id": "approve", "name": "审批", "role": "window_clerk",
            "org_id": None, "form": None, "state": "ready", "created_at": at, "due_at": None, "warn_at": at}
    detail = {"中文": "值", "n": [1, 2.5, None], "nested": {"ok": True}}
    events = [{"instance_id": instance_id, "at": at, "kind": "probe", "task_id": None, "element_id": None,
               "user_id": None, "data_hash": None, "detail": detail},
              {"instance_id": instance_id, "at": at, "kind": "probe", "task_id": "t", "element_id": "e",
               "user_id": None, "data_hash": "h", "detail": None}]
    with runtime.db.writing() as conn:
        store.write_tasks_and_events(conn, at, [], [task], events)
    with runtime.db.read() as session:
        row = session.get(HumanTask, task["id"])
        events = session.scalars(select(Event).where(Event.kind == "probe").order_by(Event.id)).all()
    assert row is not None
    assert row.created_at == at and row.created_at.tzinfo == UTC and row.warn_at == at and row.due_at is None
    assert row.sla_stage == 0  # HumanTask.sla_stage's default, as an ORM insert would set it
    assert [e.detail for e in events] == [detail, None]
    assert events[1].task_id == "t" and events[0].at == at


def test_reads_apply_result_types_and_literals(runtime: Runtime) -> None:
    instance_id = _instance(runtime)
    with runtime.db.reading() as conn:
        opened = store.open_tasks(conn, instance_id)  # the statement carries the literal state = 'ready'
        loaded = store.load_task(conn, opened[0]["id"])
        missing = store.load_task(conn, "no-such-task")
    assert [t["element_id"] for t in opened] == ["submit"]
    assert opened[0]["created_at"].tzinfo == UTC
    assert loaded is not None and loaded.task_id == opened[0]["id"] and loaded.id == instance_id
    assert isinstance(loaded.state, bytes) and loaded.version == 1
    assert missing is None


def test_a_failing_step_leaves_nothing_of_its_statements(runtime: Runtime) -> None:
    instance_id = _instance(runtime)
    with pytest.raises(RuntimeError), runtime.db.writing() as conn:
        store.write_tasks_and_events(conn, datetime.now(UTC), [], [], [{
            "instance_id": instance_id, "at": datetime.now(UTC), "kind": "probe", "task_id": None, "element_id": None,
            "user_id": None, "data_hash": None, "detail": None}])
        raise RuntimeError("the step fails after its first statement")
    with runtime.db.read() as session:
        assert session.scalars(select(Event).where(Event.kind == "probe")).all() == []


def test_guarded_update_counts_rows(runtime: Runtime) -> None:
    """The version guard sees the driver's row count: a stale version changes nothing and is a conflict."""
    instance_id = _instance(runtime)
    values = {"state": b"{}", "status": "running", "outcome": None, "updated_at": datetime.now(UTC), "ended_at": None,
              "error_message": None, "error_element": None}
    with runtime.db.writing() as conn:
        store.guarded_update(conn, instance_id, 1, values)
    with pytest.raises(Exception, match="changed by someone else"), runtime.db.writing() as conn:
        store.guarded_update(conn, instance_id, 1, values)


def test_statement_listeners_see_the_steps_statements_with_their_execution_context(runtime: Runtime) -> None:
    """Tracing and statement counting hook `before_cursor_execute`: each of a step's statements reaches it,
    with the execution context SQLAlchemy gives every statement (OpenTelemetry keeps its span there)."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        seen.append((statement.split()[0], context))

    event.listen(runtime.db.engine, "before_cursor_execute", listener)
    try:
        _instance(runtime)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", listener)
    writes = [context for kind, context in seen if kind in ("INSERT", "WITH")]
    # case counter, instance, task, events; on PostgreSQL the first two are one statement, the last two another
    assert len(writes) >= (2 if runtime.db.engine.dialect.name == "postgresql" else 4)
    assert all(context is not None and context.compiled is not None for context in writes)


def test_a_stale_completion_marks_no_task(runtime: Runtime) -> None:
    """The completed task is written with the guarded update (one statement on PostgreSQL): a stale version
    leaves the task ready, the instance unchanged."""
    instance_id = _instance(runtime)
    with runtime.db.reading() as conn:
        task_id = store.open_tasks(conn, instance_id)[0]["id"]
    values = {"state": b"{}", "status": "running", "outcome": None, "updated_at": datetime.now(UTC), "ended_at": None,
              "error_message": None, "error_element": None}
    completed = {"tid": task_id, "at": datetime.now(UTC), "by": None}
    with pytest.raises(Exception, match="changed by someone else"), runtime.db.writing() as conn:
        store.guarded_update(conn, instance_id, 7, values, completed)
    with runtime.db.reading() as conn:
        assert store.load_task(conn, task_id).task_state == "ready"
    with runtime.db.writing() as conn:
        store.guarded_update(conn, instance_id, 1, values, completed)
    with runtime.db.reading() as conn:
        row = store.load_task(conn, task_id)
    assert row.task_state == "completed" and row.version == 2


def test_statements_per_step(runtime: Runtime) -> None:
    """What each step of the sample sends once the runtime is warm (bench/engine.py prints the same): one read,
    then its writes — the guarded update carries the completed task on PostgreSQL, and no outbox DELETE goes
    out for a case that has no outbox row (read with the case); a completion asks once more, after writing its
    task, whether anyone was added to it since it was read (engine/runtime/signers.py: the race it closes)."""
    applicant, clerk = runtime.actor("haiyun"), runtime.actor("window")

    def life_cycle() -> list[list[str]]:
        steps: list[list[str]] = []

        def listener(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            steps[-1].append(" ".join(statement.split()[:2]))

        def counted(act: Any) -> Any:
            steps.append([])
            event.listen(runtime.db.engine, "before_cursor_execute", listener)
            try:
                return act()
            finally:
                event.remove(runtime.db.engine, "before_cursor_execute", listener)

        started = counted(lambda: runtime.start("sample_approval", APPLICANT_DATA, applicant))
        counted(lambda: runtime.complete(started.open_tasks[0].id, SUBMIT, applicant))
        approve = next(t.id for t in runtime.tasks(clerk) if t.instance_id == started.id)
        counted(lambda: runtime.complete(approve, {"decision": "approved", "comment": "同意"}, clerk))
        return steps

    life_cycle()  # the version compiled, the organisations' ids cached: what every later life cycle finds
    start, submit, approved = life_cycle()
    if runtime.db.engine.dialect.name == "postgresql":  # round trips saved by folding statements together
        guard, numbered = ["WITH guard"], ["WITH counter"]
    else:
        guard, numbered = ["UPDATE instances", "UPDATE human_tasks"], ["INSERT INTO", "INSERT INTO"]
    tasks_and_events = ["INSERT INTO", "INSERT INTO"]  # each one prebuilt statement (a joint one compiles per step)
    assert start == ["SELECT process_versions.id,", *numbered, *tasks_and_events], start
    read = ["SELECT human_tasks.id"]  # the task with its case, and whether anyone added to it has yet to act
    # the completed task's row written (and locked), whether anyone was added to it meanwhile (a 409 if so)
    guard = [*guard, "SELECT EXISTS"]
    assert submit == [*read, *guard, *tasks_and_events], submit
    # the case is closed: its applicant is told, by one INSERT … SELECT of the role's holders (with their addresses)
    assert approved == [*read, *guard, "INSERT INTO", "INSERT INTO"], approved
