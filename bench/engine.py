"""Engine benchmark: the sample approval life cycle through tongban's runtime vs. the raw SpiffWorkflow floor.

What it measures, one client, sequentially, on `processes/sample/approval.bpmn` (start → "submit"
by the applicant → gateway → "approve" by the window clerk → end, amount above the threshold):

* floor — SpiffWorkflow alone, no database: the spec parsed once; per instance create the
  workflow, run to "submit", complete "submit", complete "approve", and serialize the whole
  workflow to JSON with the stock serializer after each of those three steps (the least a
  persisted engine must do). Default script engine.
* tongban — the runtime API (`Runtime.start` / `Runtime.complete`) on a fresh SQLite file
  (WAL, checkpointed in the background as `tongban serve` does) and, when reachable, on a fresh
  PostgreSQL database: per instance, start-to-first-task, complete "submit", complete "approve"
  and the whole life cycle (their sum).
* commit floor — on the same database, three write transactions (one per step) of a one-row INSERT
  each: what durable commits cost whatever the engine does (on PostgreSQL a WAL flush to disk each).
  The life cycle less this floor, over the SpiffWorkflow floor, is printed beside the plain ratio.

Each backend is measured on its own, taking turns with both floors, 25 instances each (after
warm-up), so whatever else the machine does weighs on the floor and the backend alike and the
ratio stays fair; finer interleaving would make each run on caches the other just evicted, and
running backends side by side lets PostgreSQL's server and I/O slow SQLite down. Each table
gives median and p95 (nearest rank) in ms, instances per second (1000 / mean life cycle) and the
life cycle median over the floor's median, plus the SQL statements and commits of each step
(counted with SQLAlchemy event listeners on extra, untimed instances).

    python bench/engine.py [-n 300] [--warmup 20] [--postgres URL | --no-postgres]
    python bench/engine.py --workers 1,2,4 [-n 300] [--rounds 3] [--postgres URL]

`--workers` measures throughput instead: for each N, N processes (each its own runtime and
connection pool, as N web or worker processes would be) drive the same life cycle on one fresh
PostgreSQL database at once, `-n` instances in all, released together; instances/s is the
instances finished over the wall time from release to the last one done, the median of
`--rounds` rounds (each round's figure is printed too).

PostgreSQL: `--postgres URL`, else $TONGBAN_BENCH_PG_URL, else the default below, which is
skipped (saying why) when unreachable. Whatever database the URL names, the benchmark works in
its own database `tongban_bench_engine` on that server (connecting to `postgres` there to drop
and re-create it first, and to drop it afterwards).

Engine settings come from the environment as in a deployment (database and folders overridden),
so e.g. `TONGBAN_WORKFLOW_CACHE=0 python bench/engine.py` measures without the live-workflow
cache. `--report` declares `report:` keys on the sample (REPORT below), to measure what report facts
(engine/case/casefacts.py) cost per step. Run by hand; this is not a test.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python bench/engine.py`: bench/ must not shadow the `engine` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import math
import multiprocessing
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG
from SpiffWorkflow.task import TaskState
from sqlalchemy import create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from engine.base.settings import Settings
from engine.cli.accounts import DEMO_ORGS, DEMO_USERS
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.registry import deploy
from engine.definitions.workspace import read_tree
from engine.people.access import Actor
from engine.people.accounts import add_user, ensure_org
from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView
from engine.store.db import Database

ROOT = Path(__file__).resolve().parent.parent
KEY = "sample_approval"
START = {"title": "基准测试", "amount": 50000}
SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "a@b.cn", "commitment": True}
APPROVE = {"decision": "approved", "comment": "同意"}
REPORT = b"report: [title, amount, contact, mobile, email, commitment, decision, missing]\n"
#: The start form's default, which tongban fills in; plain SpiffWorkflow needs it given.
FORM_DEFAULTS = {"threshold": 10000}
STEPS = ("start", "complete submit", "complete approve")
ROWS = (*STEPS, "life cycle")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
PG_DATABASE = "tongban_bench"  # postgres_database's default, which bench/timers.py uses
#: This benchmark's own: the timers benchmark drops and re-creates `tongban_bench` and may run at the same time.
ENGINE_DATABASE = "tongban_bench_engine"
FLOOR = "floor: SpiffWorkflow alone, no database"
#: What durability alone costs on the backend: one write transaction per step of the life cycle, each a one-row
#: INSERT and its COMMIT (on PostgreSQL the WAL's flush to disk; on SQLite, WAL with synchronous=NORMAL, no sync)
COMMITS = "commit floor: three one-row write transactions, nothing else"
BLOCK = 25  # instances a life cycle runs in a row before the next one takes its turn

#: One step of a life cycle: (untimed preparation from the previous step's result, the timed action).
Step = tuple[Callable[[Any], Any], Callable[[Any], Any]]
Timings = dict[str, list[float]]


def p95(values: list[float]) -> float:
    """Nearest rank: the smallest value with at least 95 % of the values at or below it."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]


def _same(value: Any) -> Any:
    return value


def drive(steps: list[Step], probe: Callable[[], int]) -> list[int]:
    """Run one life cycle; return, per step, how far `probe` moved across its action only."""
    result: Any = None
    spent = []
    for prepare, act in steps:
        argument = prepare(result)
        before = probe()
        result = act(argument)
        spent.append(probe() - before)
    return spent


def measure(n: int, warmup: int, cycles: dict[str, list[Step]], block: int = BLOCK) -> dict[str, Timings]:
    """Every life cycle warmed up, then measured in turns of `block` instances each: whatever else the
    machine does weighs on all of them alike, while each runs long enough to keep its own code hot."""
    timings = {name: {row: [] for row in ROWS} for name in cycles}
    for steps in cycles.values():
        for _ in range(warmup):
            drive(steps, time.perf_counter_ns)
    for done in range(0, n, block):
        for name, steps in cycles.items():
            for _ in range(min(block, n - done)):
                spent = [ns / 1e6 for ns in drive(steps, time.perf_counter_ns)]
                for row, ms in zip(ROWS, (*spent, sum(spent)), strict=True):
                    timings[name][row].append(ms)
    return timings


# -- the floor: SpiffWorkflow alone ------------------------------------------------------------------
def floor_steps() -> list[Step]:
    parser = SpiffBpmnParser()
    parser.add_bpmn_file(str(ROOT / "processes/sample/approval.bpmn"))
    spec, subprocess_specs = parser.get_spec(KEY), parser.get_subprocess_specs(KEY)
    serializer = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(SPIFF_CONFIG))

    def start(_: None) -> BpmnWorkflow:
        workflow = BpmnWorkflow(spec, subprocess_specs)
        workflow.get_next_task(state=TaskState.READY).data.update({**FORM_DEFAULTS, **START})
        workflow.do_engine_steps()
        serializer.serialize_json(workflow)
        return workflow

    def complete(name: str, data: dict[str, Any]) -> Callable[[BpmnWorkflow], BpmnWorkflow]:
        def act(workflow: BpmnWorkflow) -> BpmnWorkflow:
            task = workflow.get_next_task(state=TaskState.READY, spec_name=name)
            task.data.update(data)
            task.run()
            workflow.do_engine_steps()
            serializer.serialize_json(workflow)
            return workflow
        return act

    return [(_same, start), (_same, complete("submit", SUBMIT)), (_same, complete("approve", APPROVE))]


# -- tongban through its runtime API, for any Database -----------------------------------------------
def prepare_database(db: Database, report: bool = False) -> Runtime:
    """Schema, demo organisations and users (no passwords), the processes deployed; a runtime on top."""
    db.upgrade()
    catalogue = RoleCatalogue.from_yaml((ROOT / "processes/roles.yaml").read_bytes())
    with db.write() as session:
        for code, name, kind, credit_code in DEMO_ORGS:
            ensure_org(session, code, name, kind, credit_code)
        for username, org, roles in DEMO_USERS:
            add_user(session, catalogue, username, org, roles, password=None)
    files = {path: content for path, content in read_tree(ROOT / "processes", ROOT / "forms").items()
             if path == "processes/roles.yaml" or path.startswith(("processes/sample/", "forms/sample_"))}
    if report:
        files["processes/sample/process.yaml"] += REPORT
    deploy(db, files)
    # Settings as a deployment reads them (so e.g. TONGBAN_WORKFLOW_CACHE=0 applies), pointed at this database.
    return Runtime(db, Settings.from_env({
        **os.environ, "TONGBAN_DATABASE_URL": db.url, "TONGBAN_PROCESSES": str(ROOT / "processes"),
        "TONGBAN_FORMS": str(ROOT / "forms"), "TONGBAN_INSTANCE": str(Path(tempfile.gettempdir()) / "tongban-bench"),
    }))


def _task_id(view: InstanceView, element_id: str) -> str | None:
    return next((t.id for t in view.open_tasks if t.element_id == element_id), None)


def tongban_steps(runtime: Runtime) -> list[Step]:
    """The life cycle as clients would drive it; actors are loaded once, here, outside any timing."""
    applicant, clerk = runtime.actor("haiyun"), runtime.actor("window")

    def approve_task(submitted: InstanceView) -> str:
        # The applicant's view does not list the clerk's task (not theirs to see): the clerk's client
        # learns its id from the clerk's inbox. That request is a separate client's, so it is not timed.
        found = _task_id(submitted, "approve")
        if found is None:
            found = next(t.id for t in runtime.tasks(clerk)
                         if t.instance_id == submitted.id and t.element_id == "approve")
        return found

    def complete(actor: Actor, data: dict[str, Any]) -> Callable[[str], InstanceView]:
        return lambda task_id: runtime.complete(task_id, data, actor)

    return [
        (_same, lambda _: runtime.start(KEY, START, applicant)),
        (lambda started: _task_id(started, "submit"), complete(applicant, SUBMIT)),
        (approve_task, complete(clerk, APPROVE)),
    ]


def commit_steps(db: Database) -> list[Step]:
    """The commit floor's life cycle: as many durable write transactions as the life cycle commits, empty else."""
    with db.writing() as conn:
        conn.exec_driver_sql("CREATE TABLE bench_commits (n INTEGER)")  # no key, no index: one row, nothing else

    def commit(_: Any) -> None:
        with db.writing() as conn:
            conn.exec_driver_sql("INSERT INTO bench_commits (n) VALUES (1)")

    return [(_same, commit) for _ in STEPS]


def sql_per_step(db: Database, steps: list[Step]) -> list[tuple[int, int]]:
    """(statements, commits) each step sends, counted on two extra instances with event listeners."""
    counts = {"statements": 0, "commits": 0}

    def on_statement(*_: Any) -> None:
        counts["statements"] += 1

    def on_commit(*_: Any) -> None:
        counts["commits"] += 1

    event.listen(db.engine, "before_cursor_execute", on_statement)
    event.listen(db.engine, "commit", on_commit)
    try:
        statements = drive(steps, lambda: counts["statements"])
        commits = drive(steps, lambda: counts["commits"])
    finally:
        event.remove(db.engine, "before_cursor_execute", on_statement)
        event.remove(db.engine, "commit", on_commit)
    return list(zip(statements, commits, strict=True))


def print_sql(db: Database, steps: list[Step]) -> None:
    counts = sql_per_step(db, steps)
    print("  SQL per step       " + ", ".join(f"{step}: {s} statements + {c} commit"
                                             for step, (s, c) in zip(STEPS, counts, strict=True))
          + " (BEGIN not counted)")


# -- backends -----------------------------------------------------------------------------------------
@contextmanager
def sqlite_database() -> Iterator[Database]:
    with tempfile.TemporaryDirectory(prefix="tongban-bench-") as tmp:
        db = Database(f"sqlite:///{tmp}/bench.db")  # engine.store.db turns on WAL for every connection
        db.background_checkpoints()  # as `tongban serve` runs it
        try:
            yield db
        finally:
            db.dispose()


def _admin(url: str, *statements: str) -> None:
    """Run statements, autocommitted, in the `postgres` database of the server `url` points at."""
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT",
                          connect_args={"connect_timeout": 5})
    try:
        with admin.connect() as conn:
            for sql in statements:
                conn.exec_driver_sql(sql)
    finally:
        admin.dispose()


@contextmanager
def postgres_database(url: str, name: str = PG_DATABASE) -> Iterator[Database]:
    """A fresh database `name` on the server `url` points at, dropped afterwards.

    Raises OperationalError when the server cannot be reached.
    """
    _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}")
    db = Database(make_url(url).set(database=name).render_as_string(hide_password=False))
    try:
        yield db
    finally:
        db.dispose()
        _admin(url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")  # a killed process may still hold one


def postgres_url(args: argparse.Namespace) -> tuple[str | None, bool]:
    """(URL or None when turned off, whether the user asked for it explicitly)."""
    if args.no_postgres:
        return None, False
    explicit = args.postgres or os.environ.get("TONGBAN_BENCH_PG_URL")
    return explicit or DEFAULT_PG, bool(explicit)


def open_postgres(args: argparse.Namespace, stack: ExitStack) -> Database | None:
    """The PostgreSQL database to bench, or None after saying why it is skipped."""
    url, explicit = postgres_url(args)
    if url is None:
        print("\nPostgreSQL skipped: --no-postgres")
        return None
    try:
        return stack.enter_context(postgres_database(url, ENGINE_DATABASE))
    except OperationalError as exc:
        reason = str(exc.orig or exc).strip().splitlines()[0]
        if explicit:
            raise SystemExit(f"PostgreSQL at {make_url(url)} is not usable: {reason}") from None
        print(f"\nPostgreSQL skipped: the default server {make_url(url)} is not reachable ({reason}); "
              "give --postgres URL or set TONGBAN_BENCH_PG_URL")
        return None


# -- output -------------------------------------------------------------------------------------------
def report(name: str, timings: Timings, warmup: int, floor_median: float | None) -> None:
    life = timings["life cycle"]
    print(f"\n{name} — {len(life)} instances after {warmup} warm-up, 1 client, sequential")
    print(f"  {'':18} {'median ms':>10} {'p95 ms':>10}")
    for row in ROWS:
        print(f"  {row:18} {statistics.median(timings[row]):10.3f} {p95(timings[row]):10.3f}")
    line = f"  instances/s        {1000 / statistics.mean(life):10.1f}"
    if floor_median is not None:
        line += (f"   life cycle median / floor median ({floor_median:.3f} ms, measured alongside)"
                 f" = {statistics.median(life) / floor_median:.2f}×")
    print(line)


# -- throughput with N processes ------------------------------------------------------------------------
def _throughput_worker(url: str, count: int, warmup: int, go: Any, done: Any) -> None:
    """One client process: its own runtime on the shared database; warm up, wait for the release, run."""
    runtime = Runtime(Database(url), Settings.from_env({**os.environ, "TONGBAN_DATABASE_URL": url}))
    steps = tongban_steps(runtime)

    def life_cycle() -> None:
        value = None
        for prepare, act in steps:
            value = act(prepare(value))

    for _ in range(warmup):
        life_cycle()
    go.wait()
    for _ in range(count):
        life_cycle()
    done.put(time.perf_counter())


def throughput(url: str, workers: int, instances: int, warmup: int) -> float:
    """Instances per second with `workers` processes sharing `instances` life cycles."""
    forked = multiprocessing.get_context("fork")  # before any connection: Database pools are made in the child
    go, done = forked.Barrier(workers + 1), forked.Queue()
    shares = [instances // workers + (i < instances % workers) for i in range(workers)]
    processes = [forked.Process(target=_throughput_worker, args=(url, share, warmup, go, done)) for share in shares]
    for process in processes:
        process.start()
    go.wait()
    released = time.perf_counter()
    finished = max(done.get(timeout=600) for _ in processes)
    for process in processes:
        process.join()
        if process.exitcode:
            raise SystemExit(f"a benchmark process failed (exit code {process.exitcode})")
    return instances / (finished - released)


def bench_throughput(db: Database, args: argparse.Namespace) -> None:
    prepare_database(db, args.report)
    url = db.url
    db.dispose()  # the children open their own pools
    host = make_url(url)
    print(f"\nthroughput on PostgreSQL ({host.host}:{host.port or 5432}/{host.database}), sample life cycle, "
          f"{args.instances} instances per round, {args.rounds} rounds, {args.warmup} warm-up per process")
    print(f"  {'processes':>9} {'median inst/s':>14}   rounds")
    for workers in args.workers:
        rounds = [throughput(url, workers, args.instances, args.warmup) for _ in range(args.rounds)]
        print(f"  {workers:9d} {statistics.median(rounds):14.1f}   {', '.join(f'{r:.1f}' for r in rounds)}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", "--instances", type=int, default=300, help="measured instances per backend")
    parser.add_argument("--warmup", type=int, default=20, help="instances run first and not counted")
    parser.add_argument("--postgres", metavar="URL", help=f"PostgreSQL server URL (default: "
                        f"$TONGBAN_BENCH_PG_URL, else {DEFAULT_PG} if reachable)")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--report", action="store_true", help="the sample declares report keys (case facts)")
    parser.add_argument("--workers", metavar="N[,N…]", type=lambda v: [int(n) for n in v.split(",")],
                        help="throughput mode on PostgreSQL: N client processes at once, e.g. 1,2,4")
    parser.add_argument("--rounds", type=int, default=3, help="throughput rounds per N (the median is reported)")
    args = parser.parse_args(argv)
    if args.instances < 1 or args.warmup < 0:
        parser.error("--instances must be at least 1 and --warmup not negative")
    if args.workers is not None and (min(args.workers) < 1 or args.rounds < 1 or args.no_postgres):
        parser.error("--workers needs PostgreSQL, N of at least 1 and --rounds of at least 1")
    return args


def bench_backend(name: str, db: Database, args: argparse.Namespace, floor: list[Step], show_floor: bool) -> None:
    """One backend, taking turns with the floor (measured afresh beside it, for the ratio), then its SQL counts."""
    steps = tongban_steps(prepare_database(db, args.report))
    timings = measure(args.instances, args.warmup, {FLOOR: floor, COMMITS: commit_steps(db), name: steps})
    floor_median = statistics.median(timings[FLOOR]["life cycle"])
    if show_floor:
        report(FLOOR, timings[FLOOR], args.warmup, None)
    report(name, timings[name], args.warmup, floor_median)
    print_sql(db, steps)
    commits, life = (statistics.median(timings[c]["life cycle"]) for c in (COMMITS, name))
    print(f"  {COMMITS}: {commits:.3f} ms ({commits / floor_median:.2f}× the floor); the life cycle without it "
          f"{life - commits:.3f} ms = {(life - commits) / floor_median:.2f}× the floor")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.workers:
        with ExitStack() as stack:
            postgres = open_postgres(args, stack)
            if postgres is None:
                raise SystemExit("--workers needs a reachable PostgreSQL")
            bench_throughput(postgres, args)
        return
    floor = floor_steps()
    # One backend at a time: PostgreSQL's server processes and I/O would otherwise weigh on SQLite's figures.
    with sqlite_database() as db:
        bench_backend("tongban on SQLite (temporary file, WAL, background checkpoints)", db, args, floor,
                      show_floor=True)
    with ExitStack() as stack:
        postgres = open_postgres(args, stack)
        if postgres is not None:
            url = make_url(postgres.url)
            bench_backend(f"tongban on PostgreSQL ({url.host}:{url.port or 5432}/{url.database})", postgres, args,
                          floor, show_floor=False)


if __name__ == "__main__":
    main()
