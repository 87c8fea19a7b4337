"""The outbox: automatic steps a request left to a worker are never lost with the job that was to run them.

In scale-out mode a start or a completion commits without running the automatic steps that follow; the same
transaction writes the case's `outbox` row (engine/runtime/commit.py), leased for `outbox_lease` to the
`advance` job the request then publishes.  The transaction that runs those steps — that job's, or any later
step's — removes the row; an `advance` that finds nothing to do removes it too.  So a row whose lease ran out
stands for a job lost with a worker killed mid-job, a broker that dropped its queue or was down at publish
time: the sweep (the beat's, every second) claims it here and enqueues `advance` again.  Embedded mode runs
the automatic steps inside the request and writes no row; its timer thread drains rows left from a time the
database ran scale-out.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection, func, select, update

from engine.base.clock import now
from engine.base.errors import Conflict, TongbanError
from engine.runtime.context import in_context
from engine.runtime.runtime import Runtime
from engine.store.models import OutboxEntry

log = logging.getLogger(__name__)
LOGGED = 20  # instance ids a re-drive names in its log line


@in_context
def claim_due(runtime: Runtime, limit: int = 100, lease: timedelta | None = None) -> list[int]:
    """Lease up to `limit` rows whose lease ran out (their job was lost, or is very late) for `lease` (default:
    the `outbox_lease` setting); returns their instances, oldest lease first."""
    at = now()
    lease = runtime.settings.outbox_lease if lease is None else lease
    due = (select(OutboxEntry.instance_id).where(OutboxEntry.claimed_until <= at)
           .order_by(OutboxEntry.claimed_until).limit(limit))
    with runtime.db.reading() as conn:  # nearly always nothing: no write transaction (SQLite's write lock) for that
        if conn.execute(due.limit(1)).first() is None:
            return []
    with runtime.db.writing() as conn:
        ids = conn.execute(runtime.db.skip_locked(due)).scalars().all()
        if ids:
            conn.execute(update(OutboxEntry).where(OutboxEntry.instance_id.in_(ids))
                         .values(claimed_until=at + lease, redriven=OutboxEntry.redriven + 1))
    if ids:
        named = ", ".join(map(str, ids[:LOGGED])) + (" …" if len(ids) > LOGGED else "")
        log.warning("办件的后续步骤重新入队 (automatic steps of %d case(s) re-driven, their job was lost or late): %s",
                    len(ids), named)
    return list(ids)


def pending(conn: Connection) -> tuple[int, datetime | None]:
    """How many cases wait for their automatic steps (queued, running, or lost and waiting for the sweep), and
    when the oldest of them was written."""
    count, oldest = conn.execute(select(func.count(), func.min(OutboxEntry.written_at))).one()
    return count, oldest


@in_context
def outbox_depth(runtime: Runtime) -> int:
    """Cases whose automatic steps are pending: near 0 except during bursts; one that keeps growing means
    workers are missing or failing."""
    with runtime.db.reading() as conn:
        return pending(conn)[0]


@in_context
def sweep(runtime: Runtime, limit: int = 100) -> int:
    """Embedded mode: claim the rows whose lease ran out and advance their cases here; how many were."""
    advanced = 0
    for instance_id in claim_due(runtime, limit):
        try:
            runtime.advance(instance_id)
            advanced += 1
        except Conflict:
            pass  # another step won: it removed the row, or wrote it again for its own job
        except TongbanError:
            log.exception("automatic steps of instance %s could not run", instance_id)
    return advanced
