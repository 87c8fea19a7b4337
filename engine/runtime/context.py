"""What the code running now counts with: its runtime's clock, working-day calendar and script budget.

These used to be module globals, so a scenario run (which travels its clock and reads its calendar from a
throw-away database) shifted time for every request and timer of the server it ran in, and left the
server's calendar pointing at the deleted database. Now each `Runtime` owns a `RunContext`, and whatever
drives the engine enters it — the runtime's own commands and queries, each web request, each job, each
sweep of the embedded timer thread, each CLI command — for as long as that piece of work runs. Context
variables carry it, so other threads, and other runtimes in the same process, are untouched; a thread
that entered nothing reads the real clock, the package's calendar and the environment's budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import wraps
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from engine.base import clock, workdays
from engine.base.settings import ScriptBudget
from engine.bpmn import budget


@dataclass
class RunContext:
    """One runtime's time, calendar and script budget (engine/base/clock.py, workdays.py, bpmn/budget.py)."""

    calendar: workdays.CalendarSource
    budget: ScriptBudget
    clock: clock.Clock = field(default_factory=clock.Clock)

    def entered(self) -> _Entered:
        """Code in this block (this thread or task) asks this context's clock, calendar and budget."""
        return _Entered(self)


class _Entered:
    """Sets the three context variables and puts them back: a plain class, since every request and step enters
    one (about 1 µs, where `contextlib` generators took ten)."""

    __slots__ = ("context", "tokens")

    def __init__(self, context: RunContext) -> None:
        self.context = context
        self.tokens: tuple[Any, ...] = ()

    def __enter__(self) -> RunContext:
        c = self.context
        self.tokens = (clock.CURRENT.set(c.clock), workdays.CURRENT.set(c.calendar), budget.CURRENT.set(c.budget))
        return c

    def __exit__(self, *_: object) -> None:
        clock_token, calendar_token, budget_token = self.tokens
        budget.CURRENT.reset(budget_token)
        workdays.CURRENT.reset(calendar_token)
        clock.CURRENT.reset(clock_token)


class HasContext(Protocol):
    context: RunContext


H = TypeVar("H", bound=HasContext)
P = ParamSpec("P")
R = TypeVar("R")


def in_context(method: Callable[Concatenate[H, P], R]) -> Callable[Concatenate[H, P], R]:
    """A method of an object with a `context` (or a function whose first argument is a runtime) that runs inside
    that context, whoever calls it and from which thread."""

    @wraps(method)
    def entered(self: H, *args: P.args, **kwargs: P.kwargs) -> R:
        with self.context.entered():
            return method(self, *args, **kwargs)

    return entered


def entered_for(work: Callable[[], Any], context: RunContext) -> Callable[[], Any]:
    """`work` wrapped to run inside `context`: for threads and jobs, which start outside every context."""

    @wraps(work)
    def run() -> Any:
        with context.entered():
            return work()

    return run
