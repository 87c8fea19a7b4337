"""QYSQ (135) cases as the runtime leaves them, for the supervision dashboard: the rows (`make_case`) and
the seven cases the `cases` fixture (tests/conftest.py) gives."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from engine.base import clock
from engine.case.casefacts import typed
from engine.runtime.runtime import Runtime
from engine.store.models import CaseFact, HumanTask, Instance, Organisation, ProcessVersion, Timer, User

CN = datetime.fromisoformat


def at(text: str) -> datetime:
    return CN(text + "+08:00")


def make_case(runtime: Runtime, number: int, started: str, facts: dict, handle: list[tuple],
              fired: tuple[str, ...] = (), element: str = "handle") -> int:
    """A QYSQ case as the runtime leaves it: instance row, task rows, fired timers and report facts.

    `handle` holds (state, due_at or None, completed_at or None) per task of `element` (`handle`, or
    `dispatch` for a case still waiting to be dispatched); `fired` the boundary timers that went off
    (b_overdue: 督办, b_report: reported to 督查室, b_dispatch_late: dispatch escalated).
    """
    with runtime.db.write() as s:
        version = s.scalar(select(ProcessVersion.id).where(ProcessVersion.process_key == "qysq_request"))
        user = s.scalar(select(User.id).where(User.username == "haiyun"))
        enterprise = s.scalar(select(Organisation.id).where(Organisation.code == "ent_haiyun"))
        case = Instance(case_number=f"370202QYSQ20260302{number:06d}", process_key="qysq_request", version_id=version,
                        status="running", started_by=user, enterprise_id=enterprise, created_at=at(started),
                        updated_at=at(started), version=1, state=b"{}")
        s.add(case)
        s.flush()
        for i, (state, due, done) in enumerate(handle):
            s.add(HumanTask(id=f"{number:08d}-0000-0000-0000-{i:012d}", instance_id=case.id, process_id="qysq_request",
                            process_key="qysq_request", element_id=element, name=element, role="handler",
                            state=state, created_at=at(started), due_at=due and at(due),
                            completed_at=done and at(done)))
        s.add_all(CaseFact(instance_id=case.id, name=k, **typed(v)) for k, v in facts.items())
        s.add_all(Timer(instance_id=case.id, task_id=f"{number:08d}-0000-0000-0001-{i:012d}", element_id=element,
                        due_at=at(started), state="fired", ended_at=at(started)) for i, element in enumerate(fired))
        # a timer still waiting, or cancelled with its task, flags nothing
        s.add(Timer(instance_id=case.id, task_id=f"{number:08d}-0000-0000-0002-000000000000", element_id="b_report",
                    due_at=at(started), state="cancelled" if fired else "waiting"))
        return case.id


def facts(unit: str | None, building: str, due: str | None, rating: str | None = None) -> dict:
    values = {"building": building, "rating": rating, "due_at": due and due + "+08:00"}
    return values | ({"lead_unit": unit} if unit else {})


def qysq_cases(runtime: Runtime) -> dict[str, int]:
    clock.travel(at("2026-03-16T10:00:00") - clock.now())  # a Monday; March 2026 has no holiday
    due = "2026-03-05T23:59:59"
    return {
        "on_time": make_case(runtime, 1, "2026-03-02T09:00:00", facts("chengguan", "bld_huarun", due, "满意"),
                             [("completed", due, "2026-03-04T16:00:00")]),
        "late": make_case(runtime, 2, "2026-03-02T09:05:00", facts("chengguan", "bld_wtc", due, "不满意"),
                          [("completed", due, "2026-03-06T11:00:00")], fired=("b_overdue",)),
        "overdue": make_case(runtime, 3, "2026-03-02T09:10:00", facts("xzsp", "bld_wtc", due),
                             [("ready", due, None)], fired=("b_overdue", "b_report", "b_overdue")),
        # the task carries no due time (yet): the case's due_at decides, and it is still ahead
        "open": make_case(runtime, 4, "2026-03-09T09:00:00", facts("xzsp", "bld_huarun", "2026-03-20T23:59:59"),
                          [("ready", None, None)]),
        # done, sent back by the quality check: open again, so not finished
        "sent_back": make_case(runtime, 5, "2026-03-09T09:30:00", facts("xzsp", "bld_huarun", "2026-03-20T23:59:59"),
                               [("completed", None, "2026-03-10T09:00:00"), ("ready", None, None)]),
        "question": make_case(runtime, 6, "2026-03-10T09:00:00", facts(None, "bld_hisense", None), []),
        "last_year": make_case(runtime, 7, "2026-02-27T09:00:00", facts("chengguan", "bld_huarun", due), []),
    }


def building(runtime: Runtime, name: str) -> str:
    """The value the start form offers for the building called `name`: the name itself while the form lists
    names, the building's code once it offers the shared list (`"x-options": "building"`)."""
    [form] = [p["start_form"] for p in runtime.startable(runtime.actor("haiyun")) if p["key"] == "qysq_request"]
    field_ = form["properties"]["building"]
    if "enum" in field_:
        assert name in field_["enum"], name
        return name
    return next(o["const"] for o in field_["oneOf"] if o["title"] == name)
