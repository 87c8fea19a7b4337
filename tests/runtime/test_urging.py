"""催办: who may urge which task, once per working day (the runtime's clock and calendar), and where it is counted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from engine.base import clock
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.vocabulary import EventKind, NoticeKind
from engine.case.notifications import list_notifications
from engine.people import assignment
from engine.runtime.inbox import TaskFilter, list_tasks
from engine.runtime.runtime import Runtime
from engine.runtime.supervision import Period, dashboard
from engine.runtime.urging import urge, urgeable
from engine.store.models import Event
from tests.support.shipped import at_approval

TZ = ZoneInfo("Asia/Shanghai")


def _to(moment: datetime) -> None:
    """The runtime's clock to `moment` (the wall clock is not what urging counts with)."""
    clock.travel(moment - clock.now())


def test_once_per_working_day_by_the_runtimes_clock_and_calendar(runtime: Runtime) -> None:
    _to(datetime(2025, 6, 6, 10, 0, tzinfo=TZ))  # a Friday
    case, task = at_approval(runtime)
    haiyun = runtime.actor("haiyun")
    first = urge(runtime.db, task, "已过承诺时限", haiyun, TZ)
    assert (first.urges, first.workday.isoformat(), first.notified) == (1, "2025-06-06", 1)
    assert first.next_possible == datetime(2025, 6, 9, tzinfo=TZ)  # Monday: the weekend is no working day
    _to(datetime(2025, 6, 6, 23, 59, tzinfo=TZ))
    with pytest.raises(Conflict) as again:
        urge(runtime.db, task, "请尽快办理", haiyun, TZ)
    assert "2025-06-09" in again.value.message and "already urged" in again.value.message
    _to(datetime(2025, 6, 7, 9, 0, tzinfo=TZ))  # Saturday: counts for Monday
    assert urge(runtime.db, task, "请尽快办理", haiyun, TZ).workday.isoformat() == "2025-06-09"
    _to(datetime(2025, 6, 9, 9, 0, tzinfo=TZ))
    with pytest.raises(Conflict):
        urge(runtime.db, task, "请尽快办理", haiyun, TZ)
    _to(datetime(2025, 6, 10, 0, 1, tzinfo=TZ))
    assert urge(runtime.db, task, "请尽快办理", haiyun, TZ).urges == 3

    with runtime.db.read() as session:
        events = session.scalars(select(Event).where(Event.instance_id == case, Event.kind == EventKind.TASK_URGED)
                                 .order_by(Event.id)).all()
    assert [(e.user_id, e.task_id, e.detail["count"]) for e in events] == [(haiyun.id, task, n) for n in (1, 2, 3)]
    assert events[0].detail["reason"] == "已过承诺时限"


def test_the_holders_are_told_the_assignee_alone_once_claimed(runtime: Runtime) -> None:
    _to(datetime(2025, 6, 6, 10, 0, tzinfo=TZ))
    _, task = at_approval(runtime)
    urge(runtime.db, task, "请尽快办理", runtime.actor("haiyun"), TZ)
    [notice] = list_notifications(runtime.db, runtime.actor("window"))[0]
    assert notice["kind"] == NoticeKind.URGED and notice["task_id"] == task and "催办" in notice["text"]["zh"]
    assignment.claim(runtime.db, task, runtime.actor("window"))
    _to(datetime(2025, 6, 9, 10, 0, tzinfo=TZ))
    assert urge(runtime.db, task, "请尽快", runtime.actor("dispatcher"), TZ).notified == 1  # supervisors too


def test_who_may_urge(runtime: Runtime) -> None:
    _to(datetime(2025, 6, 6, 10, 0, tzinfo=TZ))
    case, task = at_approval(runtime)
    with pytest.raises(NotFound):  # another enterprise's case does not exist for it
        urge(runtime.db, task, "请尽快办理", runtime.actor("fushan"), TZ)
    with pytest.raises(NotFound):
        urgeable(runtime.db, case, runtime.actor("fushan"), TZ)
    with pytest.raises(NotFound):  # a department that has nothing to do with the case
        urge(runtime.db, task, "请尽快办理", runtime.actor("zhujian"), TZ)
    with pytest.raises(Forbidden):  # the holder itself sees the task, and may not urge it
        urge(runtime.db, task, "请尽快办理", runtime.actor("window"), TZ)
    assert urgeable(runtime.db, case, runtime.actor("window"), TZ) == []
    for blank in (None, "", "  ", "长" * 501):  # 催办 says why, as 退回 and 撤回 do (422 naming /reason)
        with pytest.raises(FormInvalid) as refused:
            urge(runtime.db, task, blank, runtime.actor("haiyun"), TZ)
        assert list(refused.value.fields) == ["/reason"]
    [step] = urgeable(runtime.db, case, runtime.actor("haiyun"), TZ)
    assert (step["task_id"], step["urges"], step["urged_today"]) == (task, 0, False)
    urge(runtime.db, task, "请尽快办理", runtime.actor("inspector"), TZ)
    [step] = urgeable(runtime.db, case, runtime.actor("haiyun"), TZ)
    assert (step["urges"], step["urged_today"]) == (1, True)
    runtime.complete(task, {"decision": "approved", "comment": "同意"}, runtime.actor("window"))
    _to(datetime(2025, 6, 9, 10, 0, tzinfo=TZ))
    with pytest.raises(Conflict):  # done: nothing left to urge
        urge(runtime.db, task, "请尽快办理", runtime.actor("haiyun"), TZ)
    assert urgeable(runtime.db, case, runtime.actor("haiyun"), TZ) == []


def test_an_enterprise_does_not_urge_its_own_step(runtime: Runtime) -> None:
    """The applicant's own 填写申请 is nobody else's to hurry: it is not offered, and urging it is refused."""
    haiyun = runtime.actor("haiyun")
    case = runtime.start("sample_approval", {"title": "自己的环节", "amount": 50_000}, haiyun)
    [own] = case.open_tasks
    assert urgeable(runtime.db, case.id, haiyun, TZ) == []
    with pytest.raises(Forbidden, match="your own to do"):
        urge(runtime.db, own.id, "请尽快", haiyun, TZ)
    assert [s["task_id"] for s in urgeable(runtime.db, case.id, runtime.actor("inspector"), TZ)] == [own.id]


def test_urges_are_counted_in_the_inbox_and_the_dashboard(runtime: Runtime) -> None:
    _to(datetime(2025, 6, 6, 10, 0, tzinfo=TZ))
    _, task = at_approval(runtime)
    urge(runtime.db, task, "请尽快办理", runtime.actor("haiyun"), TZ)
    [row] = [t for t in list_tasks(runtime.db, runtime.actor("window"), TaskFilter())[0] if t.id == task]
    assert row.urges == 1
    board = dashboard(runtime.db, runtime.actor("dispatcher"), Period(datetime(2025, 6, 1).date(),
                                                                      datetime(2025, 6, 30).date()), TZ)
    [figure] = board.urges
    assert (figure.process_key, figure.urges, figure.tasks) == ("sample_approval", 1, 1)
    assert figure.unit is not None  # the window's organisation
    empty = dashboard(runtime.db, runtime.actor("dispatcher"), Period(datetime(2025, 7, 1).date(),
                                                                      datetime(2025, 7, 31).date()), TZ)
    assert empty.urges == []
    assert datetime.now(UTC) - timedelta(days=1) > clock.now()  # the clock travelled; the wall clock did not
