"""Background jobs on Celery: the scale-out mode, used only when `TONGBAN_BROKER_URL` is set.

A request commits its step (with its outbox row, see `outbox`) and enqueues `advance`; the beat enqueues
`sweep` every second, which leases due timers in the database and enqueues one `fire_timer` per instance,
and `advance` again for every outbox row whose job was lost.  Every job is idempotent — `Runtime.advance`
writes nothing when nothing is due and is guarded by the instance's version counter — so a job may safely
run twice: that is what makes `acks_late` (redeliver the job of a worker killed mid-job) and the re-drives
affordable.

A service task's attempts are rows beside the timers (see `servicetask`); the sweep enqueues a
`run_service` job for each instance with one due, on a queue of its own (`tongban.services`), so calls
to a slow outside system never hold up timers and steps.  Every worker consumes both queues unless told
otherwise (`tongban worker -Q tongban.services` runs one for service calls only).  A job redelivered
after a crash calls the service again: at-least-once, with the task id as the idempotency key.

E-mail copies of notices (when an SMTP server is configured) go out from `send_mail`, which the beat
enqueues every 10 seconds on the services queue too (see `mail`).

Run: `tongban worker` (any number, on any machines) and `tongban beat` (one is enough; two are
harmless).  `celery -A engine.background.jobs worker|beat|flower` works too.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any

from celery import Celery, signals
from celery.worker.request import Request
from kombu import Queue
from kombu.exceptions import OperationalError as BrokerUnreachable
from sqlalchemy.exc import InterfaceError
from sqlalchemy.exc import OperationalError as DatabaseUnreachable

from engine.background import jobwatch, mail, outbox, retention, sla, timers
from engine.base.errors import NotFound
from engine.base.settings import Settings, SettingsInvalid, broker_url_from_env
from engine.base.vocabulary import TimerKind
from engine.runtime import routing
from engine.runtime.metrics import StepKind
from engine.runtime.runtime import Runtime
from engine.store.db import Database

log = logging.getLogger(__name__)

QUEUE, SERVICES_QUEUE = "tongban", "tongban.services"
ADVANCE, FIRE_TIMER, SWEEP = "tongban.advance", "tongban.fire_timer", "tongban.sweep"
RUN_SERVICE, SEND_MAIL, RETENTION = "tongban.run_service", "tongban.send_mail", "tongban.retention"
SWEEP_EVERY = 1.0  # seconds: as often as the embedded TimerThread looks
CLAIM_BATCH = 500

class JobRequest(Request):
    """Celery's request, except that acknowledging over a connection that is already gone is logged, not fatal.

    After a broker restart a job that finished in the pool is acknowledged on its old channel; kombu's
    Redis transport then fails with `AttributeError` (its connection was released; kombu issue #582),
    which Celery does not count as a connection error, so the whole worker stopped.  Nothing is lost by
    not acknowledging: the broker redelivers the job (or its timer's lease runs out) and jobs are idempotent.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._connection_errors = (*self._connection_errors, AttributeError)


#: Shared by every job: a dead worker's job goes back to the queue; a database outage is waited out.
JOB: dict[str, Any] = {
    "Request": JobRequest,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (DatabaseUnreachable, InterfaceError),
    "retry_backoff": True,
    "retry_backoff_max": 60,
    "max_retries": 10,
}


def make_app(broker_url: str | None, current: bool = True) -> Celery:
    """A Celery app with tongban's settings (`current=False` for a publisher living beside another app)."""
    app = Celery("tongban", set_as_current=current)
    app.conf.update(
        broker_url=broker_url,
        broker_connection_retry_on_startup=True,
        # Redis has no per-connection acknowledgement: an unacked job comes back after this many seconds.
        # Jobs take milliseconds, so 5 minutes never redelivers a live one; RabbitMQ ignores it.
        broker_transport_options={"visibility_timeout": 300},
        task_default_queue=QUEUE,
        task_queues=(Queue(QUEUE), Queue(SERVICES_QUEUE)),
        # slow outside I/O (other systems, the mail server, a bucket's listing) never holds up timers and steps
        task_routes={RUN_SERVICE: {"queue": SERVICES_QUEUE}, SEND_MAIL: {"queue": SERVICES_QUEUE},
                     RETENTION: {"queue": SERVICES_QUEUE}},
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # jobs report through the database (events), not a result backend
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_publish_retry_policy={"max_retries": 3, "interval_start": 0, "interval_step": 0.5,
                                   "interval_max": 1},
        worker_prefetch_multiplier=1,  # a worker holds only what it runs: a kill -9 strands nothing else
        worker_cancel_long_running_tasks_on_connection_loss=True,
        timezone="UTC",
        beat_scheduler="celery.beat:Scheduler",  # in memory: a one-line interval needs no schedule file
        beat_schedule={"sweep-due-timers": {"task": SWEEP, "schedule": SWEEP_EVERY,
                                            "options": {"expires": 10 * SWEEP_EVERY}},
                       "send-notice-mail": {"task": SEND_MAIL, "schedule": mail.EVERY,
                                            "options": {"expires": mail.EVERY}},
                       "retention": {"task": RETENTION, "schedule": retention.EVERY,
                                     "options": {"expires": retention.EVERY}}},
    )
    return app


app = make_app(broker_url_from_env())
jobwatch.connect(quiet_jobs={SWEEP, SEND_MAIL})  # once a second and every 10 s: DEBUG, not INFO


@signals.worker_init.connect
@signals.beat_init.connect
def _refuse_what_cannot_work(**_: Any) -> None:
    """`celery -A engine.background.jobs worker|beat` as well as `tongban worker|beat`: settings tongban cannot
    use, or a SQLite database with a broker, stop the process with the reason before it takes any job."""
    try:
        Settings.from_env().require_shared_database()
    except SettingsInvalid as exc:
        raise SystemExit(f"错误 (error): {exc}") from None


_runtimes: dict[int, Runtime] = {}


def worker_runtime() -> Runtime:
    """This process's Runtime, made after the fork: a connection pool must never cross one."""
    pid = os.getpid()
    if pid not in _runtimes:
        settings = Settings.from_env()
        _runtimes.clear()
        _runtimes[pid] = Runtime(Database(settings.database_url), settings)
    return _runtimes[pid]


def step(runtime: Runtime, instance_id: int, kind: StepKind = StepKind.ADVANCE, after: int | None = None) -> bool:
    """Advance one instance; False when there was nothing to do for us (another step won, or it is gone)."""
    try:
        return timers.fire(runtime, instance_id, kind, after)
    except NotFound:
        log.warning("instance %s no longer exists; job dropped", instance_id)
        return False


def enqueue_due(runtime: Runtime, enqueue: Callable[[str, int], Any], batch: int = CLAIM_BATCH) -> int:
    """Lease every due row and enqueue one job per instance and kind (`fire_timer` for timers, `run_service`
    for service attempts, `advance` again for outbox rows whose job was lost); returns how many were enqueued.

    The lease is taken before the enqueue, so a second sweeper (another beat) skips these rows; a job
    lost with the broker is not lost for good, its lease runs out and the next sweep claims it again.
    """
    claims: tuple[tuple[str, Callable[[], list[int]]], ...] = (
        (FIRE_TIMER, lambda: timers.claim_due(runtime, batch, kind=TimerKind.TIMER)),
        (RUN_SERVICE, lambda: timers.claim_due(runtime, batch, kind=TimerKind.SERVICE)),
        (ADVANCE, lambda: outbox.claim_due(runtime, batch)))
    enqueued = 0
    for job, claim in claims:
        while instance_ids := claim():
            for instance_id in instance_ids:
                enqueue(job, instance_id)
            enqueued += len(instance_ids)
    return enqueued


@app.task(name=ADVANCE, **JOB)
def advance(instance_id: int, after: int | None = None) -> bool:
    """Run the automatic steps that follow a committed step (scale-out mode's half of a request): the one that
    wrote version `after` (none when the sweep re-drives a lost job)."""
    return step(worker_runtime(), instance_id, StepKind.ADVANCE, after)


@app.task(name=FIRE_TIMER, **JOB)
def fire_timer(instance_id: int) -> bool:
    """Fire the due timers of one instance (and run what follows them)."""
    return step(worker_runtime(), instance_id, StepKind.TIMER)


@app.task(name=RUN_SERVICE, **JOB)
def run_service(instance_id: int) -> bool:
    """Make the due attempt of an instance's service task (and run what follows it)."""
    return step(worker_runtime(), instance_id, StepKind.SERVICE)


@app.task(name=SWEEP, **JOB)
def sweep() -> int:
    """The beat's job: claim due timers and lost `advance` jobs, enqueue their jobs; then raise the SLA notices
    that came due."""
    runtime = worker_runtime()
    by_name = {FIRE_TIMER: fire_timer, RUN_SERVICE: run_service, ADVANCE: advance}
    enqueued = enqueue_due(runtime, lambda job, instance_id: by_name[job].apply_async((instance_id,)))
    routing.sweep(runtime)  # throws between cases whose routing died with its process
    sla.sweep(runtime)
    return enqueued


@app.task(name=SEND_MAIL, **JOB)
def send_mail() -> int:
    """The beat's mail job: send the e-mail copies of notices that are due (none without SMTP settings)."""
    runtime = worker_runtime()
    with runtime.context.entered():
        return mail.sweep(runtime.settings, runtime.db)


@app.task(name=RETENTION, **JOB)
def retain() -> int:
    """The beat's hourly job: delete expired tokens, stale drafts and orphan blobs (engine/background/retention.py)."""
    removed = retention.run(worker_runtime())
    return removed.tokens + len(removed.drafts) + len(removed.blobs) + len(removed.spool)


def dispatcher_for(settings: Settings) -> Callable[[int, int], None] | None:
    """What `Runtime(dispatch=…)` takes: None (embedded, steps run inline) unless a broker is set.

    The step is already committed when this runs, with its outbox row: a broker outage must not fail the
    request, and need not lose the work either — the error is logged, and the sweep enqueues the job again
    once the row's lease (`TONGBAN_OUTBOX_LEASE`) has run out and the broker is back.
    """
    if settings.broker_url is None:
        return None
    publisher = make_app(settings.broker_url, current=False)

    def dispatch(instance_id: int, version: int) -> None:
        try:
            publisher.send_task(ADVANCE, args=(instance_id, version), queue=QUEUE, retry=True)
        except BrokerUnreachable:
            log.exception("消息队列不可用，办件 %s 的后续步骤暂未入队，恢复后由定时扫描重新入队 (broker unreachable: "
                          "advance of instance %s not enqueued; the sweep re-drives it when the broker is back, "
                          "or run `tongban advance %s`)", instance_id, instance_id, instance_id)

    return dispatch


def runtime_for(settings: Settings) -> Runtime:
    """The runtime a web process or the CLI uses: inline steps when embedded, enqueued ones with a broker."""
    return Runtime(Database(settings.database_url), settings, dispatch=dispatcher_for(settings))
