"""“135” rules a scenario cannot show: who is told of a late dispatch and of an overdue request, and the return
window holding even before its timer has fired."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from engine.background import timers
from engine.base import clock, workdays
from engine.base.errors import Conflict
from engine.base.vocabulary import HumanTaskState, TimerKind
from engine.case.notifications import list_notifications
from engine.definitions.catalogue import RoleCatalogue
from engine.people.access import may_supervise
from engine.people.accounts import add_user
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask
from tests.support.repo import ROLES
from tests.support.supervision import at, building

REQUEST = {"enterprise_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E", "contact": "王海燕",
           "mobile": "13805320001", "category": "city_management",
           "description": "楼宇北侧人行道共享单车长期乱停放，影响员工通行，请协调清理。"}


@pytest.fixture
def people(runtime: Runtime) -> Runtime:
    """The centre head and two units' supervising leaders, beside the demo users."""
    catalogue = RoleCatalogue.from_yaml(ROLES)
    with runtime.db.write() as session:
        add_user(session, catalogue, "head", "qyfw", ["centre_head"])
        add_user(session, catalogue, "leader_chengguan", "chengguan", ["unit_leader"])
        add_user(session, catalogue, "leader_zhujian", "zhujian", ["unit_leader"])
    return runtime


def step(runtime: Runtime, case: int, element: str, user: str, data: dict) -> None:
    actor = runtime.actor(user)
    [task] = [t for t in runtime.instance(case, actor).open_tasks if t.element_id == element]
    runtime.complete(task.id, data, actor)


def fire(runtime: Runtime, case: int) -> None:
    """What the server's timer thread does: due timers, the case, then the service calls they made due."""
    while timers.sweep(runtime):
        pass
    runtime.advance(case)
    while timers.sweep(runtime, kind=TimerKind.SERVICE):
        pass


def texts(runtime: Runtime, user: str) -> list[str]:
    return [n["text"]["zh"] for n in list_notifications(runtime.db, runtime.actor(user))[0]]


def started(runtime: Runtime) -> int:
    clock.travel(at("2026-03-02T09:00:00") - clock.now())  # Monday; March 2026 has no holiday
    data = REQUEST | {"building": building(runtime, "华润大厦")}
    case = runtime.start("qysq_request", data, runtime.actor("haiyun")).id
    step(runtime, case, "intake", "street", {"kind": "request", "items": [{"title": "清理乱停放单车"}]})
    return case


def test_a_late_dispatch_is_escalated_to_the_centre_head(people: Runtime) -> None:
    case = started(people)
    clock.travel(at("2026-03-03T23:00:00") - clock.now())  # due Tuesday end of day: not yet
    fire(people, case)
    assert texts(people, "head") == []
    clock.travel(at("2026-03-04T08:00:00") - clock.now())
    fire(people, case)
    [notice] = texts(people, "head")
    assert "1 个工作日内未派单" in notice and "青岛海韵科技有限公司" in notice
    assert texts(people, "leader_chengguan") == []


def test_an_overdue_request_copies_the_supervising_leader_of_its_unit(people: Runtime) -> None:
    case = started(people)
    step(people, case, "dispatch", "dispatcher", {"complexity": "ordinary", "lead_unit": "chengguan"})
    step(people, case, "sign", "handler", {"sign_action": "sign"})
    clock.travel(at("2026-03-05T23:00:00") - clock.now())  # due Thursday end of day
    fire(people, case)
    assert texts(people, "leader_chengguan") == []
    clock.travel(at("2026-03-06T08:00:00") - clock.now())
    fire(people, case)
    [notice] = texts(people, "leader_chengguan")
    assert "督办红牌" in notice and "2026-03-05" in notice
    assert texts(people, "leader_zhujian") == [] and texts(people, "head") == []  # only the unit's own leader


def test_a_return_after_the_window_is_refused_before_its_timer_fires(runtime: Runtime) -> None:
    """One second late and no sweep yet: the window's deadline goes first (the unit is deemed to have signed),
    so the return finds the sign-for task gone, and handling is what remains."""
    case = started(runtime)
    step(runtime, case, "dispatch", "dispatcher", {"complexity": "ordinary", "lead_unit": "chengguan"})
    assert runtime.instance(case, runtime.actor("admin"), detail=True).data["return_by"] == "2026-03-03T23:59:59+08:00"
    clock.travel(at("2026-03-03T23:59:59") - clock.now() + timedelta(seconds=1))  # one second late, no sweep yet
    with pytest.raises(Conflict):
        step(runtime, case, "sign", "handler", {"sign_action": "return", "return_reason": "不属本单位职责，请改派。"})
    assert [t.element_id for t in runtime.instance(case, runtime.actor("admin")).open_tasks] == ["handle"]


def test_the_centre_head_sees_the_supervision_figures(people: Runtime) -> None:
    assert may_supervise(people.actor("head")) and not may_supervise(people.actor("leader_chengguan"))


def handle_times(runtime: Runtime, case: int) -> tuple[str, str]:
    """(warning, due) of the case's open `handle` task, as the SLA sweep and the inbox read them."""
    with runtime.db.read() as session:
        row = session.execute(select(HumanTask.warn_at, HumanTask.due_at).where(
            HumanTask.instance_id == case, HumanTask.element_id == "handle",
            HumanTask.state == HumanTaskState.READY)).one()
    return tuple(t.astimezone(workdays.CHINA).isoformat() for t in row)  # type: ignore[return-value]


def test_the_warning_comes_at_two_thirds_and_follows_an_approved_extension(runtime: Runtime) -> None:
    case = started(runtime)
    step(runtime, case, "dispatch", "dispatcher", {"complexity": "ordinary", "lead_unit": "chengguan"})
    step(runtime, case, "sign", "handler", {"sign_action": "sign"})
    assert handle_times(runtime, case) == ("2026-03-04T23:59:59+08:00", "2026-03-05T23:59:59+08:00")  # day 2 of 3
    step(runtime, case, "handle", "handler", {"handle_outcome": "extend", "extension_reason": "需业主方出资改造",
                                              "extension_until": "2026-03-13"})
    step(runtime, case, "review_extension", "dispatcher", {"extension_approved": True,
                                                           "extension_note": "理由充分，同意延期"})
    assert handle_times(runtime, case) == ("2026-03-10T23:59:59+08:00", "2026-03-13T23:59:59+08:00")  # day 6 of 9
