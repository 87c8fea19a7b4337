"""Case numbers are drawn with the instance's INSERT (one statement on PostgreSQL): in sequence per prefix and day,
and past the sixth digit nothing is written at all."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select, update

from engine.runtime.runtime import Runtime
from engine.store.casenumbers import LAST, insert_numbered
from engine.store.models import CaseCounter, Instance

DAY = date(2026, 12, 1)


def _values(runtime: Runtime) -> dict[str, Any]:
    started = runtime.start("sample_approval", {"title": "编号测试", "amount": 50000}, runtime.actor("haiyun"))
    with runtime.db.read() as session:
        row = session.get(Instance, started.id)
        assert row is not None
        at = datetime.now(UTC)
        return {"process_key": row.process_key, "version_id": row.version_id, "status": "running", "outcome": None,
                "started_by": row.started_by, "enterprise_id": row.enterprise_id, "created_at": at,
                "updated_at": at, "ended_at": None, "version": 1, "error_message": None, "error_element": None,
                "state": b"{}"}


def _instances(runtime: Runtime) -> int:
    with runtime.db.read() as session:
        return session.scalar(select(func.count()).select_from(Instance)) or 0


def test_numbers_follow_each_other_per_prefix(runtime: Runtime) -> None:
    values = _values(runtime)
    with runtime.db.writing() as conn:
        drawn = [insert_numbered(conn, "310101", "ZZ", DAY, values) for _ in range(3)]
        other = insert_numbered(conn, "310101", "YY", DAY, values)
    assert [number for _, number in drawn] == [f"310101ZZ20261201{n:06d}" for n in (1, 2, 3)]
    assert other[1] == "310101YY20261201000001"
    with runtime.db.read() as session:
        assert [session.get(Instance, i).case_number for i, _ in drawn] == [n for _, n in drawn]


def test_past_the_last_number_nothing_is_written(runtime: Runtime) -> None:
    values = _values(runtime)
    with runtime.db.writing() as conn:
        insert_numbered(conn, "310101", "ZZ", DAY, values)
    with runtime.db.write() as session:
        session.execute(update(CaseCounter).where(CaseCounter.prefix == "310101ZZ20261201").values(value=LAST - 1))
    with runtime.db.writing() as conn:
        assert insert_numbered(conn, "310101", "ZZ", DAY, values)[1] == "310101ZZ20261201999999"
    before = _instances(runtime)
    with pytest.raises(OverflowError, match="办件编号已用尽"), runtime.db.writing() as conn:
        insert_numbered(conn, "310101", "ZZ", DAY, values)
    assert _instances(runtime) == before
    with runtime.db.read() as session:
        assert session.get(CaseCounter, "310101ZZ20261201").value == LAST
