"""The one place that says "now", so scenarios and tests can move time without sleeping.

Each runtime owns a `Clock`; a context variable says which clock the code running now asks
(engine/runtime/context.py enters a runtime's for each request, job and command), so a scenario's
`travel()` moves its own runtime's time and nobody else's. Code outside any runtime reads the real
clock, which cannot travel.

SpiffWorkflow's timer events read this clock too (engine/bpmn/state.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from contextvars import ContextVar
from datetime import UTC, datetime, timedelta

from engine.base.scoped import scoped


class Clock:
    """Real time plus an offset that `travel` moves: one per runtime."""

    def __init__(self) -> None:
        self.offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self.offset

    def travel(self, delta: timedelta) -> None:
        """Move this clock forward (or back) for everything that asks it."""
        self.offset += delta

    def reset(self) -> None:
        self.offset = timedelta(0)


class _RealClock(Clock):
    """What code outside any runtime reads: moving it would move every runtime of the process."""

    def travel(self, delta: timedelta) -> None:
        raise RuntimeError("the real clock cannot travel: travel a runtime's clock (enter its context first)")


REAL = _RealClock()
#: the clock code in this context (thread, task) asks: the real one until a runtime is entered
CURRENT: ContextVar[Clock] = ContextVar("tongban_clock", default=REAL)


def current() -> Clock:
    return CURRENT.get()


def now() -> datetime:
    return CURRENT.get().now()


def travel(delta: timedelta) -> None:
    """Move the current runtime's clock (scenarios and tests)."""
    CURRENT.get().travel(delta)


def reset() -> None:
    """Back to real time for the current runtime's clock."""
    CURRENT.get().reset()


def using(clock: Clock) -> AbstractContextManager[Clock]:
    """Make `clock` the one that code in this context (thread, task) asks, until the block ends."""
    return scoped(CURRENT, clock)
