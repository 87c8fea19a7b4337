"""办件编号: `{区划6}{process code}{yyyyMMdd}{6-digit sequence}`, unique and never reused.

The sequence is one atomic upsert per (district, code, day) inside the starting transaction,
so concurrent starts on SQLite or PostgreSQL can never draw the same number.  On PostgreSQL the
upsert is a CTE of the instance's INSERT, which takes the number it draws: one round trip, not two.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Connection, Integer, String, bindparam, cast, func, insert, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert

from engine.store import statements
from engine.store.models import CaseCounter, Instance
from engine.store.prepared import Prepared

LAST = 999_999
_NEXT = Prepared(text(
    "INSERT INTO case_counters (prefix, value) VALUES (:prefix, 1) "
    "ON CONFLICT (prefix) DO UPDATE SET value = case_counters.value + 1 RETURNING value"
).columns(value=Integer))

_COUNTER = (pg_insert(CaseCounter).values(prefix=bindparam("prefix"), value=1)
            .on_conflict_do_update(index_elements=[CaseCounter.prefix], set_={"value": CaseCounter.value + 1})
            .returning(CaseCounter.value).cte("counter"))
_GIVEN = [c for c in Instance.__table__.c if c.name not in ("id", "case_number")]
#: PostgreSQL: the next number drawn and the instance inserted with it; no row (nothing inserted) past LAST
_NUMBERED_INSTANCE = Prepared(
    insert(Instance).from_select(
        ["case_number", *(c.name for c in _GIVEN)],
        select(bindparam("prefix", type_=String) + func.lpad(cast(_COUNTER.c.value, String), 6, "0"),
               *(bindparam(c.name, type_=c.type) for c in _GIVEN)).where(_COUNTER.c.value <= LAST))
    .add_cte(_COUNTER).returning(Instance.id, Instance.case_number)
)


def _prefix(district: str, code: str, day: date) -> str:
    return f"{district}{code}{day:%Y%m%d}"


def _exhausted(prefix: str) -> OverflowError:
    return OverflowError(f"办件编号已用尽 (more than {LAST} cases for {prefix} in one day)")


def next_case_number(conn: Connection, district: str, code: str, day: date) -> str:
    prefix = _prefix(district, code, day)
    seq = _NEXT.scalar(conn, {"prefix": prefix})
    if seq > LAST:
        raise _exhausted(prefix)
    return f"{prefix}{seq:06d}"


def insert_numbered(conn: Connection, district: str, code: str, day: date, values: dict[str, Any]) -> tuple[int, str]:
    """A new instance row (`values` without its case number) with the next case number: (id, case number)."""
    if conn.dialect.name != "postgresql":
        case_number = next_case_number(conn, district, code, day)
        return statements.insert_instance(conn, {**values, "case_number": case_number}), case_number
    prefix = _prefix(district, code, day)
    row = _NUMBERED_INSTANCE.first(conn, {**values, "prefix": prefix})
    if row is None:
        raise _exhausted(prefix)
    return row.id, row.case_number
