"""Prepared statements (engine/store/prepared.py) store and read values exactly as SQLAlchemy does, on each database;
a connection somebody listens to runs them through SQLAlchemy (with its execution context), any other one straight
on the driver. What the step's statements store and read is tests/store/test_statements.py's."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, bindparam, event, insert, or_, select

from engine.runtime.runtime import Runtime
from engine.store import statements as store
from engine.store.db import Database
from engine.store.prepared import Prepared
from tests.support.shipped import SUBMIT

APPLICANT_DATA = {"title": "写入测试", "amount": 50000}


def _instance(runtime: Runtime) -> int:
    return runtime.start("sample_approval", APPLICANT_DATA, runtime.actor("haiyun")).id


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
