"""A write transaction whose statements nobody waits for (engine/store/pipeline.py, PostgreSQL's pipeline mode) is
still all or nothing: a statement the server refuses, or an exception in the block, leaves nothing written, and
the connection serves the next transaction. The same holds on SQLite, where every statement waits."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as WrappedIntegrityError

from engine.runtime.runtime import Runtime
from engine.store import statements as store
from engine.store.models import Event
from tests.support.shipped import SUBMIT

APPLICANT_DATA = {"title": "流水线测试", "amount": 50000}


def _event(instance_id: int, kind: str) -> dict[str, Any]:
    return {"instance_id": instance_id, "at": datetime(2026, 12, 1, tzinfo=UTC), "kind": kind, "task_id": None,
            "element_id": None, "user_id": None, "data_hash": None, "detail": None}


def _probes(runtime: Runtime) -> list[str]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Event.kind).where(Event.kind.like("probe%")).order_by(Event.id)))


#: what a foreign key the server refuses raises: the driver's error (a prepared statement runs on the driver) or
#: SQLAlchemy's wrapping of it
INTEGRITY_ERRORS = (psycopg.errors.IntegrityError, sqlite3.IntegrityError, WrappedIntegrityError)


def test_a_refused_statement_nobody_waited_for_voids_the_transaction(runtime: Runtime) -> None:
    case = runtime.start("sample_approval", APPLICANT_DATA, runtime.actor("haiyun")).id
    with pytest.raises(INTEGRITY_ERRORS), runtime.db.writing() as conn:
        store.INSERT_EVENT.execute(conn, _event(case, "probe-before"))
        store.INSERT_EVENT.execute(conn, _event(10**9, "probe-refused"))  # no such instance: a foreign key
        store.INSERT_EVENT.execute(conn, _event(case, "probe-after"))
    assert _probes(runtime) == []
    with runtime.db.writing() as conn:  # the connection is usable again, and a good transaction commits
        store.INSERT_EVENT.execute(conn, _event(case, "probe-kept"))
        assert conn.execute(select(func.count()).select_from(Event).where(Event.instance_id == case)).scalar()
    assert _probes(runtime) == ["probe-kept"]


def test_an_exception_after_writes_nobody_waited_for_rolls_them_back(runtime: Runtime) -> None:
    case = runtime.start("sample_approval", APPLICANT_DATA, runtime.actor("haiyun")).id
    with pytest.raises(RuntimeError, match="refused"), runtime.db.writing() as conn:
        store.INSERT_EVENT.executemany(conn, [_event(case, "probe-1"), _event(case, "probe-2")])
        raise RuntimeError("refused by a side product")
    assert _probes(runtime) == []
    applicant = runtime.actor("haiyun")
    submitted = runtime.complete(runtime.instance(case, applicant).open_tasks[0].id, SUBMIT, applicant)
    assert submitted.status == "running"  # the next step, on a pooled connection, goes through
