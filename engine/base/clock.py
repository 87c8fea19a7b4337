"""The one place that says "now", so scenarios and tests can move time without sleeping.

SpiffWorkflow's timer events read `datetime.now(timezone.utc)` themselves; `attach_to_spiff`
points that module's `datetime` at a subclass whose `now()` asks this clock, so a timer that
is due after a `travel()` fires on the next advance, exactly as it would after waiting.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

_offset = timedelta(0)


def now() -> datetime:
    return datetime.now(UTC) + _offset


def travel(delta: timedelta) -> None:
    """Move the clock forward (or back) for everything that asks `now()`."""
    global _offset
    _offset += delta


def reset() -> None:
    global _offset
    _offset = timedelta(0)


class _ClockDatetime(datetime):
    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = now()
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


def attach_to_spiff() -> None:
    from SpiffWorkflow.bpmn.specs.event_definitions import timer

    timer.datetime = _ClockDatetime
