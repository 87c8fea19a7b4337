"""Outcome counts per process for the supervision dashboard (engine/runtime/outcomes.py)."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from engine.base import clock
from engine.base.errors import Forbidden
from engine.base.vocabulary import Outcome
from engine.runtime.outcomes import outcome_counts
from engine.runtime.runtime import Runtime
from engine.runtime.supervision import Period
from tests.support.shipped import SUBMIT
from tests.support.steps import do

SMALL, LARGE = {"title": "更换门禁读卡器", "amount": 3000}, {"title": "办公用房改造", "amount": 50_000}
CHINA = ZoneInfo("Asia/Shanghai")


def _case(runtime: Runtime, data: dict, decision: str | None = None) -> int:
    view = runtime.start("sample_approval", data, runtime.actor("haiyun"))
    do(runtime, "haiyun", view.id, "submit", SUBMIT)
    if decision:
        do(runtime, "window", view.id, "approve", {"decision": decision, "comment": "理由"})
    return view.id


def test_cases_are_counted_by_process_and_outcome_undecided_apart(runtime: Runtime) -> None:
    _case(runtime, SMALL), _case(runtime, SMALL), _case(runtime, LARGE, "rejected"), _case(runtime, LARGE)
    runtime.terminate(_case(runtime, LARGE), runtime.actor("admin"))
    [sample] = outcome_counts(runtime.db, runtime.actor("dispatcher"))
    assert sample.process_key == "sample_approval" and set(sample.counts) == set(Outcome)
    assert {o: n for o, n in sample.counts.items() if n} == {Outcome.APPROVED: 2, Outcome.REFUSED: 1,
                                                           Outcome.TERMINATED: 1}
    assert (sample.undecided, sample.total) == (1, 5)
    assert sample.share(Outcome.APPROVED) == 0.5
    assert outcome_counts(runtime.db, runtime.actor("inspector"), process="qysq_request") == []


def test_a_period_counts_only_the_cases_started_in_it(runtime: Runtime) -> None:
    _case(runtime, SMALL)
    clock.travel(timedelta(days=40))
    _case(runtime, LARGE, "rejected")
    today = clock.now().astimezone(CHINA).date()
    [recent] = outcome_counts(runtime.db, runtime.actor("admin"), Period(today, today), CHINA)
    assert (recent.counts[Outcome.REFUSED], recent.counts[Outcome.APPROVED], recent.total) == (1, 0, 1)


@pytest.mark.parametrize("username", ["haiyun", "window", "street"])
def test_only_supervisors_see_the_counts(runtime: Runtime, username: str) -> None:
    with pytest.raises(Forbidden):
        outcome_counts(runtime.db, runtime.actor(username))
