"""QYSQ cases for the heat map: task rows with known times, the events that say which elements each case reached,
and a street per case — six requests and one policy question, March 2026 (the clock at Monday 16 March)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from engine.base import clock
from engine.runtime.runtime import Runtime
from engine.store.models import Event, HumanTask, Instance, ProcessVersion, Timer, User
from tests.support.supervision import at, make_case

#: hours each request's `handle` task was open (created 09:00, completed that many hours later); the sixth is open
HANDLE_HOURS = (1, 2, 3, 4, 10)
#: the elements every request reached, in order (what its events name)
REQUEST_PATH = ("start", "intake", "dispatch", "sign", "handle")


def qysq_version(runtime: Runtime) -> int:
    with runtime.db.read() as s:
        return s.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "qysq_request"))


def heat_cases(runtime: Runtime) -> dict[str, int]:
    """Cases 1–3 in 八大峡街道, 4–6 in 云南路街道; case 2's handling finished after its due time and case 6's is
    open past it (two SLA breaches); case 7, a policy question, was answered at intake (no street)."""
    clock.travel(at("2026-03-16T10:00:00") - clock.now())
    ids: dict[str, int] = {}
    for n, hours in enumerate((*HANDLE_HOURS, None), 1):
        day = f"2026-03-0{n + 1}"
        due = f"{day}T10:30:00" if n == 2 else f"{day}T23:59:59"
        done = None if hours is None else f"{day}T{9 + hours:02d}:00:00"
        street = "street_bdq" if n <= 3 else "street_ynl"
        ids[f"request{n}"] = make_case(runtime, 100 + n, f"{day}T09:00:00", {"street": street},
                                       [("ready" if done is None else "completed", due, done)])
        _reached(runtime, ids[f"request{n}"], f"{day}T09:00:00", REQUEST_PATH)
        _intake(runtime, ids[f"request{n}"], n, f"{day}T09:00:00", f"{day}T09:30:00")
    ids["question"] = make_case(runtime, 200, "2026-03-09T09:00:00", {}, [])
    _reached(runtime, ids["question"], "2026-03-09T09:00:00", ("start", "intake"))
    _intake(runtime, ids["question"], 200, "2026-03-09T09:00:00", "2026-03-09T09:30:00")
    return ids


def _reached(runtime: Runtime, instance: int, moment: str, elements: tuple[str, ...]) -> None:
    with runtime.db.write() as s:
        s.add_all(Event(instance_id=instance, at=at(moment), kind="started" if e == "start" else "task_ready",
                        element_id=e) for e in elements)


def _intake(runtime: Runtime, instance: int, n: int, created: str, done: str) -> None:
    with runtime.db.write() as s:
        s.add(HumanTask(id=f"{n:08d}-0000-0000-0009-000000000000", instance_id=instance, process_id="qysq_request",
                        process_key="qysq_request", element_id="intake", name="受理分类", role="dispatcher",
                        state="completed", created_at=at(created), completed_at=at(done)))


#: days each LYJJ-P case waited at its 7-day posting period (张贴满7日): armed, then fired; the third still waits
POSTING_DAYS = (7, 8)


def posting_waits(runtime: Runtime) -> int:
    """Three LYJJ-P cases at their posting timer, March 2026: two waited 7 and 8 days, one waits still; returns the
    version's id."""
    clock.travel(at("2026-03-16T10:00:00") - clock.now())
    with runtime.db.write() as s:
        version = s.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "lyjj_project"))
        user = s.scalar(select(User.id).where(User.username == "haiyun"))
        for n, days in enumerate((*POSTING_DAYS, None), 1):
            armed = at(f"2026-03-0{n}T09:00:00")
            case = Instance(case_number=f"370202LYJJ-P20260301{n:06d}", process_key="lyjj_project",
                            version_id=version, status="running", started_by=user, created_at=armed,
                            updated_at=armed, version=1, state=b"{}")
            s.add(case)
            s.flush()
            s.add(Timer(instance_id=case.id, task_id=f"{n:08d}-0000-0000-0003-000000000000",
                        element_id="posting_period", due_at=armed + timedelta(days=7), created_at=armed,
                        state="waiting" if days is None else "fired",
                        ended_at=None if days is None else armed + timedelta(days=days)))
            if days is not None:  # what the runtime records when the timer fires
                s.add(Event(instance_id=case.id, at=armed + timedelta(days=days), kind="timer_fired",
                            element_id="posting_period"))
    return version
