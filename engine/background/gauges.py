"""The figures a scrape reads from the database, at scrape time: what is stuck, not what this process did.

Cases in error, open tasks past their due time, due rows the sweep has not fired and the outbox of automatic
steps, and how old the oldest of those is.  Each is one count over an index (instances by status, the ready
tasks' due times, timers by state and due time), grouped by process or kind, so a scrape every 15 s costs a few
index range scans; counted in the database, the figures are the same whichever web process answers.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Connection, exists, func, select
from sqlalchemy.exc import SQLAlchemyError

from engine.background import outbox
from engine.base.clock import now
from engine.base.vocabulary import HumanTaskState, InstanceStatus, TimerKind, TimerState
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, Instance, Timer

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Backlog:
    """A queue of work kept in the database: how many items are due and how long the oldest has waited."""

    count: int
    oldest_seconds: float


def due_rows(conn: Connection) -> dict[str, Backlog]:
    """Timer and service-attempt rows whose time came and that no step has fired yet, by kind (running cases only:
    a suspended or failed case's rows wait for it on purpose).  A due row older than the timer lease means the
    sweep is not running (no beat, no embedded timer thread) or cannot keep up."""
    at = now()
    running = exists().where(Instance.id == Timer.instance_id, Instance.status == InstanceStatus.RUNNING)
    rows = conn.execute(select(Timer.kind, func.count(), func.min(Timer.due_at))
                        .where(Timer.state == TimerState.WAITING, Timer.due_at <= at, running)
                        .group_by(Timer.kind)).all()
    return {kind: Backlog(count, max(0.0, (at - oldest).total_seconds())) for kind, count, oldest in rows}


def outbox_rows(conn: Connection) -> Backlog:
    """Cases whose automatic steps a step left to a worker and no worker has run yet (engine/background/outbox.py):
    near 0; an oldest row older than the outbox lease means lost jobs the sweep is re-driving, or no worker."""
    count, oldest = outbox.pending(conn)
    return Backlog(count, 0.0 if oldest is None else max(0.0, (now() - oldest).total_seconds()))


#: Other queues of work kept in the database, by name: a function of a connection giving its backlog, exported
#: as `tongban_backlog{queue=name}` beside the due timers.
BACKLOGS: dict[str, Callable[[Connection], Backlog]] = {"outbox": outbox_rows}


class StateCollector(Collector):
    """A prometheus-client collector that counts, at every scrape, what the database says is waiting or stuck."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("tongban_database_up", "1 when the last scrape could count in the database, else 0")
        try:
            families = self._counted()
        except SQLAlchemyError:
            log.warning("metrics: the database could not be counted in", exc_info=True)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _counted(self) -> list[GaugeMetricFamily]:
        errors = GaugeMetricFamily("tongban_cases_in_error", "Cases in the error state (incidents), by process",
                                   labels=["process"])
        overdue = GaugeMetricFamily("tongban_tasks_overdue", "Open tasks past their due time (SLA 督办), by process",
                                    labels=["process"])
        backlog = GaugeMetricFamily("tongban_backlog", "Due work not yet done: timers, service attempts and other "
                                    "queues kept in the database", labels=["queue"])
        oldest = GaugeMetricFamily("tongban_backlog_oldest_seconds", "How long the oldest due item of each queue has "
                                   "waited", labels=["queue"])
        at = now()
        with self.runtime.db.reading() as conn:
            for process, count in conn.execute(
                    select(Instance.process_key, func.count()).where(Instance.status == InstanceStatus.ERROR)
                    .group_by(Instance.process_key)):
                errors.add_metric([process], count)
            for process, count in conn.execute(
                    select(HumanTask.process_key, func.count())
                    .where(HumanTask.state == HumanTaskState.READY, HumanTask.due_at < at)
                    .group_by(HumanTask.process_key)):
                overdue.add_metric([process], count)
            queues = {f"{kind}s": Backlog(0, 0.0) for kind in TimerKind}
            queues.update({f"{kind}s": b for kind, b in due_rows(conn).items()})
            queues.update({name: depth(conn) for name, depth in BACKLOGS.items()})
        for name, b in sorted(queues.items()):
            backlog.add_metric([name], b.count)
            oldest.add_metric([name], b.oldest_seconds)
        return [errors, overdue, backlog, oldest]
