"""办件编号: `{区划6}{process code}{yyyyMMdd}{6-digit sequence}`, unique and never reused.

The sequence is one atomic upsert per (district, code, day) inside the starting transaction,
so concurrent starts on SQLite or PostgreSQL can never draw the same number.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Connection, Integer, text

from engine.store.prepared import Prepared

_NEXT = Prepared(text(
    "INSERT INTO case_counters (prefix, value) VALUES (:prefix, 1) "
    "ON CONFLICT (prefix) DO UPDATE SET value = case_counters.value + 1 RETURNING value"
).columns(value=Integer))


def next_case_number(conn: Connection, district: str, code: str, day: date) -> str:
    prefix = f"{district}{code}{day:%Y%m%d}"
    seq = _NEXT.scalar(conn, {"prefix": prefix})
    if seq > 999_999:
        raise OverflowError(f"办件编号已用尽 (more than 999999 cases for {prefix} in one day)")
    return f"{prefix}{seq:06d}"
