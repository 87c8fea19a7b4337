"""Firing due timers and service attempts: claim them from the database, advance their instances, once each.

Claiming takes a short lease on due timer rows — `FOR UPDATE SKIP LOCKED` on PostgreSQL, the
write lock of `BEGIN IMMEDIATE` on SQLite — so several sweepers never pick the same row.
Firing is `Runtime.advance`, which is guarded by the instance's version counter: even if two
sweepers reached one instance, one step wins and the other changes nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import exists, select, update

from engine.background import outbox, sla
from engine.base.clock import now
from engine.base.errors import Conflict, TongbanError
from engine.base.periodic import Periodic
from engine.base.vocabulary import InstanceStatus, TimerKind, TimerState
from engine.runtime import routing
from engine.runtime.context import in_context
from engine.runtime.metrics import StepKind
from engine.runtime.runtime import Runtime
from engine.store.models import Instance, Timer

log = logging.getLogger(__name__)

#: what firing a row of each kind counts as in the step metrics
STEP_KIND = {TimerKind.TIMER: StepKind.TIMER, TimerKind.SERVICE: StepKind.SERVICE}


@in_context
def claim_due(runtime: Runtime, limit: int = 100, lease: timedelta | None = None,
              kind: TimerKind | None = None) -> list[int]:
    """Lease up to `limit` due rows (of one `kind`: timer or service, when given) for `lease` (default: the
    `timer_lease` setting); returns their instances."""
    at = now()
    lease = runtime.settings.timer_lease if lease is None else lease
    # a suspended or failed case's rows wait for it: resuming or retrying it fires what came due meanwhile
    running = exists().where(Instance.id == Timer.instance_id, Instance.status == InstanceStatus.RUNNING)
    due = (select(Timer.id).where(Timer.state == TimerState.WAITING, Timer.due_at <= at,
                                  (Timer.claimed_until.is_(None)) | (Timer.claimed_until < at), running)
           .order_by(Timer.due_at).limit(limit))
    if kind is not None:
        due = due.where(Timer.kind == kind)
    with runtime.db.writing() as conn:
        ids = conn.execute(runtime.db.skip_locked(due)).scalars().all()
        if not ids:
            return []
        rows = conn.execute(update(Timer).where(Timer.id.in_(ids)).values(claimed_until=at + lease)
                            .returning(Timer.instance_id)).scalars().all()
    return sorted(set(rows))


def fire(runtime: Runtime, instance_id: int, kind: StepKind = StepKind.TIMER, after: int | None = None) -> bool:
    """Advance one instance whose timer (or service attempt, or automatic step: `kind`, following the step that
    wrote version `after`) came due; False when another worker got there first."""
    try:
        runtime.advance(instance_id, kind, after)
        return True
    except Conflict:
        return False  # someone else stepped the instance: their step saw the timer too


@in_context
def sweep(runtime: Runtime, limit: int = 100, kind: TimerKind | None = None) -> int:
    """Claim and fire what is due now (of one kind, when given); returns how many instances were advanced."""
    fired = 0
    for each in (kind,) if kind is not None else tuple(TimerKind):
        for instance_id in claim_due(runtime, limit, kind=each):
            try:
                fired += fire(runtime, instance_id, STEP_KIND[each])
            except TongbanError:
                log.exception("timer of instance %s could not fire", instance_id)
    return fired


class TimerThread(Periodic):
    """The embedded mode's scheduler: `tongban serve` fires due timers and raises SLA notices itself, no broker.

    The first sweep runs at start-up, so timers that came due while the server was down fire at once.
    """

    def __init__(self, runtime: Runtime, interval: float = 1.0) -> None:
        super().__init__("tongban-timers", self._sweep, interval)
        self.runtime = runtime

    def _sweep(self) -> None:
        while sweep(self.runtime) > 0:
            pass
        while outbox.sweep(self.runtime) > 0:  # rows only a time in scale-out mode left behind
            pass
        while routing.sweep(self.runtime) > 0:  # throws whose routing died with its process
            pass
        sla.sweep(self.runtime)
