"""Work-list benchmark: 已办, 我发起的 and 抄送我的 on PostgreSQL with N completed tasks, N/2 cases and N/5 copies.

Seeds a fresh database with bulk SQL: 1,000 staff users and 200 enterprises' applicants, N/2 instances
started by the applicants (and a few by staff), N completed tasks spread over the staff (one "heavy" user
holds 5 % of them, one "light" user a handful), N/5 carbon copies the same way. Then it times, through
`engine.runtime.worklists.work_list` (the API's code path), the first page, page 20 reached by following
cursors (the last hop timed), and filtered pages (a process, a status, a period, a case-number fragment),
for the heavy and the light user, plus the tab counts. Prints p50 and p95 ms per query.

    python bench/worklists.py [--rows N] [--runs 50] [--keep] [--postgres URL]

The database is `tongban_worklists_bench` (created and, unless --keep, dropped). Run by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

if not __package__:  # run as `python bench/worklists.py`: bench/ must not shadow the `engine` package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)

import argparse
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import psycopg
from sqlalchemy.engine import make_url

from engine.base.vocabulary import OrgKind
from engine.people.access import Actor
from engine.runtime.worklists import ListFilter, WorkList, counts, work_list
from engine.store.db import Database

SEED = """
INSERT INTO organisations (id, code, name, kind) SELECT g, 'org' || g, '单位' || g,
  CASE WHEN g <= 20 THEN 'department' ELSE 'enterprise' END FROM generate_series(1, 220) g;
INSERT INTO users (id, username, display_name, org_id, disabled, created_at) SELECT g, 'u' || g, '用户' || g,
  CASE WHEN g <= 1000 THEN 1 + g % 20 ELSE 21 + g % 200 END, false, now() FROM generate_series(1, 1200) g;
INSERT INTO process_versions (id, process_key, version, content_hash, code, name_zh, name_en, files, deployed_at)
  SELECT g, 'p' || g, 1, md5(g::text), 'P' || g, '事项' || g, 'process ' || g, '{}', now()
  FROM generate_series(1, 3) g;
INSERT INTO instances (id, case_number, process_key, version_id, status, outcome, started_by, enterprise_id,
                       created_at, updated_at, version, state)
  SELECT g, '370202P' || lpad(g::text, 14, '0'), 'p' || (1 + g % 3), 1 + g % 3,
         CASE WHEN g % 3 = 0 THEN 'running' ELSE 'completed' END, CASE WHEN g % 3 = 0 THEN NULL ELSE 'approved' END,
         CASE WHEN g % 50 = 0 THEN 1 + g % 1000 ELSE 1001 + g % 200 END,
         CASE WHEN g % 50 = 0 THEN NULL ELSE 21 + (1001 + g % 200) % 200 END,
         :t0 + g * interval '1 second', :t0 + g * interval '1 second', 1, '\\x'::bytea
  FROM generate_series(1, :cases) g;
INSERT INTO human_tasks (id, instance_id, process_id, process_key, element_id, name, role, org_id, state,
                         assignee_id, created_at, completed_at, completed_by, sla_stage)
  SELECT md5(g::text)::uuid::text, 1 + g % :cases, 'p', 'p' || (1 + (1 + g % :cases) % 3), 'review', '审查' || g % 7,
         'reviewer', 1, 'completed', NULL, :t0 + g * interval '1 second', :t0 + g * interval '2 second',
         CASE WHEN g % 20 = 0 THEN 1 WHEN g < 10 THEN 2 ELSE 3 + g % 997 END, 0
  FROM generate_series(1, :tasks) g;
INSERT INTO carbon_copies (instance_id, user_id, by_user_id, element_id, at)
  SELECT g, CASE WHEN g % 20 = 0 THEN 1 WHEN g < 10 THEN 2 ELSE 3 + g % 997 END, 5, 'approve',
         :t0 + g * interval '3 second' FROM generate_series(1, :copies) g;
ANALYZE;
"""


def _time(fn: Callable[[], object], runs: int) -> tuple[float, float]:
    for _ in range(3):
        fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        fn()
        samples.append((time.perf_counter_ns() - start) / 1e6)
    samples.sort()
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    args = parser.parse_args()
    server = make_url(args.postgres)
    admin = server.set(drivername="postgresql").render_as_string(hide_password=False)
    name = "tongban_worklists_bench"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    db = Database(server.set(database=name).render_as_string(hide_password=False))
    try:
        db.upgrade()
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        started = time.perf_counter()
        with psycopg.connect(server.set(drivername="postgresql", database=name)
                             .render_as_string(hide_password=False), autocommit=True) as conn:
            sql = SEED.replace(":t0", f"'{t0.isoformat()}'::timestamptz")
            for key, value in {":cases": args.rows // 2, ":tasks": args.rows, ":copies": args.rows // 5}.items():
                sql = sql.replace(key, str(value))
            conn.execute(sql)
        print(f"seeded {args.rows:,} done tasks, {args.rows // 2:,} cases, {args.rows // 5:,} copies "
              f"in {time.perf_counter() - started:.0f} s")
        heavy, light = (Actor(i, f"u{i}", 1 + i % 20, OrgKind.DEPARTMENT, frozenset({"reviewer"})) for i in (1, 2))
        applicant = Actor(1001, "u1001", 21 + 1001 % 200, OrgKind.ENTERPRISE, frozenset({"applicant"}))

        def page20(actor: Actor, which: WorkList) -> Callable[[], object]:
            cursor = None
            for _ in range(19):
                cursor = work_list(db, actor, which, ListFilter(), cursor, 20)[1]
            return lambda: work_list(db, actor, which, ListFilter(), cursor, 20)

        cases: list[tuple[str, Callable[[], object]]] = []
        for label, actor in (("heavy", heavy), ("light", light)):
            for which in (WorkList.DONE, WorkList.COPIED):
                cases.append((f"{which} {label} first page", lambda a=actor, w=which: work_list(db, a, w, ListFilter(),
                                                                                            None, 20)))
            cases.append((f"done {label} process p2", lambda a=actor: work_list(db, a, WorkList.DONE,
                                                                                ListFilter(process="p2"), None, 20)))
            cases.append((f"done {label} status running", lambda a=actor: work_list(
                db, a, WorkList.DONE, ListFilter(status="running"), None, 20)))
            cases.append((f"copied {label} unread", lambda a=actor: work_list(db, a, WorkList.COPIED,
                                                                              ListFilter(unread=True), None, 20)))
            cases.append((f"counts {label}", lambda a=actor: counts(db, a)))
        cases.append(("done heavy page 20", page20(heavy, WorkList.DONE)))
        cases.append(("copied heavy page 20", page20(heavy, WorkList.COPIED)))
        cases.append(("started applicant first page", lambda: work_list(db, applicant, WorkList.STARTED,
                                                                        ListFilter(), None, 20)))
        cases.append(("started applicant page 20", page20(applicant, WorkList.STARTED)))
        cases.append(("done heavy period", lambda: work_list(db, heavy, WorkList.DONE, ListFilter(
            since=t0 + timedelta(days=5), until=t0 + timedelta(days=6)), None, 20)))
        cases.append(("done heavy case number", lambda: work_list(db, heavy, WorkList.DONE,
                                                                  ListFilter(q="0012345"), None, 20)))
        print(f"{'query':36} {'p50 ms':>8} {'p95 ms':>8}")
        for label, fn in cases:
            p50, p95 = _time(fn, args.runs)
            print(f"{label:36} {p50:8.2f} {p95:8.2f}")
    finally:
        db.dispose()
        if not args.keep:
            with psycopg.connect(admin, autocommit=True) as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


if __name__ == "__main__":
    main()
