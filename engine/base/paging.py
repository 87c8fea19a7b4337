"""Keyset pagination: an opaque cursor holding the last row's sort key, never an offset.

Offsets get slower the deeper one pages and skip or repeat rows when the inbox changes
underneath; a keyset cursor costs the same on page 1 and page 1,000.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from engine.base import jsonvalues
from engine.base.errors import TongbanError

MAX_LIMIT = 200
MAX_ID = 2**63 - 1  # BIGINT: larger numbers cannot name a row


class BadCursor(TongbanError):
    code = "bad_request"
    status = 400


class _Invalid(ValueError):
    """What is wrong with a cursor's value, in words for its caller (anything else is reported as damage)."""


#: a cursor is opaque: what a decoder or parser says about a damaged one (base64, JSON, ISO dates) is not for people
_DAMAGED = ("游标已损坏或被改动，请从第一页重新开始 "
            "(the cursor is damaged or was altered: start again from the first page)")


def encode(values: tuple[Any, ...]) -> str:
    plain = [v.isoformat() if isinstance(v, datetime) else v for v in values]
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode(cursor: str, kinds: tuple[type, ...]) -> tuple[Any, ...]:
    """The cursor's values, checked against the expected types (a forged cursor is a 400, not a 500)."""
    try:
        raw = jsonvalues.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise _Invalid(_DAMAGED)
        return tuple(_typed(value, kind) for value, kind in zip(raw, kinds, strict=True))
    except (ValueError, TypeError, TongbanError) as exc:  # TongbanError: what jsonvalues refuses
        detail = str(exc) if isinstance(exc, _Invalid) else _DAMAGED
        raise BadCursor("分页游标无效 (invalid cursor)", {"cursor": [detail]}) from None


def _typed(value: Any, kind: type) -> Any:
    if value is None:
        return None
    if kind is datetime:
        return _instant(value)
    if not isinstance(value, kind) or isinstance(value, bool):
        raise _Invalid(_DAMAGED)
    if kind is int and not 0 <= value <= MAX_ID:
        raise _Invalid("游标中的编号超出范围 (a number in the cursor is out of range)")
    if kind is str and "\x00" in value:
        raise _Invalid("含有 NUL 字符 (NUL character)")  # PostgreSQL refuses it as a parameter
    return value


def _instant(value: Any) -> datetime:
    """An aware time, in UTC: the columns hold instants, and a naive or unrepresentable one failed in the query."""
    if not isinstance(value, str):
        raise _Invalid("游标中应为时间 (expected a time in the cursor)")
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise _Invalid("游标中的时间无法识别 (a time in the cursor cannot be read)") from None
    if moment.tzinfo is None:
        raise _Invalid("时间缺少时区 (time without a UTC offset)")
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise _Invalid("时间超出范围 (time out of range)") from None


def clamp(limit: int | None, default: int = 50) -> int:
    return max(1, min(limit or default, MAX_LIMIT))
