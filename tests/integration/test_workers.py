"""Scale-out under faults: 1,000 instances each waiting on a 2-second timer, fired by real worker
processes.  Every timer fires exactly once — with two workers and two beats, with a worker killed
(`kill -9`) mid-run, and with the broker restarted mid-run.  Time is real here (workers are other
processes): the timers are short instead of travelled."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from engine.base.settings import Settings
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from engine.store.models import Event, Instance, Timer
from tests.integration.cluster import Cluster, wait_for
from tests.integration.conftest import BROKER_URL, CONFIGURED
from tests.support.builder import bpmn
from tests.support.timers import WAIT
from tests.support.workspaces import workspace

pytestmark = pytest.mark.skipif(not CONFIGURED, reason="needs TONGBAN_TEST_BROKER_URL and TONGBAN_TEST_DATABASE_URL")

N = 1000
#: Seconds to drain: a job lost with a worker or the broker comes back when its timer's lease runs out
#: (the sweep claims it again); the rest is slack.  Each test stays under three minutes.
DRAIN = Settings.from_env().timer_lease.total_seconds() + 45
TWO_SECONDS = WAIT.replace('"PT1H"', '"PT2S"')
REDIS_START = ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "-::1", "--port", "6379",
               "--save", "", "--appendonly", "no", "--dir", "/var/lib/redis", "--logfile", "/var/log/redis/ci.log"]


def start_instances(runtime: Runtime, count: int = N) -> list[int]:
    deploy(runtime.db, workspace({"t.bpmn": bpmn("timed", TWO_SECONDS, {"申请人": ["start", "wait", "end"]})},
                                 key="timed"))
    applicant = runtime.actor("haiyun")
    return [runtime.start("timed", {}, applicant).id for _ in range(count)]


def fired(runtime: Runtime) -> int:
    with runtime.db.read() as s:
        return s.scalar(select(func.count(Event.id)).where(Event.kind == "timer_fired"))


def all_completed(runtime: Runtime) -> Callable[[], bool]:
    def check() -> bool:
        with runtime.db.read() as s:
            return s.scalar(select(func.count(Instance.id)).where(Instance.status != "completed")) == 0
    return check


def assert_each_fired_once(runtime: Runtime, instances: list[int]) -> None:
    with runtime.db.read() as s:
        per_instance = dict(s.execute(select(Event.instance_id, func.count(Event.id))
                                      .where(Event.kind == "timer_fired").group_by(Event.instance_id)).all())
        statuses = Counter(s.scalars(select(Instance.status)).all())
        timers = Counter(s.scalars(select(Timer.state)).all())
        errors = s.scalar(select(func.count(Event.id)).where(Event.kind == "error"))
    assert statuses == {"completed": N}, statuses
    assert per_instance == dict.fromkeys(instances, 1), Counter(per_instance.values())
    assert timers == {"fired": N} and errors == 0, (timers, errors)


def drain(runtime: Runtime, cluster: Cluster, started: float) -> float:
    """Wait (bounded) for every instance to complete; the seconds it took since `started`."""
    done = wait_for(all_completed(runtime), timeout=DRAIN - (time.monotonic() - started))
    assert done, f"not drained in time: {fired(runtime)} of {N} fired; processes alive: {cluster.alive()}"
    return time.monotonic() - started


def test_every_timer_fires_once_with_two_workers_and_two_beats(runtime: Runtime, cluster: Cluster) -> None:
    started = time.monotonic()
    for name in ("w1", "w2"):
        cluster.worker(name)
    for name in ("beat1", "beat2"):
        cluster.beat(name)
    instances = start_instances(runtime)
    took = drain(runtime, cluster, started)
    assert_each_fired_once(runtime, instances)
    time.sleep(3)  # a few more sweeps by both beats: nothing fires again
    assert fired(runtime) == N
    print(f"two workers, two beats: {N} timers drained in {took:.1f} s")


def test_a_worker_killed_mid_run_loses_nothing(runtime: Runtime, cluster: Cluster) -> None:
    started = time.monotonic()
    for name in ("w1", "w2"):
        cluster.worker(name)
    cluster.beat("beat")
    instances = start_instances(runtime)
    assert wait_for(lambda: fired(runtime) >= N // 5, timeout=60, interval=0.05)
    cluster.kill("w1")
    at_kill = fired(runtime)
    assert at_kill < N, "the kill came too late to be mid-run"
    assert "succeeded" in cluster.log("w1"), "w1 did no work before it was killed"
    took = drain(runtime, cluster, started)
    assert_each_fired_once(runtime, instances)
    print(f"kill -9 of w1 at {at_kill}/{N} fired: drained in {took:.1f} s")


def restart_broker() -> None:
    """Stop the broker and start it again the way the machine does (Redis keeps nothing; RabbitMQ keeps
    its durable queue)."""
    assert BROKER_URL
    if BROKER_URL.startswith("redis"):
        subprocess.run(["redis-cli", "-p", "6379", "shutdown", "nosave"], check=False, timeout=30)
        time.sleep(2)
        subprocess.run(REDIS_START, check=True, timeout=30)
    else:
        subprocess.run(["rabbitmqctl", "stop_app"], check=True, timeout=60, capture_output=True)
        time.sleep(2)
        start_rabbitmq()


def start_rabbitmq() -> None:
    subprocess.run(["rabbitmqctl", "start_app"], check=True, timeout=60, capture_output=True)


def ensure_broker_running() -> None:
    """Whatever happened in the test, leave the broker up for the next one."""
    assert BROKER_URL
    if BROKER_URL.startswith("redis"):
        if subprocess.run(["redis-cli", "-p", "6379", "ping"], capture_output=True, timeout=10).returncode:
            subprocess.run(REDIS_START, check=True, timeout=30)
    else:
        start_rabbitmq()  # a no-op when it is running


def test_work_resumes_after_the_broker_restarts(runtime: Runtime, cluster: Cluster) -> None:
    started = time.monotonic()
    for name in ("w1", "w2"):
        cluster.worker(name)
    cluster.beat("beat")
    try:
        instances = start_instances(runtime)
        assert wait_for(lambda: fired(runtime) >= N // 5, timeout=60, interval=0.05)
        restart_broker()
        at_restart = fired(runtime)
        assert at_restart < N, "the restart came too late to be mid-run"
    finally:
        ensure_broker_running()
    took = drain(runtime, cluster, started)
    assert_each_fired_once(runtime, instances)
    print(f"broker restarted at {at_restart}/{N} fired: drained in {took:.1f} s")
