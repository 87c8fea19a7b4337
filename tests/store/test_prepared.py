"""Prepared statements (engine/store/prepared.py) store and read values exactly as SQLAlchemy does, on each database;
a connection somebody listens to runs them through SQLAlchemy (with its execution context), any other one straight
on the driver."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, insert, or_, select

from engine.runtime.runtime import Runtime
from engine.store import statements as store
from engine.store.db import Database
from engine.store.models import Event, HumanTask
from engine.store.prepared import Prepared
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
    with runtime.db.writing() as conn:
        store.INSERT_TASK.execute(conn, task)
        store.INSERT_EVENT.executemany(conn, [
            {"instance_id": instance_id, "at": at, "kind": "probe", "task_id": None, "element_id": None,
             "user_id": None, "data_hash": None, "detail": detail},
            {"instance_id": instance_id, "at": at, "kind": "probe", "task_id": "t", "element_id": "e",
             "user_id": None, "data_hash": "h", "detail": None},
        ])
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
        store.INSERT_EVENT.execute(conn, {"instance_id": instance_id, "at": datetime.now(UTC), "kind": "probe",
                                          "task_id": None, "element_id": None, "user_id": None, "data_hash": None,
                                          "detail": None})
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


def test_statement_listeners_see_prepared_statements_with_an_execution_context(runtime: Runtime) -> None:
    seen: list[tuple[str, bool]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, _params: Any, context: Any, _many: bool) -> None:
        seen.append((statement.split()[0], context is not None))

    event.listen(runtime.db.engine, "before_cursor_execute", listener)
    try:
        _instance(runtime)
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", listener)
    assert ("INSERT", True) in seen  # the instance, its first task and its events at least
    assert all(has_context for _, has_context in seen), seen


def test_an_unobserved_step_runs_on_the_driver_and_reads_like_sqlalchemy(runtime: Runtime,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """With nobody listening the hot path never goes through `Connection.execute` (that is its point), and the
    rows it reads are those SQLAlchemy's way gives (the way a listened-to connection takes)."""
    instance_id = _instance(runtime)  # warm: the sample's version is compiled and cached
    with runtime.db.reading() as conn:
        task_id = store.open_tasks(conn, instance_id)[0]["id"]
    with runtime.db.reading() as conn:
        listener = lambda *_: None  # noqa: E731 - any listener makes the connection observed
        event.listen(conn, "before_cursor_execute", listener)
        observed = store.load_task(conn, task_id)
        event.remove(conn, "before_cursor_execute", listener)
        direct = store.load_task(conn, task_id)
    assert observed == direct and observed._fields == direct._fields and observed.signers_open is False

    def refuse(*_: Any) -> None:
        raise AssertionError("a prepared statement went through Connection.execute")

    monkeypatch.setattr(Prepared, "_observed", refuse)
    done = runtime.complete(task_id, SUBMIT, runtime.actor("haiyun"))
    assert done.status == "running"


def test_an_expanding_parameter_is_refused(db: Database) -> None:
    """`IN` of a list is rendered per call by SQLAlchemy: a statement that needs it cannot be prepared once."""
    table = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("kind", String))
    listed = Prepared(select(table.c.id).where(table.c.kind.in_(bindparam("kinds", expanding=True))))
    with db.reading() as conn, pytest.raises(ValueError, match="expanding parameter"):
        listed.all(conn, {"kinds": ["a"]})


def test_a_default_it_cannot_reproduce_is_refused(db: Database) -> None:
    """A callable default runs inside SQLAlchemy's execution: a prepared INSERT must be given the column."""
    table = Table("t", MetaData(), Column("id", String, primary_key=True), Column("made", String, default=lambda: "x"))
    statement = Prepared(insert(table), keys=("id",))
    with db.reading() as conn, pytest.raises(ValueError, match="column made has a non-scalar default"):
        statement.execute(conn, {"id": "a"})


def test_a_parameter_used_twice_is_bound_twice(db: Database) -> None:
    """SQLite's positional `?` needs a repeated name once per use."""
    table = Table("events", MetaData(), Column("id", Integer, primary_key=True), Column("kind", String))
    twice = Prepared(select(table.c.id).where(or_(table.c.kind == bindparam("k"), table.c.kind == bindparam("k"))))
    with db.reading() as conn:
        assert twice.all(conn, {"k": "none-such"}) == []
