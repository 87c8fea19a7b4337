"""Inbox benchmark: `list_tasks` and `list_instances` on PostgreSQL with 100,000 (or 1,000,000) open tasks.

Seeds a fresh database with bulk SQL (not the runtime): the demo organisations plus 200
enterprises, their users, three process versions, N/2 instances (two thirds open, the rest
completed; the busiest enterprises own most cases), N open human tasks spread over the roles
(applicant tasks in the instance's enterprise, window clerk, reviewers, street staff, handlers
of several departments, a few with no organisation; ~5% claimed, ~10% overdue, created over
the last 90 days) and N/2 completed tasks the indexes must skip.  Then it times, through
`engine.runtime.inbox` on a real `engine.store.db.Database` (the API's code path), for a window clerk, an
enterprise applicant and an administrator: the first page, filtered pages (a common and a rare
process, overdue, a case-number fragment, a word of task names), page 20 reached by following cursors (only the last
hop is timed) and the case list; for a reviewer with a thin queue and one with none, the first
page and the case list.  Per query it prints p50 and p95 wall-clock ms (`time.perf_counter_ns`,
after warm-up) and "sql ms": planning + execution inside PostgreSQL, best of three.

    python bench/inbox.py [--tasks N | --million] [--runs 200] [--warmup 20] [--budget 20]
                          [--keep] [--reuse] [--explain] [--only LABEL] [--sql "CREATE INDEX …"]
                          [--postgres URL]

The database is `tongban_inbox_bench` (created and, unless --keep, dropped). --reuse measures
an existing (kept) one without seeding; --sql runs statements (e.g. a candidate index) before
measuring; --only keeps the queries whose label contains the text; --explain prints
`EXPLAIN (ANALYZE, BUFFERS)` of every measured statement, captured from the engine as it runs.
Each query gets at most --budget seconds of timed runs (but at least 10), so a slow plan cannot
stall the whole run; `n` in the table says how many ran.  On two cores the 1,000,000 seed
takes about 70 s (index upkeep included) and the whole run under two minutes.  Run by hand; the
target is p95 < 20 ms at 1,000,000 open tasks.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python bench/inbox.py`: bench/ must not shadow the `engine` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

from bench.engine import ROOT, p95
from engine.base.identity import uscc_check_character
from engine.cli.accounts import DEMO_ORGS, DEMO_USERS
from engine.definitions.catalogue import RoleCatalogue
from engine.people.access import Actor, scope_tasks
from engine.people.accounts import add_user, ensure_org, load_actor
from engine.runtime.inbox import InstanceFilter, TaskFilter, list_instances, list_tasks
from engine.store.db import Database
from engine.store.models import HumanTask, Instance

DB_NAME = "tongban_inbox_bench"
DEFAULT_URL = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DB_NAME}"
ENTERPRISES = 200
MIN_RUNS = 10
PAGE = 50
#: A task-name search: two characters (too short for trigrams) in a fifth of all names, none the clerk's.
NAME_WORD = "审查"
DEEP_PAGE = 20

#: Who is measured: a window clerk (the busiest queue), the applicant of the busiest enterprise and an
#: administrator in full; beside them a reviewer with a thin queue (0.5% of tasks) and one whose role
#: has no tasks at all, first page and case list only (scoping by task is what they stress).
ACTORS = [("clerk", "window"), ("enterprise", "haiyun"), ("admin", "admin"), ("thin reviewer", "yancao"),
          ("idle reviewer", "inspector")]
MAIN_ACTORS = ("clerk", "enterprise", "admin")

#: Extra users beside DEMO_USERS: more clerks and reviewers to claim tasks, handlers in several departments.
EXTRA_USERS = [
    *((f"window{i}", "xzsp", ["window_clerk"]) for i in range(2, 7)),
    ("zhujian2", "zhujian", ["reviewer_zhujian"]),
    ("xiaofang2", "xiaofang", ["reviewer_xiaofang"]),
    ("street2", "street_bdq", ["street_staff"]),
    ("handler_shichang", "shichang", ["handler"]),
    ("handler_weijian", "weijian", ["handler"]),
    ("handler_zhujian", "zhujian", ["handler"]),
]

#: Where tasks go, per mille: (role, organisation code | "ENT" = the instance's enterprise | None, weight, name).
TASK_MIX: list[tuple[str, str | None, int, str]] = [
    ("applicant", "ENT", 330, "补正材料"),
    ("window_clerk", "xzsp", 250, "窗口受理"),
    ("window_clerk", None, 5, "窗口受理（历史）"),
    ("reviewer_zhujian", "zhujian", 70, "住建审查"),
    ("reviewer_xiaofang", "xiaofang", 60, "消防审查"),
    ("reviewer_shichang", "shichang", 30, "市场监管审查"),
    ("reviewer_weijian", "weijian", 20, "卫健审查"),
    ("reviewer_chengguan", "chengguan", 15, "城管审查"),
    ("reviewer_yancao", "yancao", 5, "烟草审查"),
    ("street_staff", "street_bdq", 70, "楼宇管家走访"),
    ("street_staff", None, 15, "街道核实"),
    ("handler", "chengguan", 25, "承办"),
    ("handler", "shichang", 15, "承办"),
    ("handler", "weijian", 10, "承办"),
    ("handler", "zhujian", 10, "协办"),
    ("dispatcher", "qyfw", 40, "派单"),
    ("fund_secretariat", None, 15, "基金初审"),
    ("fund_committee", None, 10, "委员表决"),
    ("party_committee", None, 5, "党委审议"),
]

#: (process_key, case-number code); INSTANCES_SQL gives them 75%, 23% and 2% of the cases.
PROCESSES = [("bench", "BEN"), ("bench_fire", "FIR"), ("bench_rare", "RAR")]


# --------------------------------------------------------------------------- database

def bench_url(url: str) -> str:
    """The SQLAlchemy URL of our own database on the server `url` points at."""
    return make_url(url).set(database=DB_NAME).render_as_string(hide_password=False)


def libpq_url(url: str, database: str = DB_NAME) -> str:
    """The same server and credentials as a plain libpq URI, for psycopg."""
    return make_url(url).set(drivername="postgresql", database=database).render_as_string(hide_password=False)


def fresh_database(url: str) -> str:
    """Like `bench.engine.fresh_postgres`, but under our own name so the two benchmarks never clash."""
    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {DB_NAME}")
    return bench_url(url)


def drop_database(url: str) -> None:
    with psycopg.connect(libpq_url(url, "postgres"), autocommit=True, connect_timeout=5) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {DB_NAME} WITH (FORCE)")


# --------------------------------------------------------------------------- seeding

def seed_accounts(db: Database) -> None:
    """Organisations and users through the engine's own account functions (a few hundred rows)."""
    catalogue = RoleCatalogue.from_yaml((ROOT / "processes/roles.yaml").read_bytes())
    with db.write() as session:
        for code, name, kind, credit in DEMO_ORGS:
            ensure_org(session, code, name, kind, credit)
        for i in range(1, ENTERPRISES + 1):
            first17 = f"91370202BE{i:07d}"
            ensure_org(session, f"ent_b{i:04d}", f"基准企业{i:04d}有限公司", "enterprise",
                       first17 + uscc_check_character(first17))
        for username, org, roles in [*DEMO_USERS, *EXTRA_USERS]:
            add_user(session, catalogue, username, org, roles)
        for i in range(1, ENTERPRISES + 1):
            add_user(session, catalogue, f"app_b{i:04d}", f"ent_b{i:04d}", ["applicant"])


PROCESS_VERSIONS_SQL = """
INSERT INTO process_versions (process_key, version, content_hash, code, name_zh, name_en, files, deployed_at)
VALUES (%s, 1, repeat('x', 64), %s, %s, %s, '{}', now())
"""

ENTERPRISE_RANKS_SQL = """
CREATE TEMP TABLE ent AS
SELECT (row_number() OVER (ORDER BY o.code <> 'ent_haiyun', o.code <> 'ent_fushan', o.code) - 1)::int AS rank,
       o.id AS org_id, min(u.id) AS user_id
FROM organisations o
JOIN users u ON u.org_id = o.id
JOIN user_roles r ON r.user_id = u.id AND r.role = 'applicant'
WHERE o.kind = 'enterprise'
GROUP BY o.id, o.code
"""

# Instances, oldest first so ids grow with time; the first-ranked enterprises own most cases
# (rank = floor(E * u^2): ent_haiyun ~7%).  Older cases are more likely completed (a third overall);
# 1% each of the rest are suspended or in error, so `status = 'running'` filters something.
INSTANCES_SQL = """
INSERT INTO instances (case_number, process_key, version_id, status, started_by, enterprise_id,
                       created_at, updated_at, ended_at, version, state)
SELECT '370202' || pv.code || to_char(s.created_at AT TIME ZONE 'Asia/Shanghai', 'YYYYMMDD')
       || lpad(row_number() OVER (PARTITION BY pv.code, (s.created_at AT TIME ZONE 'Asia/Shanghai')::date
                                  ORDER BY s.g)::text, 6, '0'),
       pv.process_key, pv.id, s.status, e.user_id, e.org_id, s.created_at, s.created_at,
       CASE WHEN s.status = 'completed' THEN least(now(), s.created_at + interval '5 days') END, 1, '\\x00'::bytea
FROM (SELECT g, now() - interval '90 days' * (1 - g::float8 / %(m)s) AS created_at,
             floor(%(e)s * random() ^ 2)::int AS rank,
             CASE WHEN random() < 0.75 THEN 'bench' WHEN random() < 0.92 THEN 'bench_fire' ELSE 'bench_rare' END
               AS process_key,
             CASE WHEN random() < (2.0 / 3) * (1 - g::float8 / %(m)s) THEN 'completed'
                  WHEN random() < 0.01 THEN 'suspended' WHEN random() < 0.01 THEN 'error' ELSE 'running' END
               AS status
      FROM generate_series(1, %(m)s) g) s
JOIN ent e USING (rank)
JOIN process_versions pv USING (process_key)
ORDER BY s.g
"""

PICK_TABLES_SQL = """
CREATE TEMP TABLE open_inst AS
SELECT row_number() OVER (ORDER BY id) AS rn, id, process_key, enterprise_id, started_by, created_at,
       now() AS until
FROM instances WHERE status <> 'completed';
CREATE TEMP TABLE all_inst AS
SELECT row_number() OVER (ORDER BY id) AS rn, id, process_key, enterprise_id, started_by, created_at,
       coalesce(ended_at, now()) AS until
FROM instances;
CREATE TEMP TABLE slots (slot int PRIMARY KEY, role text, org_id int, for_enterprise bool, name text,
                         element_id text, assignees int[]);
"""

# One row per task: a uniformly drawn instance, a role slot (TASK_MIX per mille), created between the
# instance's start and now (or its end).  Ready: ~5% claimed, ~10% overdue, ~60% due later, the rest
# without a deadline.  Completed: history on any instance, its completer also its assignee.  Inserted
# in created_at order, as in life.
WHO = ("CASE WHEN s.for_enterprise THEN i.started_by "
       "ELSE s.assignees[1 + floor(t.rb * cardinality(s.assignees))::int] END")
TASK_SELECT = """
SELECT gen_random_uuid()::text AS id, i.id AS instance_id, i.process_key AS process_id, i.process_key,
       s.element_id, s.name,
       s.role, CASE WHEN s.for_enterprise THEN i.enterprise_id ELSE s.org_id END AS org_id,
       s.element_id || '.json' AS form, '{state}'::text AS state,
       CASE WHEN t.ra < {claimed} THEN {who} END AS assignee_id,
       i.created_at + t.rc * (i.until - i.created_at) AS created_at,
       CASE WHEN t.rd < 0.10 THEN now() - t.re * interval '10 days'
            WHEN t.rd < 0.70 THEN now() + t.re * interval '20 days' END AS due_at,
       {completed_at} AS completed_at,
       {completed_by} AS completed_by
FROM (SELECT 1 + floor(random() * {count})::bigint AS rn, floor(random() * 1000)::int AS slot,
             random() AS ra, random() AS rb, random() AS rc, random() AS rd, random() AS re
      FROM generate_series(1, {rows})) t
JOIN {inst} i ON i.rn = t.rn
JOIN slots s ON s.slot = t.slot
"""
COMPLETED_AT = "least(i.until, i.created_at + t.rc * (i.until - i.created_at) + t.re * interval '3 days')"


def tasks_sql(tasks: int, opened: int, every: int) -> str:
    """Ready and completed tasks in one INSERT (all numbers are ours, none comes from outside)."""
    ready = TASK_SELECT.format(state="ready", claimed=0.05, who=WHO, completed_at="NULL::timestamptz",
                               completed_by="NULL::int", count=opened, rows=tasks, inst="open_inst")
    done = TASK_SELECT.format(state="completed", claimed=1.0, who=WHO, completed_at=COMPLETED_AT,
                              completed_by=WHO, count=every, rows=tasks // 2, inst="all_inst")
    return ("INSERT INTO human_tasks (id, instance_id, process_id, process_key, element_id, name, role, org_id, form,\n"
            "                         state, assignee_id, created_at, due_at, completed_at, completed_by)\n"
            f"SELECT * FROM ({ready} UNION ALL {done}) x ORDER BY created_at")


def slot_rows(conn: psycopg.Connection) -> Iterator[tuple[Any, ...]]:
    """TASK_MIX expanded to 1000 slots, each with its organisation id and the users who could claim it."""
    orgs = dict(conn.execute("SELECT code, id FROM organisations").fetchall())
    users: dict[tuple[str, int], list[int]] = {}
    for role, org_id, user_id in conn.execute(
            "SELECT r.role, u.org_id, u.id FROM user_roles r JOIN users u ON u.id = r.user_id ORDER BY u.id"):
        users.setdefault((role, org_id), []).append(user_id)
    if sum(weight for _, _, weight, _ in TASK_MIX) != 1000:
        raise ValueError("TASK_MIX weights must add up to 1000")
    slot = 0
    for number, (role, org, weight, name) in enumerate(TASK_MIX):
        org_id = orgs[org] if org not in (None, "ENT") else None
        pool = users.get((role, org_id), []) if org_id else [u for (r, _), ids in users.items() if r == role
                                                              for u in ids]
        for _ in range(weight):
            yield slot, role, org_id, org == "ENT", name, f"task_{number:02d}_{role}", pool or None
            slot += 1


def seed_work(conn: psycopg.Connection, tasks: int) -> None:
    """Process versions, instances and tasks in one transaction of set-based SQL."""
    conn.execute("SET LOCAL session_replication_role = replica")  # rows are consistent by construction: no FK checks
    conn.execute("SET LOCAL synchronous_commit = off")
    conn.execute("SET LOCAL work_mem = '256MB'")
    conn.execute("SELECT setseed(0.42)")
    with conn.cursor() as cur:
        cur.executemany(PROCESS_VERSIONS_SQL, [(key, code, f"基准流程{code}", f"Bench {code}")
                                               for key, code in PROCESSES])
    conn.execute(ENTERPRISE_RANKS_SQL)
    conn.execute(INSTANCES_SQL, {"m": tasks // 2, "e": ENTERPRISES + 2})
    conn.execute(PICK_TABLES_SQL)
    rows = list(slot_rows(conn))  # read before COPY: the connection is busy until it ends
    with conn.cursor() as cur, cur.copy("COPY slots FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)
    opened = conn.execute("SELECT count(*) FROM open_inst").fetchone()[0]
    every = conn.execute("SELECT count(*) FROM all_inst").fetchone()[0]
    conn.execute("ANALYZE open_inst; ANALYZE all_inst; ANALYZE slots")
    conn.execute(tasks_sql(tasks, opened, every))


def seed(db: Database, url: str, tasks: int) -> None:
    started = time.perf_counter()
    db.upgrade()
    seed_accounts(db)
    with psycopg.connect(libpq_url(url)) as conn:
        seed_work(conn, tasks)
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        conn.execute("VACUUM (ANALYZE) organisations, users, user_roles, process_versions, instances, human_tasks")
    print(f"seeded in {time.perf_counter() - started:.1f} s")


def describe(db: Database) -> None:
    with db.reading() as conn:
        states = dict(conn.execute(select(HumanTask.state, func.count()).group_by(HumanTask.state)).all())
        statuses = dict(conn.execute(select(Instance.status, func.count()).group_by(Instance.status)).all())
    print(f"human_tasks: {states}\ninstances:   {statuses}")


def run_sql(url: str, statements: list[str]) -> None:
    with psycopg.connect(libpq_url(url), autocommit=True) as conn:
        for statement in statements:
            started = time.perf_counter()
            conn.execute(statement)
            print(f"ran in {time.perf_counter() - started:.1f} s: {statement}")
        conn.execute("ANALYZE human_tasks; ANALYZE instances")


# --------------------------------------------------------------------------- queries

@dataclass(frozen=True)
class Query:
    label: str
    call: Callable[[], int]  # returns the number of rows on the page


def tasks_query(db: Database, actor: Actor, flt: TaskFilter, cursor: str | None = None) -> Callable[[], int]:
    return lambda: len(list_tasks(db, actor, flt, cursor, PAGE)[0])


def instances_query(db: Database, actor: Actor) -> Callable[[], int]:
    return lambda: len(list_instances(db, actor, InstanceFilter(), None, PAGE)[0])


def deep_cursor(db: Database, actor: Actor, pages: int) -> tuple[int, str | None]:
    """Follow cursors to the start of page `pages` (or the last page there is): (its number, its cursor)."""
    cursor: str | None = None
    for page in range(1, pages):
        _, following = list_tasks(db, actor, TaskFilter(), cursor, PAGE)
        if following is None:
            return page, cursor
        cursor = following
    return pages, cursor


def case_fragment(db: Database, actor: Actor) -> str:
    """The tail of a case number in the actor's inbox, as someone would type it: date and sequence."""
    views, _ = list_tasks(db, actor, TaskFilter(), None, PAGE)
    return views[len(views) // 2].case_number[-12:] if views else "000000000001"


def queries_for(db: Database, who: str, actor: Actor) -> list[Query]:
    """The full set for the three main actors; first page and case list for the side reviewers."""
    first = Query(f"{who}: tasks first page", tasks_query(db, actor, TaskFilter()))
    cases = Query(f"{who}: instances first page", instances_query(db, actor))
    if who not in MAIN_ACTORS:
        return [first, cases]
    fragment = case_fragment(db, actor)
    page, cursor = deep_cursor(db, actor, DEEP_PAGE)
    filters = [("process=bench", TaskFilter(process="bench")), ("process=bench_rare", TaskFilter(process="bench_rare")),
               ("overdue", TaskFilter(overdue=True)), (f"q={fragment}", TaskFilter(q=fragment)),
               (f"q={NAME_WORD}", TaskFilter(q=NAME_WORD))]
    return [first, *(Query(f"{who}: tasks {label}", tasks_query(db, actor, flt)) for label, flt in filters),
            Query(f"{who}: tasks page {page} (last hop)", tasks_query(db, actor, TaskFilter(), cursor)), cases]


def actors(db: Database) -> dict[str, Actor]:
    with db.read() as session:
        return {who: load_actor(session, username) for who, username in ACTORS}


def visible_counts(db: Database, found: dict[str, Actor]) -> None:
    """How many open tasks each measured actor can see: the size of the haystack."""
    with db.reading() as conn:
        for who, actor in found.items():
            query = scope_tasks(select(func.count()).select_from(HumanTask).join(Instance, Instance.id ==
                                HumanTask.instance_id).where(HumanTask.state == "ready", Instance.status == "running"),
                                actor)
            print(f"  {who:13} ({actor.username}, {sorted(actor.roles)}): {conn.execute(query).scalar_one():,} "
                  "open tasks visible")


# --------------------------------------------------------------------------- timing and plans

def time_query(query: Query, warmup: int, runs: int, budget: float) -> tuple[list[float], int]:
    """Warm up, then time up to `runs` calls (at least MIN_RUNS, at most `budget` seconds)."""
    rows = 0
    warm_until = time.perf_counter() + budget / 4
    for i in range(warmup):
        rows = query.call()
        if time.perf_counter() > warm_until and i > 0:
            break
    samples: list[float] = []
    deadline = time.perf_counter() + budget
    while len(samples) < runs and (len(samples) < MIN_RUNS or time.perf_counter() < deadline):
        t0 = time.perf_counter_ns()
        rows = query.call()
        samples.append((time.perf_counter_ns() - t0) / 1e6)
    return samples, rows


@contextmanager
def captured(db: Database) -> Iterator[list[tuple[str, Any]]]:
    """The statements (with their parameters) the engine sends while inside the block."""
    seen: list[tuple[str, Any]] = []

    def listener(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        seen.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", listener)
    try:
        yield seen
    finally:
        event.remove(db.engine, "before_cursor_execute", listener)


def statements_of(db: Database, query: Query) -> list[tuple[str, Any]]:
    with captured(db) as seen:
        query.call()
    return seen


def explained(db: Database, statements: list[tuple[str, Any]], options: str) -> list[Any]:
    """`EXPLAIN (options)` of each statement, run with its own parameters as the engine ran it."""
    raw = db.engine.raw_connection()
    try:
        cur = raw.cursor()
        plans = []
        for statement, parameters in statements:
            cur.execute(f"EXPLAIN ({options}) {statement}", parameters)
            plans.append(cur.fetchall())
        raw.commit()
        return plans
    finally:
        raw.close()


def server_ms(db: Database, statements: list[tuple[str, Any]], tries: int = 3) -> float:
    """Planning + execution time inside PostgreSQL (best of a few), free of Python and network."""
    def once() -> float:
        plans = explained(db, statements, "ANALYZE, TIMING OFF, FORMAT JSON")
        return sum(rows[0][0][0]["Planning Time"] + rows[0][0][0]["Execution Time"] for rows in plans)
    return min(once() for _ in range(tries))


def print_plans(db: Database, query: Query, statements: list[tuple[str, Any]]) -> None:
    for (statement, parameters), rows in zip(statements, explained(db, statements, "ANALYZE, BUFFERS"),
                                             strict=True):
        print(f"\n=== {query.label}\n{statement}\n-- {parameters}\n")
        print("\n".join(line for (line,) in rows), flush=True)


def measure(db: Database, queries: list[Query], args: argparse.Namespace) -> None:
    """One line per query: wall-clock p50/p95 through the engine, and the SQL's own time in the server."""
    header = f"\n{'query':52} {'rows':>4} {'n':>4} {'p50 ms':>8} {'p95 ms':>8} {'sql ms':>8}"
    print(header)
    for query in queries:
        statements = statements_of(db, query)
        if args.explain:
            print_plans(db, query, statements)
            print(header)
        samples, rows = time_query(query, args.warmup, args.runs, args.budget)
        flag = "  > 20 ms" if p95(samples) > 20 else ""
        print(f"{query.label:52} {rows:4d} {len(samples):4d} {statistics.median(samples):8.2f} "
              f"{p95(samples):8.2f} {server_ms(db, statements):8.2f}{flag}", flush=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tasks", type=int, default=100_000, help="open tasks to seed (default 100,000)")
    parser.add_argument("--million", action="store_true", help="seed 1,000,000 open tasks")
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--budget", type=float, default=20.0, help="seconds of timed runs per query at most")
    parser.add_argument("--keep", action="store_true", help=f"keep the database {DB_NAME}")
    parser.add_argument("--reuse", action="store_true", help=f"measure the existing {DB_NAME}, do not seed")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN (ANALYZE, BUFFERS) of each query")
    parser.add_argument("--only", action="append", default=[], help="measure queries whose label contains this")
    parser.add_argument("--sql", action="append", default=[], help="a statement to run before measuring")
    parser.add_argument("--postgres", default=os.environ.get("TONGBAN_BENCH_PG_URL", DEFAULT_URL),
                        help=f"SQLAlchemy URL of a PostgreSQL server (its database is ignored; default {DEFAULT_URL})")
    args = parser.parse_args(argv)
    tasks = 1_000_000 if args.million else args.tasks

    url = bench_url(args.postgres) if args.reuse else fresh_database(args.postgres)
    db = Database(url)
    try:
        if not args.reuse:
            print(f"seeding {tasks:,} open tasks into {DB_NAME} …", flush=True)
            seed(db, url, tasks)
        run_sql(url, args.sql)
        describe(db)
        found = actors(db)
        visible_counts(db, found)
        queries = [q for who, actor in found.items() for q in queries_for(db, who, actor)]
        measure(db, [q for q in queries if not args.only or any(word in q.label for word in args.only)], args)
    finally:
        db.dispose()
        if not (args.keep or args.reuse):
            drop_database(url)


if __name__ == "__main__":
    main()
