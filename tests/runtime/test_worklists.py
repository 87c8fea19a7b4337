"""已办, 我发起的, 抄送我的: each person's own rows, filtered, keyset-paged, with where each case stands now."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.base import clock, paging
from engine.case.carboncopy import carbon_copy, mark_read
from engine.definitions.copies import Recipients
from engine.runtime.runtime import Runtime
from engine.runtime.worklists import ListFilter, WorkList, counts, work_list
from tests.support.shipped import SUBMIT


def _submitted(runtime: Runtime, title: str = "办公用房改造", amount: int = 50_000) -> tuple[int, str]:
    view = runtime.start("sample_approval", {"title": title, "amount": amount}, runtime.actor("haiyun"))
    runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    open_tasks = runtime.instance(view.id, runtime.actor("admin")).open_tasks
    return view.id, open_tasks[0].id if open_tasks else ""


EVERYTHING = ListFilter()


def _all(runtime: Runtime, user: str, which: WorkList, flt: ListFilter = EVERYTHING, limit: int = 2) -> list:
    """Every page, following the cursors."""
    actor, items, cursor = runtime.actor(user), [], None
    while True:
        page, cursor = work_list(runtime.db, actor, which, flt, cursor, limit)
        items += page
        if cursor is None:
            return items


def test_done_lists_my_completed_tasks_with_the_cases_state_now(runtime: Runtime) -> None:
    cases = []
    for n in range(3):
        case, task = _submitted(runtime)
        clock.travel(timedelta(minutes=1))
        runtime.complete(task, {"decision": "approved" if n else "rejected", "comment": "材料不全"},
                         runtime.actor("window"))
        cases.append(case)
    other, _ = _submitted(runtime)  # still waiting: not done by the window clerk
    done = _all(runtime, "window", WorkList.DONE)
    assert [i.case.instance_id for i in done] == cases[::-1]  # most recent first, across pages
    assert {i.task_name for i in done} == {"审批"} and all(i.case.status == "completed" for i in done)
    assert [i.case.outcome for i in done] == ["approved", "approved", "refused"]
    mine = _all(runtime, "haiyun", WorkList.DONE)  # the applicant's submit steps, the waiting case's first
    assert [i.case.instance_id for i in mine] == [other, *cases[::-1]]
    assert (mine[0].task_name, mine[0].case.status, mine[0].case.current_steps) == ("填写申请", "running", ["审批"])
    assert _all(runtime, "fushan", WorkList.DONE) == []
    number = runtime.instance(cases[0], runtime.actor("admin")).case_number
    # the whole number: its last digits are a day's sequence, and the cases above may straddle midnight
    assert [i.case.instance_id for i in _all(runtime, "window", WorkList.DONE, ListFilter(q=number))] == [cases[0]]
    assert _all(runtime, "window", WorkList.DONE, ListFilter(q="审")) != []
    assert _all(runtime, "window", WorkList.DONE, ListFilter(q="不存在的环节")) == []
    assert _all(runtime, "window", WorkList.DONE, ListFilter(process="zzs_license")) == []
    assert _all(runtime, "window", WorkList.DONE, ListFilter(since=clock.now() + timedelta(hours=1))) == []


def test_started_lists_my_cases_only_and_filters_by_status(runtime: Runtime) -> None:
    first, _ = _submitted(runtime)
    second, _ = _submitted(runtime, amount=10)  # below the threshold: approved at once
    mine = _all(runtime, "haiyun", WorkList.STARTED)
    assert [i.case.instance_id for i in mine] == [second, first]
    assert [i.case.instance_id for i in _all(runtime, "haiyun", WorkList.STARTED, ListFilter(status="running"))] \
        == [first]
    assert _all(runtime, "fushan", WorkList.STARTED) == [] and _all(runtime, "window", WorkList.STARTED) == []


def test_copied_lists_copies_with_their_read_status(runtime: Runtime) -> None:
    first, _ = _submitted(runtime)
    second, _ = _submitted(runtime)
    window = runtime.actor("window")
    carbon_copy(runtime.db, first, Recipients(users=("zhujian",)), "请阅", window)
    carbon_copy(runtime.db, second, Recipients(users=("zhujian",)), None, window)
    copied = _all(runtime, "zhujian", WorkList.COPIED, limit=1)
    assert [(i.case.instance_id, i.by, i.reason, i.read_at) for i in copied] == [
        (second, "window", None, None), (first, "window", "请阅", None)]
    mark_read(runtime.db, first, runtime.actor("zhujian"))
    unread = _all(runtime, "zhujian", WorkList.COPIED, ListFilter(unread=True))
    assert [i.case.instance_id for i in unread] == [second]
    assert counts(runtime.db, runtime.actor("zhujian")) == {"done": 0, "started": 0, "copied": 2, "copied_unread": 1,
                                                           "inbox": 0}
    assert counts(runtime.db, window)["inbox"] == 2 and counts(runtime.db, window)["copied"] == 0


def test_a_forged_cursor_is_a_bad_request(runtime: Runtime) -> None:
    with pytest.raises(paging.BadCursor):
        work_list(runtime.db, runtime.actor("window"), WorkList.DONE, ListFilter(), paging.encode((1,)))
    with pytest.raises(paging.BadCursor):
        work_list(runtime.db, runtime.actor("window"), WorkList.COPIED, ListFilter(), "not-a-cursor")
