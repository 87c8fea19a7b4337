"""Prometheus figures of the steps this process runs: how long each kind takes, how each ended, how late timers fire.

Counted in whichever process runs the step — a web process (embedded mode: every step; scale-out: starts and
completions) or a worker (advance, timer and service jobs) — and exported by `/metrics` (api/observability.py)
or a worker's own metrics port (engine/background/jobs.py).  With PROMETHEUS_MULTIPROC_DIR set (gunicorn with
several workers, Celery's prefork pool), prometheus-client keeps them in files there that one scrape adds up.
Labels are a fixed vocabulary, never a case number or a user: a scrape tells how the engine runs, nothing about
whose case it is.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import datetime
from enum import StrEnum
from functools import wraps
from pathlib import Path
from time import perf_counter
from typing import ParamSpec, TypeVar

from prometheus_client import Counter, Histogram

from engine.base.errors import Conflict, TongbanError
from engine.base.vocabulary import InstanceStatus


class StepKind(StrEnum):
    START = "start"
    COMPLETE = "complete"
    ADVANCE = "advance"  # the automatic steps after a step (a worker's job, `tongban advance`)
    TIMER = "timer"  # a due timer fired by the sweep
    SERVICE = "service"  # a service task's due attempt


class StepOutcome(StrEnum):
    OK = "ok"
    CONFLICT = "conflict"  # another step on the case won (409): retried or answered, never lost
    INVALID = "invalid"  # refused for what the caller sent or may do (422, 403, 404)
    ERROR = "error"  # an unexpected exception, or the step put its case into `error` (an incident)


#: a step takes milliseconds; seconds mean a slow database or a heavy script
STEP_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
#: the sweep looks every second; the lease (2 min by default) bounds a lost fire job's lateness
LAG_BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)

if _folder := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # prometheus-client writes there from the first metric on
    Path(_folder).mkdir(parents=True, exist_ok=True)

STEP_SECONDS = Histogram("tongban_step_duration_seconds", "How long one step took, by kind", ["kind"],
                         buckets=STEP_BUCKETS)
STEPS = Counter("tongban_steps", "Steps run, by kind and how they ended", ["kind", "outcome"])
TIMER_LAG = Histogram("tongban_timer_lag_seconds", "How late a timer fired: the time of its step minus its due time",
                      buckets=LAG_BUCKETS)


def outcome_of(exc: BaseException | None, status: str | None = None) -> StepOutcome:
    """How a step ended: by the exception it raised, else by the status it left its case in."""
    if exc is None:
        return StepOutcome.ERROR if status == InstanceStatus.ERROR else StepOutcome.OK
    if isinstance(exc, Conflict):
        return StepOutcome.CONFLICT
    if isinstance(exc, TongbanError):
        return StepOutcome.INVALID
    return StepOutcome.ERROR


class Observed:
    """What a step tells the `observed` block it ran in: the status it left its case in."""

    status: str | None = None


@contextmanager
def observed(kind: StepKind) -> Iterator[Observed]:
    """Time the block as one step of `kind` and count its outcome (the exception it raises, or `status`)."""
    started, seen = perf_counter(), Observed()
    try:
        yield seen
    except BaseException as exc:
        _count(kind, started, outcome_of(exc))
        raise
    _count(kind, started, outcome_of(None, seen.status))


P, R = ParamSpec("P"), TypeVar("R")


def counted(kind: StepKind) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """A runtime command as one step of `kind`; its result (an InstanceView) tells the status it left."""

    def wrap(command: Callable[P, R]) -> Callable[P, R]:
        @wraps(command)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            with observed(kind) as seen:
                result = command(*args, **kwargs)
                seen.status = getattr(result, "status", None)
            return result

        return run

    return wrap


def _count(kind: StepKind, started: float, outcome: StepOutcome) -> None:
    STEP_SECONDS.labels(kind).observe(perf_counter() - started)
    STEPS.labels(kind, outcome).inc()


def timers_fired(at: datetime, due: Iterable[datetime]) -> None:
    """A step at `at` fired timers due at `due`: how late each was."""
    for when in due:
        TIMER_LAG.observe(max(0.0, (at - when).total_seconds()))
