"""Messages and signals between cases: what a case throws and nobody in it catches goes on to the other cases.

The throwing step writes each such event into `thrown_events` in its own transaction (engine/runtime/commit.py),
leased like the outbox; right after its commit the runtime routes them here: a message to the cases waiting for
it by name and correlation key (the throwing element's `correlationKey` over its data) or, when none waits, to
the processes a message start event of that name starts; a signal to every case waiting for it and to every
process a signal start event of that name starts (BPMN's broadcast).  Each case reached takes a step of its own,
through `Runtime.deliver`, so one case's failure never undoes another's.  A row is removed once routed; one whose
lease ran out (the process died after the commit) is routed again by the sweep: at least once, never lost.

A chain of throws (A reaches B, whose step throws to C, …) is routed inline up to `MAX_DEPTH` cases deep; beyond
that the sweep takes over, one hop per lease, so two processes that answer each other forever cannot exhaust
the stack or starve a request.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Row, delete, select, update

from engine.base.clock import now
from engine.base.errors import TongbanError
from engine.runtime import correlation
from engine.runtime.context import in_context
from engine.store.models import Instance, ThrownEvent

if TYPE_CHECKING:
    from engine.runtime.runtime import Runtime

log = logging.getLogger(__name__)
MAX_DEPTH = 8  # cases deep a chain of throws is routed inline
_depth = threading.local()


def route(rt: Runtime, instance_id: int) -> int:
    """Route what the step just committed on `instance_id` threw (its rows, leased to this step); how many."""
    if getattr(_depth, "value", 0) >= MAX_DEPTH:
        log.warning("办件 %s 抛出的消息/信号链过深，交由定时扫描继续投递 (throws chained more than %d cases deep: "
                    "the sweep routes the rest)", instance_id, MAX_DEPTH)
        return 0
    return _route_all(rt, ThrownEvent.instance_id == instance_id)


@in_context
def sweep(rt: Runtime, limit: int = 100) -> int:
    """Claim the rows whose lease ran out (their routing was lost with its process) and route them; how many."""
    at = now()
    due = select(ThrownEvent.id).where(ThrownEvent.claimed_until <= at).order_by(ThrownEvent.id).limit(limit)
    with rt.db.reading() as conn:  # nearly always nothing: no write transaction for that
        if conn.execute(due.limit(1)).first() is None:
            return 0
    with rt.db.writing() as conn:
        ids = conn.execute(rt.db.skip_locked(due)).scalars().all()
        if ids:
            conn.execute(update(ThrownEvent).where(ThrownEvent.id.in_(ids))
                         .values(claimed_until=at + rt.settings.outbox_lease))
    if ids:
        log.warning("重新投递 %d 个办件间消息/信号 (re-routing %d message(s) or signal(s) whose routing was lost)",
                    len(ids), len(ids))
    return _route_all(rt, ThrownEvent.id.in_(ids)) if ids else 0


def _route_all(rt: Runtime, which: ColumnElement[bool]) -> int:
    """Route the rows `which` selects, read with their senders in one query, oldest first."""
    with rt.db.reading() as conn:
        rows = conn.execute(select(ThrownEvent.id, ThrownEvent.instance_id, ThrownEvent.kind, ThrownEvent.name,
                                   ThrownEvent.key, ThrownEvent.payload, Instance.started_by)
                            .join(Instance, Instance.id == ThrownEvent.instance_id)
                            .where(which).order_by(ThrownEvent.id)).all()
    _depth.value = getattr(_depth, "value", 0) + 1
    try:
        return sum(_route(rt, thrown) for thrown in rows)
    finally:
        _depth.value -= 1


def _route(rt: Runtime, thrown: Row[Any]) -> int:
    """Deliver one row and remove it; 0 when another router removed it first."""
    from engine.runtime.runtime import SYSTEM

    what = correlation.KIND_ZH[thrown.kind]
    try:
        reached = correlation.reach(rt, thrown.kind, thrown.name, thrown.key, thrown.payload, SYSTEM,
                                    sender=(thrown.instance_id, thrown.started_by))
    except TongbanError as exc:  # e.g. a start form that refuses the payload: told, and not retried forever
        log.warning("办件 %s 的%s“%s”未能投递 (the %s %r of case %s could not be delivered): %s", thrown.instance_id,
                    what, thrown.name, thrown.kind, thrown.name, thrown.instance_id, exc.message)
    else:
        if not reached.delivered and not reached.started:
            log.info("办件 %s 的%s“%s”无人接收 (nobody took the %s %r of case %s)", thrown.instance_id,
                     what, thrown.name, thrown.kind, thrown.name, thrown.instance_id)
        for case, why in reached.skipped.items():
            log.warning("办件 %s 未能接收%s“%s” (case %s could not take the %s %r): %s", case, what,
                        thrown.name, case, thrown.kind, thrown.name, why)
    with rt.db.writing() as conn:
        return conn.execute(delete(ThrownEvent).where(ThrownEvent.id == thrown.id)).rowcount
