"""Scale-out benchmark: tongban as a district runs it on several machines, here on one — gunicorn web processes,
Celery workers and the beat on PostgreSQL + Redis — with N HTTP clients driving whole cases.

Per configuration (one `tongban worker -c W` for each W of --workers, the web processes and the beat kept
running), --clients threads each drive `sample_approval` cases one after another for --seconds: the applicant
starts one, waits (polling the case) for its 填写申请 task that a worker's `advance` creates, completes it;
the window clerk waits for 审批, completes it, and waits for `completed` (the workers' last automatic steps).
Meanwhile another client starts a case of a process with a one-second timer twice a second.  Printed per
configuration:

* cases/s — cases taken to `completed` over the run's wall time;
* HTTP latency p50/p95 of each kind of request (start, complete, poll), in ms, as the clients saw it;
* finish — from the case's last task completion to its end (the database's times: the workers' lag), ms;
* timer lag — a timer's `timer_fired` event minus its due time, s (the beat sweeps every second);
* load — the 1-minute load average before and after the run (the machine is shared: read figures beside it).

    python bench/scale.py [--workers 1,2,4] [--clients 16] [--seconds 30] [--web-processes 2]
                          [--warmup 5] [--postgres URL] [--broker URL]

The database is a fresh `tongban_bench_scale_<pid>` on the server --postgres names (default
$TONGBAN_BENCH_PG_URL, else the local one), dropped afterwards; the broker (default $TONGBAN_BENCH_BROKER_URL,
else the local Redis) has its job queue purged first: on a shared machine give each run a broker of its own
(e.g. `redis://127.0.0.1:6379/9`), as workers of two runs on one queue would take each other's jobs.  Every
process it starts is killed when it ends, Ctrl-C and SIGTERM included.
The machinery (processes, clients, the database's figures) is tests/integration's, which test_scale.py runs for
a few seconds.  Run by hand; this is not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python bench/scale.py`: bench/ must not shadow the `engine` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import os
import signal
import tempfile
import time
from typing import Any, NoReturn

import psutil
from sqlalchemy import text

from bench.engine import DEFAULT_PG, postgres_database, prepare_database
from engine.store.db import Database
from tests.integration.cluster import Cluster, free_port, purge, wait_for
from tests.integration.load import (
    TIMED,
    Load,
    await_ready,
    completed,
    drive,
    finishing,
    quantiles,
    timer_lags,
    tokens,
)
from tests.support.timers import deploy_timed

DEFAULT_BROKER = "redis://127.0.0.1:6379/0"
DATABASE = f"tongban_bench_scale_{os.getpid()}"  # two runs at once do not share one
TIMER_EVERY = 0.5  # seconds between two timer cases
COLUMNS = ("workers", "cases", "cases/s", "requests/case", "start ms", "complete ms", "inbox ms", "case ms",
           "finish ms", "timer lag s", "load before→after")
REQUESTS = ("start", "complete", "inbox", "case")  # a sample case's requests (not the timer cases' starts)
CPU_PARTS = ("web", "worker", "beat", "postgres", "redis", "clients")
CPU_COLUMNS = ("workers", *(f"{p} ms" for p in CPU_PARTS), "total ms", "cores/total: cases/s")


def ms(values: list[float]) -> str:
    p50, p95 = quantiles(values)
    return f"{p50 * 1000:.0f} / {p95 * 1000:.0f}"


def row(workers: int, load: Load, finish: list[float], lags: list[float], before: float, after: float) -> list[str]:
    by_kind = load.timings.by_kind
    lag = quantiles(lags)
    requests = sum(len(by_kind[k]) for k in REQUESTS) / max(len(load.cases), 1)
    return [str(workers), str(len(load.cases)), f"{load.per_second:.1f}", f"{requests:.1f}",
            *(ms(by_kind[k]) for k in REQUESTS), ms(finish), f"{lag[0]:.2f} / {lag[1]:.2f}",
            f"{before:.2f}→{after:.2f}"]


def cpu_row(workers: int, cpu: dict[str, float], cases: int) -> list[str]:
    per_case = {part: cpu.get(part, 0.0) * 1000 / max(cases, 1) for part in CPU_PARTS}
    total = sum(per_case.values())
    return [str(workers), *(f"{per_case[p]:.1f}" for p in CPU_PARTS), f"{total:.1f}",
            f"{(os.cpu_count() or 1) * 1000 / total:.0f}" if total else "-"]


def table(columns: tuple[str, ...], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [list(columns), *rows]) for i in range(len(columns))]
    lines = [" | ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=True)) for r in [list(columns), *rows]]
    return "\n".join([lines[0], "-+-".join("-" * w for w in widths), *lines[1:]])


class CpuMeter:
    """CPU seconds (user + system) each part spent: this machine's processes, read from /proc by psutil.

    On a shared machine the wall-clock figures depend on what else runs; the CPU a case costs does not (much), and
    cores divided by it bounds the cases per second a machine can do, whatever the number of processes."""

    def __init__(self, cluster: Cluster, db: Database) -> None:
        self.cluster, self.db = cluster, db

    def _parts(self) -> dict[str, list[psutil.Process]]:
        parts: dict[str, list[psutil.Process]] = {}
        for name, proc in self.cluster.procs.items():
            root = psutil.Process(proc.pid)
            parts[name.split("-")[0]] = [root, *root.children(recursive=True)]
        with self.db.engine.connect() as conn:  # the server processes serving this database
            backends = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
                                         " AND pid <> pg_backend_pid()")).scalars().all()
        parts["postgres"] = [psutil.Process(pid) for pid in backends]
        parts["redis"] = [p for p in psutil.process_iter(["name"]) if p.info["name"] == "redis-server"]
        parts["clients"] = [psutil.Process()]  # this process: the client threads
        return parts

    def snapshot(self) -> dict[str, dict[int, float]]:
        out: dict[str, dict[int, float]] = {}
        for name, procs in self._parts().items():
            out[name] = {}
            for proc in procs:
                try:
                    times = proc.cpu_times()
                except psutil.NoSuchProcess:
                    continue
                out[name][proc.pid] = times.user + times.system
        return out

    @staticmethod
    def spent(before: dict[str, dict[int, float]], after: dict[str, dict[int, float]]) -> dict[str, float]:
        """Per part, the CPU seconds between the snapshots (a process new since `before` counts from 0)."""
        return {name: sum(t - before.get(name, {}).get(pid, 0.0) for pid, t in pids.items())
                for name, pids in after.items()}


def one_configuration(cluster: Cluster, db: Database, args: argparse.Namespace, base_url: str,
                      tokens_: dict[str, str], workers: int) -> tuple[list[str], list[str]]:
    """Start a worker with `workers` processes, warm up, measure, wait for the timers, stop the worker."""
    name = f"worker-{workers}"
    cluster.worker(name, workers)
    warm = drive(base_url, tokens_["haiyun"], tokens_["window"], min(args.clients, 2), args.warmup)
    if warm.failures or not warm.cases:
        raise SystemExit(f"warm-up failed: {warm.failures[:3]} (logs in {cluster.workdir})")
    meter = CpuMeter(cluster, db)
    before, cpu_before = os.getloadavg()[0], meter.snapshot()
    load = drive(base_url, tokens_["haiyun"], tokens_["window"], args.clients, args.seconds, TIMER_EVERY)
    after, cpu = os.getloadavg()[0], CpuMeter.spent(cpu_before, meter.snapshot())
    if load.failures:
        print(f"  {len(load.failures)} client(s) failed, e.g. {load.failures[0]}")
    if not wait_for(lambda: completed(db, TIMED, load.timer_cases) == len(load.timer_cases), 60):
        print(f"  timer cases: only {completed(db, TIMED, load.timer_cases)} of {len(load.timer_cases)} completed")
    cluster.stop(name, grace=20)
    return (row(workers, load, finishing(db, load.cases), timer_lags(db, load.timer_cases), before, after),
            cpu_row(workers, cpu, len(load.cases)))


def _interrupted(signum: int, _frame: Any) -> NoReturn:
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", default="1,2,4", help="worker processes per configuration, comma-separated")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients (threads)")
    parser.add_argument("--seconds", type=float, default=30, help="measured seconds per configuration")
    parser.add_argument("--web-processes", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of 2 clients before each measurement")
    parser.add_argument("--postgres", default=os.environ.get("TONGBAN_BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--broker", default=os.environ.get("TONGBAN_BENCH_BROKER_URL", DEFAULT_BROKER))
    args = parser.parse_args(argv)
    counts = [int(w) for w in args.workers.split(",")]
    signal.signal(signal.SIGTERM, _interrupted)  # a `kill` cleans up as Ctrl-C does
    signal.signal(signal.SIGINT, signal.default_int_handler)  # also where it was started ignoring it (`… &`)

    purge(args.broker)
    rows: list[list[str]] = []
    cpu_rows: list[list[str]] = []
    with postgres_database(args.postgres, DATABASE) as db, \
            tempfile.TemporaryDirectory(prefix="tongban-scale-") as tmp, \
            Cluster(db.url, args.broker, Path(tmp)) as cluster:
        prepare_database(db)
        deploy_timed(db, "PT1S")
        tokens_ = tokens(db, "haiyun", "window")
        port = free_port()
        cluster.web("web", args.web_processes, port)
        cluster.beat("beat")
        base_url = f"http://127.0.0.1:{port}"
        if not await_ready(base_url):
            raise SystemExit(f"the web service did not become ready:\n{cluster.log('web')[-3000:]}")
        print(f"{args.web_processes} web processes, {args.clients} clients, {args.seconds:g} s per configuration, "
              f"broker {args.broker.split('://')[0]}, PostgreSQL {db.engine.url.host}; "
              f"{os.cpu_count()} CPUs; latencies p50 / p95")
        for workers in counts:
            began = time.monotonic()
            measured, spent = one_configuration(cluster, db, args, base_url, tokens_, workers)
            rows.append(measured)
            cpu_rows.append(spent)
            print(f"  {workers} worker process(es) measured ({time.monotonic() - began:.0f} s)", flush=True)
    print(table(COLUMNS, rows))
    print(f"\nCPU per case (user + system, ms; redis is shared with whatever else uses it), and {os.cpu_count()} "
          "cores divided by the total: the most cases per second this machine could do")
    print(table(CPU_COLUMNS, cpu_rows))


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:  # the with-blocks have killed the processes and dropped the database by now
        raise SystemExit("interrupted: every process it started is stopped, its database dropped") from None
