"""No acknowledged case is left waiting at an automatic step: real web steps publish `advance` jobs to real
workers, and the job is lost — its worker killed with `kill -9` while it runs the steps, the broker's queue
lost, the broker down when the step was committed.  Each time the case's outbox row outlives its lease and the
beat's sweep enqueues the job again, so every case finishes, once.  On Redis a killed worker's job would
otherwise come back only after the visibility timeout (300 s); the cases here finish well before."""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from engine.background import jobs, outbox
from engine.runtime.runtime import Runtime
from engine.store.models import Event, Instance
from tests.integration.cluster import Cluster, purge, wait_for
from tests.integration.conftest import BROKER_URL, CONFIGURED
from tests.support.automatic import deploy_script

pytestmark = pytest.mark.skipif(not CONFIGURED, reason="needs TONGBAN_TEST_BROKER_URL and TONGBAN_TEST_DATABASE_URL")

LEASE = 10  # seconds: TONGBAN_OUTBOX_LEASE of the web steps and the cluster
#: a lost job is enqueued again a lease after its step, and runs then; the rest is slack for a shared machine
FINISH = LEASE + 80
RECEIVED = re.compile(rf"Task {re.escape(jobs.ADVANCE)}\[[^\]]+\] received")
FINISHED = re.compile(rf"Task {re.escape(jobs.ADVANCE)}\[[^\]]+\] (succeeded|raised)")
VISIBILITY = 300  # Redis: when a killed worker's unacknowledged job would come back by itself (jobs.make_app)


def deploy_work(runtime: Runtime, loops: int) -> None:
    """start → a script that computes for a while (`loops` × ~0.1 s of CPU) → end: an advance to kill mid-job."""
    code = f"n = 0\nfor j in range({loops}):\n    for i in range(200000):\n        n = n + i % 7\n"
    deploy_script(runtime, "t_work", code)


def web(runtime: Runtime, broker_url: str | None = BROKER_URL) -> Runtime:
    """An API process's runtime in scale-out mode: each step commits and publishes its `advance` job."""
    settings = replace(runtime.settings, broker_url=broker_url, outbox_lease=timedelta(seconds=LEASE))
    return Runtime(runtime.db, settings, dispatch=jobs.dispatcher_for(settings))


def started(runtime: Runtime, count: int, broker_url: str | None = BROKER_URL) -> list[int]:
    """Cases started (each one's step committed and acknowledged to its applicant: `start` returned)."""
    front = web(runtime, broker_url)
    applicant = front.actor("haiyun")
    return [front.start("t_work", {}, applicant).id for _ in range(count)]


def completed(runtime: Runtime) -> int:
    with runtime.db.read() as s:
        return s.scalar(select(func.count(Instance.id)).where(Instance.status == "completed"))


def assert_each_finished_once(runtime: Runtime, cases: list[int]) -> None:
    with runtime.db.read() as s:
        statuses = Counter(s.scalars(select(Instance.status)).all())
        ended = dict(s.execute(select(Event.instance_id, func.count(Event.id)).where(Event.kind == "ended")
                               .group_by(Event.instance_id)).all())
        errors = s.scalar(select(func.count(Event.id)).where(Event.kind == "error"))
    assert statuses == {"completed": len(cases)}, statuses
    assert ended == dict.fromkeys(cases, 1) and errors == 0, (Counter(ended.values()), errors)
    assert outbox.outbox_depth(runtime) == 0


def with_lease(cluster: Cluster) -> Cluster:
    cluster.env.update(TONGBAN_OUTBOX_LEASE=str(LEASE), TONGBAN_SCRIPT_CPU_SECONDS="60")
    return cluster


def jobs_in_hand(cluster: Cluster, name: str) -> int:
    """`advance` jobs the worker has received and not finished, from its log."""
    log = cluster.log(name)
    return len(re.findall(RECEIVED, log)) - len(re.findall(FINISHED, log))


def test_a_worker_killed_mid_advance_loses_no_acknowledged_case(runtime: Runtime, cluster: Cluster) -> None:
    deploy_work(runtime, loops=10)
    with_lease(cluster).worker("w1")
    cases = started(runtime, 8)
    assert wait_for(lambda: jobs_in_hand(cluster, "w1") > 0, timeout=60, interval=0.05), cluster.log("w1")
    time.sleep(0.3)  # well inside the job: its script computes for about a second
    cluster.kill("w1")
    killed_at, at_kill = time.monotonic(), completed(runtime)
    assert at_kill < len(cases), "the kill came too late to be mid-advance"
    cluster.worker("w2")
    cluster.beat("beat")
    assert wait_for(lambda: completed(runtime) == len(cases), timeout=FINISH), (
        f"{completed(runtime)} of {len(cases)} finished; outbox {outbox.outbox_depth(runtime)}")
    took = time.monotonic() - killed_at
    assert_each_finished_once(runtime, cases)
    if BROKER_URL and BROKER_URL.startswith("redis"):  # the job in hand did not come back by itself: re-driven
        assert took < VISIBILITY and "re-driven" in cluster.log("w2"), took
    print(f"kill -9 of w1 with {len(cases) - at_kill} cases unfinished: all finished {took:.1f} s after")


def test_a_broker_that_loses_its_queue_loses_no_acknowledged_case(runtime: Runtime, cluster: Cluster) -> None:
    assert BROKER_URL
    deploy_work(runtime, loops=1)
    cases = started(runtime, 20)  # published, with no worker to take them yet …
    purge(BROKER_URL)  # … and lost with the queue (Redis restarted without persistence)
    begun = time.monotonic()
    with_lease(cluster).worker("w1")
    cluster.beat("beat")
    assert wait_for(lambda: completed(runtime) == len(cases), timeout=FINISH), completed(runtime)
    assert_each_finished_once(runtime, cases)
    assert "re-driven" in cluster.log("w1")
    print(f"queue lost: {len(cases)} cases re-driven and finished in {time.monotonic() - begun:.1f} s")


def test_a_broker_down_when_the_step_commits_loses_no_acknowledged_case(runtime: Runtime, cluster: Cluster) -> None:
    deploy_work(runtime, loops=1)
    cases = started(runtime, 3, broker_url="redis://127.0.0.1:1/0")  # nothing listens there: each publish fails
    assert outbox.outbox_depth(runtime) == len(cases) and completed(runtime) == 0
    with_lease(cluster).worker("w1")
    cluster.beat("beat")
    assert wait_for(lambda: completed(runtime) == len(cases), timeout=FINISH), completed(runtime)
    assert_each_finished_once(runtime, cases)
