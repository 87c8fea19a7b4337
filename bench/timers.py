"""Timer benchmark: N timers due at the same moment, fired by real `tongban worker`s on PostgreSQL + a broker.

Starts W workers and one beat, then N instances of a process whose only step is an intermediate timer
with `timeDate` = one moment T a little ahead (chosen from a pilot's start rate so that every instance
is waiting before T).  Reports, from the database alone:

* drain — T to the last `timer_fired` event, and fired per second over that time;
* lateness — per timer, its `timer_fired` event's `at` minus the timer row's `due_at`: p50, p95, max;
* duplicates — `timer_fired` events beyond one per instance (must be 0).

    python bench/timers.py [-n 10000] [--workers 2] [--concurrency 2] [--postgres URL] [--broker URL]

Target: 10,000 timers drained within 60 s by 2 workers.  The database is a fresh `tongban_bench` on the
server --postgres names (default $TONGBAN_BENCH_PG_URL, else the local one), dropped afterwards; the
broker (default $TONGBAN_BENCH_BROKER_URL, else the local Redis) has its job queue purged first.
Run by hand; this is not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python bench/timers.py`: bench/ must not shadow the `engine` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta

from sqlalchemy import func, select

from bench.engine import DEFAULT_PG, p95, postgres_database, prepare_database
from engine.base.clock import now
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from engine.store.models import Event, Timer
from tests.integration.cluster import Cluster, purge, wait_for
from tests.support import bpmn, form_props, workspace

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
PILOT = 200
AT_T = (
    f'<bpmn:startEvent id="start">{form_props("start.json")}<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
    '<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
    "<bpmn:timerEventDefinition><bpmn:timeDate>due</bpmn:timeDate></bpmn:timerEventDefinition>"
    "</bpmn:intermediateCatchEvent>"
    '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
    '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />'
)


def start_all(runtime: Runtime, count: int) -> datetime:
    """Start `count` instances all due at one moment T, which lies after the last start; returns T."""
    start_form = {"type": "object", "properties": {"due": {"type": "string"}}}  # names what the timer reads
    deploy(runtime.db, workspace({"t.bpmn": bpmn("at_t", AT_T, {"申请人": ["start", "wait", "end"]})},
                                 {"start.json": start_form}, key="at_t"))
    applicant = runtime.actor("haiyun")
    began = time.perf_counter()
    far = (now() + timedelta(days=1)).isoformat()
    for _ in range(PILOT):  # not counted: their timers are a day away
        runtime.start("at_t", {"due": far}, applicant)
    per_start = (time.perf_counter() - began) / PILOT
    due = now() + timedelta(seconds=count * per_start * 1.3 + 10)
    for _ in range(count):
        runtime.start("at_t", {"due": due.isoformat()}, applicant)
    if now() >= due:
        raise SystemExit("starting took longer than planned: T passed before the last start; run again")
    return due


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--timers", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=2, help="pool processes per worker")
    parser.add_argument("--postgres", default=os.environ.get("TONGBAN_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--broker", default=os.environ.get("TONGBAN_BENCH_BROKER_URL", DEFAULT_BROKER))
    parser.add_argument("--timeout", type=float, default=600, help="seconds to wait for the drain")
    args = parser.parse_args(argv)

    purge(args.broker)
    with postgres_database(args.postgres) as db, tempfile.TemporaryDirectory(prefix="tongban-timers-") as tmp, \
            Cluster(db.url, args.broker, Path(tmp)) as cluster:
        runtime = prepare_database(db)
        for i in range(args.workers):
            cluster.worker(f"w{i + 1}", args.concurrency)
        cluster.beat("beat")
        due = start_all(runtime, args.timers)
        print(f"{args.timers} timers due at {due:%H:%M:%S.%f} UTC; {args.workers} workers × {args.concurrency} "
              f"processes, 1 beat, broker {args.broker.split('://')[0]}")

        def fired() -> int:
            with db.read() as s:
                return s.scalar(select(func.count(Timer.id)).where(Timer.due_at == due, Timer.state == "fired"))

        if not wait_for(lambda: fired() == args.timers, timeout=args.timeout + (due - now()).total_seconds()):
            raise SystemExit(f"not drained within {args.timeout} s of T: {fired()} of {args.timers} fired; "
                             f"processes alive: {cluster.alive()}")
        with db.read() as s:
            rows = s.execute(select(Event.instance_id, Event.at, Timer.due_at)
                             .join(Timer, (Timer.instance_id == Event.instance_id) & (Timer.task_id == Event.task_id))
                             .where(Event.kind == "timer_fired", Timer.due_at == due)).all()
    late = [(at - due_at).total_seconds() for _, at, due_at in rows]
    drain = max(at for _, at, _ in rows) - due
    duplicates = len(rows) - len({instance for instance, _, _ in rows})
    print(f"drained in {drain.total_seconds():.1f} s after T ({args.timers / drain.total_seconds():.0f} fired/s)")
    print(f"lateness p50 {statistics.median(late):.2f} s, p95 {p95(late):.2f} s, max {max(late):.2f} s")
    print(f"duplicates {duplicates}")
    if duplicates or drain > timedelta(seconds=60):
        print("TARGET MISSED: 10,000 timers within 60 s, no duplicates")


if __name__ == "__main__":
    main()
