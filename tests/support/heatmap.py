"""QYSQ cases for the heat map: task rows with known times, the events that say which elements each case reached,
and a street per case — six requests and one policy question, March 2026 (the clock at Monday 16 March)."""

from __future__ import annotations

from sqlalchemy import select

from engine.base import clock
from engine.runtime.runtime import Runtime
from engine.store.models import Event, HumanTask, ProcessVersion
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
