"""Timer rows derived from the workflow, claimed and fired once, cancelled with their case."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import func, select

from engine.background.timers import TimerThread, claim_due, sweep
from engine.base import clock
from engine.runtime.runtime import Runtime
from engine.store.models import Event, Timer
from tests.support.timers import timed


def states(runtime: Runtime) -> dict[str, int]:
    with runtime.db.read() as s:
        return dict(s.execute(select(Timer.state, func.count()).group_by(Timer.state)).all())


def test_a_waiting_timer_is_a_row_with_its_due_time(runtime: Runtime) -> None:
    [instance] = timed(runtime)
    with runtime.db.read() as s:
        timer = s.scalar(select(Timer))
    assert (timer.instance_id, timer.element_id, timer.state) == (instance, "wait", "waiting")
    assert timedelta(minutes=59) < timer.due_at - clock.now() <= timedelta(hours=1)
    assert claim_due(runtime) == []  # not due yet


def test_due_timers_fire_exactly_once_with_concurrent_sweepers(runtime: Runtime) -> None:
    instances = timed(runtime, 12)
    clock.travel(timedelta(hours=1, seconds=1))
    go = threading.Barrier(2, timeout=10)

    def sweeper() -> int:
        go.wait()
        return sum(sweep(runtime, limit=3) for _ in range(10))

    with ThreadPoolExecutor(2) as pool:
        fired = sum(pool.map(lambda _: sweeper(), range(2)))
    assert fired == 12 and states(runtime) == {"fired": 12}
    with runtime.db.read() as s:
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "timer_fired")) == 12
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "ended")) == 12
    assert {runtime.instance(i, runtime.actor("admin")).status for i in instances} == {"completed"}
    assert sweep(runtime) == 0  # running it again changes nothing


def test_terminating_a_case_cancels_its_timer(runtime: Runtime) -> None:
    [instance] = timed(runtime)
    runtime.terminate(instance, runtime.actor("admin"))
    assert states(runtime) == {"cancelled": 1}
    clock.travel(timedelta(hours=2))
    assert sweep(runtime) == 0


def test_a_suspended_case_keeps_its_due_timer_until_resumed(runtime: Runtime) -> None:
    """Not claimed (and skipped) lease after lease while suspended; resuming fires what came due meanwhile."""
    [instance] = timed(runtime)
    admin = runtime.actor("admin")
    runtime.suspend(instance, admin)
    clock.travel(timedelta(hours=2))
    assert claim_due(runtime) == []
    assert states(runtime) == {"waiting": 1}
    assert runtime.resume(instance, admin).status == "completed"
    assert states(runtime) == {"fired": 1}


def test_the_embedded_thread_fires_overdue_timers_at_start_up(runtime: Runtime) -> None:
    [instance] = timed(runtime)
    clock.travel(timedelta(hours=3))  # the server was down when it came due
    thread = TimerThread(runtime, interval=0.05)
    thread.start()
    try:
        for _ in range(100):
            if states(runtime) == {"fired": 1}:
                break
            threading.Event().wait(0.05)
    finally:
        thread.stop()
        thread.join(5)
    assert runtime.instance(instance, runtime.actor("admin")).status == "completed"
