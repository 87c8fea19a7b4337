"""The outbox: a step that leaves its automatic steps to a worker writes a row in its own transaction; the step
that runs them removes it; the sweep re-drives a row whose job was lost, once per lease; embedded mode writes none.
Runs on SQLite and on PostgreSQL (TONGBAN_TEST_DATABASE_URL)."""

from __future__ import annotations

import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import insert, select

from engine.background import jobs, outbox
from engine.background.gauges import StateCollector
from engine.background.timers import TimerThread
from engine.base import clock
from engine.base.clock import now
from engine.base.errors import FormInvalid
from engine.base.settings import Settings, SettingsInvalid
from engine.cli.main import main
from engine.runtime.runtime import Runtime
from engine.store import statements
from engine.store.models import OutboxEntry
from tests.support.automatic import deploy_script
from tests.support.jobs import sharing_clock, written
from tests.support.steps import do

SAMPLE = {"title": "办公用房改造", "amount": 50000}
SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn", "commitment": True}
LEASE = timedelta(seconds=30)


@pytest.fixture
def published(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """What the sweep enqueued as `advance` jobs (nothing runs them unless the test does)."""
    enqueued: list[int] = []
    monkeypatch.setattr(jobs.advance, "apply_async", lambda args: enqueued.append(*args))
    return enqueued


def deferring(runtime: Runtime, dispatched: list[int] | None = None) -> Runtime:
    """A web process's runtime in scale-out mode: steps leave their automatic work to a worker."""
    seen = dispatched if dispatched is not None else []
    return Runtime(runtime.db, runtime.settings, dispatch=lambda case, _version: seen.append(case))


def rows(runtime: Runtime) -> list[tuple[Any, ...]]:
    with runtime.db.read() as s:
        return [tuple(r) for r in s.execute(select(OutboxEntry.instance_id, OutboxEntry.version,
                                                   OutboxEntry.written_at, OutboxEntry.claimed_until,
                                                   OutboxEntry.redriven).order_by(OutboxEntry.instance_id))]


def version_of(runtime: Runtime, instance: int) -> int:
    with runtime.db.reading() as conn:
        return runtime._load(conn, instance, runtime.actor("admin"))[0].version


def open_elements(runtime: Runtime, instance: int) -> list[str]:
    return [t.element_id for t in runtime.instance(instance, runtime.actor("admin")).open_tasks]


def deploy_auto(runtime: Runtime, code: str = "done = True") -> None:
    deploy_script(runtime, "t_auto", code)


def test_a_deferred_step_writes_its_row_in_its_own_transaction_and_the_job_that_runs_it_removes_it(
        in_worker: Runtime) -> None:
    dispatched: list[int] = []
    web = deferring(in_worker, dispatched)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    [(instance, version, written_at, claimed_until, redriven)] = rows(in_worker)
    assert (instance, version, redriven) == (view.id, 1, 0) and dispatched == [view.id]
    assert claimed_until - written_at == in_worker.settings.outbox_lease  # its own job holds it: no re-drive yet
    assert outbox.outbox_depth(in_worker) == 1
    assert jobs.advance(view.id) is True
    assert rows(in_worker) == [] and outbox.outbox_depth(in_worker) == 0
    assert open_elements(in_worker, view.id) == ["submit"]
    before = written(in_worker)
    jobs.advance(view.id)  # a duplicate: nothing to do, nothing written
    assert written(in_worker) == before and rows(in_worker) == []
    # the next deferred step writes the row again, at its own version
    do(web, "haiyun", view.id, "submit", SUBMIT)
    assert [(r[0], r[1]) for r in rows(in_worker)] == [(view.id, version_of(in_worker, view.id))]
    jobs.advance(view.id)
    assert rows(in_worker) == [] and open_elements(in_worker, view.id) == ["approve"]


def test_a_step_that_rolls_back_leaves_no_row(in_worker: Runtime) -> None:
    web = deferring(in_worker)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    jobs.advance(view.id)
    [task] = in_worker.instance(view.id, in_worker.actor("haiyun")).open_tasks
    with pytest.raises(FormInvalid):
        web.complete(task.id, {**SUBMIT, "mobile": "12"}, web.actor("haiyun"))  # refused: nothing written
    assert rows(in_worker) == []


def test_embedded_steps_write_no_rows(runtime: Runtime) -> None:
    """No broker: the automatic steps run inside the request, and nothing is left for a sweep."""
    view = runtime.start("sample_approval", SAMPLE, runtime.actor("haiyun"))
    do(runtime, "haiyun", view.id, "submit", SUBMIT)
    assert open_elements(runtime, view.id) == ["approve"]
    runtime.advance(view.id)
    assert rows(runtime) == [] and outbox.outbox_depth(runtime) == 0


def test_a_lost_job_is_re_driven_once_per_lease_and_the_re_driven_job_finishes_the_case(
        in_worker: Runtime, published: list[int]) -> None:
    web = deferring(in_worker)  # its `advance` job is published nowhere: lost with the worker or the broker
    deploy_auto(in_worker)
    lost = [web.start("t_auto", {}, web.actor("haiyun")).id for _ in range(3)]
    assert jobs.sweep() == 0 and published == []  # their jobs may still be on the way: left alone
    clock.travel(in_worker.settings.outbox_lease - timedelta(seconds=1))
    assert jobs.sweep() == 0
    clock.travel(timedelta(seconds=1))
    assert jobs.sweep() == 3 and sorted(published) == lost
    assert [r[4] for r in rows(in_worker)] == [1, 1, 1]
    assert jobs.sweep() == 0 and len(published) == 3  # re-leased: a second beat's sweep skips them
    clock.travel(in_worker.settings.outbox_lease)
    assert jobs.sweep() == 3 and [r[4] for r in rows(in_worker)] == [2, 2, 2]  # lost again: driven again
    for instance in published[:3]:
        assert jobs.advance(instance) is True
    assert rows(in_worker) == []
    assert {in_worker.instance(i, in_worker.actor("admin")).status for i in lost} == {"completed"}
    jobs.advance(lost[0])  # the second copy of a job, late: nothing to do
    clock.travel(in_worker.settings.outbox_lease * 2)
    assert jobs.sweep() == 0 and rows(in_worker) == []


def test_concurrent_sweepers_claim_each_row_once_in_batches(in_worker: Runtime) -> None:
    web = deferring(in_worker)
    deploy_auto(in_worker)
    cases = [web.start("t_auto", {}, web.actor("haiyun")).id for _ in range(12)]
    clock.travel(LEASE * 2)
    go = threading.Barrier(2, timeout=10)

    def sweeper() -> list[int]:
        go.wait()
        return [i for _ in range(10) for i in outbox.claim_due(in_worker, limit=3)]

    with ThreadPoolExecutor(2) as pool:
        claimed = list(pool.map(lambda _: sweeper(), range(2)))
    assert sorted(claimed[0] + claimed[1]) == cases  # every row once, by one sweeper or the other
    assert outbox.claim_due(in_worker) == []


def test_the_lease_is_a_setting(in_worker: Runtime, published: list[int]) -> None:
    assert Settings.from_env({}).outbox_lease == LEASE
    assert Settings.from_env({"TONGBAN_OUTBOX_LEASE": "5"}).outbox_lease == timedelta(seconds=5)
    for wrong in ("0", "-1", "soon"):
        with pytest.raises(SettingsInvalid, match="TONGBAN_OUTBOX_LEASE"):
            Settings.from_env({"TONGBAN_OUTBOX_LEASE": wrong})
    short = replace(in_worker.settings, outbox_lease=timedelta(seconds=5))
    web = Runtime(in_worker.db, short, dispatch=lambda _case, _version: None)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    clock.travel(timedelta(seconds=5))
    assert jobs.sweep() == 1 and published == [view.id]


def test_a_broker_down_at_publish_time_loses_nothing(in_worker: Runtime, published: list[int],
                                                     caplog: pytest.LogCaptureFixture) -> None:
    unreachable = replace(in_worker.settings, broker_url="redis://127.0.0.1:1/0")
    web = Runtime(in_worker.db, unreachable, dispatch=jobs.dispatcher_for(unreachable))
    with caplog.at_level(logging.ERROR, logger="engine.background.jobs"):
        view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))  # the request still succeeds
    assert "re-drives" in caplog.text and [r[0] for r in rows(in_worker)] == [view.id]
    clock.travel(in_worker.settings.outbox_lease)
    assert jobs.sweep() == 1 and published == [view.id]
    jobs.advance(view.id)
    assert open_elements(in_worker, view.id) == ["submit"] and rows(in_worker) == []


def test_suspending_removes_the_row_and_resuming_runs_the_steps(in_worker: Runtime) -> None:
    web = deferring(in_worker)
    admin = in_worker.actor("admin")
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    in_worker.suspend(view.id, admin)
    assert rows(in_worker) == []
    jobs.advance(view.id)  # the job arrives while the case is suspended: it leaves it alone
    assert in_worker.instance(view.id, admin).status == "suspended" and rows(in_worker) == []
    resumed = web.resume(view.id, admin)  # resuming runs what was pending, in that step
    assert [t.element_id for t in resumed.open_tasks] == ["submit"] and rows(in_worker) == []


def test_a_terminated_case_keeps_no_row(in_worker: Runtime) -> None:
    web = deferring(in_worker)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    in_worker.terminate(view.id, in_worker.actor("admin"))
    assert rows(in_worker) == []
    clock.travel(LEASE * 2)
    assert outbox.claim_due(in_worker) == []


def test_a_case_that_finishes_or_fails_in_its_job_keeps_no_row(in_worker: Runtime) -> None:
    web = deferring(in_worker)
    deploy_auto(in_worker)
    finished = web.start("t_auto", {}, web.actor("haiyun")).id
    jobs.advance(finished)
    assert in_worker.instance(finished, in_worker.actor("admin")).status == "completed" and rows(in_worker) == []
    deploy_auto(in_worker, "done = 1 / 0")
    failed = web.start("t_auto", {}, web.actor("haiyun")).id
    jobs.advance(failed)  # the case's own failure: its error state is committed, the row with it
    assert in_worker.instance(failed, in_worker.actor("admin")).status == "error" and rows(in_worker) == []


def test_an_advance_that_finds_nothing_to_do_removes_only_rows_of_steps_it_saw(in_worker: Runtime) -> None:
    web = deferring(in_worker)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    jobs.advance(view.id)
    seen = version_of(in_worker, view.id)  # what a slow duplicate job read, before the completion below
    do(web, "haiyun", view.id, "submit", SUBMIT)
    with in_worker.db.writing() as conn:
        statements.acknowledge_follow_up(conn, view.id, seen)
    assert [r[1] for r in rows(in_worker)] == [seen + 1]  # written after it looked: kept
    # a row of a step it did see (left, say, by an old release) goes when advance finds nothing to do
    jobs.advance(view.id)
    with in_worker.db.writing() as conn:
        conn.execute(insert(OutboxEntry).values(instance_id=view.id, version=version_of(in_worker, view.id),
                                                written_at=now(), claimed_until=now()))
    before = written(in_worker)
    in_worker.advance(view.id)
    assert rows(in_worker) == [] and written(in_worker) == before


def test_the_embedded_timer_thread_drains_rows_left_from_scale_out(in_worker: Runtime) -> None:
    """A district that went back from scale-out to `tongban serve`: the cases a lost job left are continued."""
    web = deferring(in_worker)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    clock.travel(LEASE)
    TimerThread(in_worker)._sweep()
    assert open_elements(in_worker, view.id) == ["submit"] and rows(in_worker) == []


def test_tongban_advance_continues_a_case_and_removes_its_row(in_worker: Runtime,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    web = deferring(in_worker)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    monkeypatch.setenv("TONGBAN_DATABASE_URL", in_worker.db.url)
    monkeypatch.setattr(Runtime, "__init__", sharing_clock(Runtime.__init__, in_worker))
    result = CliRunner().invoke(main, ["advance", view.case_number, "--json"])
    assert result.exit_code == 0, result.output
    assert [v["status"] for v in json.loads(result.output)] == ["running"]
    assert open_elements(in_worker, view.id) == ["submit"] and rows(in_worker) == []


def test_the_outbox_is_a_backlog_of_the_metrics(in_worker: Runtime) -> None:
    web = deferring(in_worker)
    view = web.start("sample_approval", SAMPLE, web.actor("haiyun"))
    clock.travel(timedelta(seconds=12))

    def outbox_samples() -> tuple[float, float]:
        families = {f.name: f for f in StateCollector(in_worker).collect()}
        backlog, oldest = (next(s.value for s in families[name].samples if s.labels == {"queue": "outbox"})
                           for name in ("tongban_backlog", "tongban_backlog_oldest_seconds"))
        return backlog, oldest

    backlog, oldest = outbox_samples()
    assert backlog == 1 and 12 <= oldest < 13
    jobs.advance(view.id)
    assert outbox_samples() == (0, 0)
