"""撤回 withdraw on the 住转商 case (engine/runtime/withdrawal.py): outright before acceptance, by request after it,
never after the decision, only by the filing enterprise's applicants, each with a reason and on record."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from engine.base import clock
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus, NoticeKind, Outcome, TimerState
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, Timer
from tests.support.zzs import CONSENT, SITE, _accepted, _complete, _filed, _notified


def _kinds(runtime: Runtime, case: int) -> list[str]:
    return [e["kind"] for e in runtime.instance(case, runtime.actor("admin"), detail=True).events or []]


def test_before_acceptance_the_applicant_withdraws_and_everything_open_ends(runtime: Runtime) -> None:
    case = _filed(runtime)
    with runtime.db.read() as session:
        assert session.scalars(select(Timer.state).where(Timer.instance_id == case)).all() == [TimerState.WAITING]
    assert runtime.withdrawal_state(case, runtime.actor("haiyun")).mode == "withdraw"
    view, withdrawn = runtime.withdraw(case, "  已找到其他经营场所  ", runtime.actor("haiyun"))
    assert withdrawn and view.status == InstanceStatus.COMPLETED and view.outcome == Outcome.WITHDRAWN
    assert view.open_tasks == []
    with runtime.db.read() as session:
        assert session.scalars(select(HumanTask.state).where(HumanTask.instance_id == case)).all() == [
            HumanTaskState.CANCELLED]
        assert session.scalars(select(Timer.state).where(Timer.instance_id == case)).all() == [TimerState.CANCELLED]
    detail = runtime.instance(case, runtime.actor("haiyun"), detail=True)
    [event] = [e for e in detail.events or [] if e["kind"] == EventKind.WITHDRAWN]
    assert event["detail"]["reason"] == "已找到其他经营场所" and event["user_id"] is not None
    assert _notified(runtime, "window", NoticeKind.CASE_WITHDRAWN)  # the window was offered the pre-check
    assert not _notified(runtime, "street_xgzl", NoticeKind.CASE_WITHDRAWN)
    with pytest.raises(Conflict):  # twice
        runtime.withdraw(case, "再次撤回", runtime.actor("haiyun"))
    assert runtime.withdrawal_state(case, runtime.actor("haiyun")).mode is None


def test_after_acceptance_the_applicant_asks_and_the_holding_office_decides(runtime: Runtime) -> None:
    case = _accepted(runtime)
    assert runtime.withdrawal_state(case, runtime.actor("haiyun")).mode == "request"
    view, withdrawn = runtime.withdraw(case, "经营计划调整", runtime.actor("haiyun"))
    assert not withdrawn and view.status == InstanceStatus.RUNNING and view.outcome is None
    assert _notified(runtime, "street_xgzl", NoticeKind.WITHDRAWAL_REQUESTED)
    with pytest.raises(Conflict):  # a second request while one is pending
        runtime.withdraw(case, "经营计划调整", runtime.actor("haiyun"))
    state = runtime.withdrawal_state(case, runtime.actor("street_xgzl"))
    assert state.pending is not None and state.pending["reason"] == "经营计划调整" and state.may_decide
    assert not runtime.withdrawal_state(case, runtime.actor("admin")).may_decide  # sees it, does not hold it
    with pytest.raises(FormInvalid) as refused:  # a refusal states its reason
        runtime.decide_withdrawal(case, False, " ", runtime.actor("street_xgzl"))
    assert "/reason" in refused.value.fields
    runtime.decide_withdrawal(case, False, "现场核查已完成大部分，建议继续办理", runtime.actor("street_xgzl"))
    assert _notified(runtime, "haiyun", NoticeKind.WITHDRAWAL_DECIDED)
    assert runtime.instance(case, runtime.actor("admin")).status == InstanceStatus.RUNNING
    with pytest.raises(Conflict):  # nothing pending any more
        runtime.decide_withdrawal(case, True, "", runtime.actor("street_xgzl"))
    runtime.withdraw(case, "仍需撤回", runtime.actor("haiyun"))  # asked again
    view = runtime.decide_withdrawal(case, True, "", runtime.actor("street_xgzl"))
    assert view.status == InstanceStatus.COMPLETED and view.outcome == Outcome.WITHDRAWN
    kinds = _kinds(runtime, case)
    assert kinds.count(EventKind.WITHDRAWAL_REQUESTED) == 2 and EventKind.WITHDRAWAL_REFUSED in kinds
    ending = [k for k in kinds if k in (EventKind.WITHDRAWN, EventKind.OUTCOME_SET, EventKind.ENDED)]
    assert ending == [EventKind.WITHDRAWN, EventKind.OUTCOME_SET, EventKind.ENDED]
    assert _notified(runtime, "haiyun", NoticeKind.CASE_WITHDRAWN)


def test_deemed_acceptance_counts_as_acceptance(runtime: Runtime) -> None:
    case = _filed(runtime)
    clock.travel(datetime.fromisoformat("2026-03-10T08:00:00+08:00") - clock.now())
    runtime.advance(case)
    assert runtime.withdrawal_state(case, runtime.actor("haiyun")).mode == "request"


def test_no_withdrawal_nor_request_after_the_decision(runtime: Runtime) -> None:
    case = _accepted(runtime)
    _complete(runtime, case, "site_check", "street_xgzl", SITE)
    _complete(runtime, case, "consent_check", "street_xgzl", CONSENT)
    _complete(runtime, case, "decide", "window", {"decision": "approve", "decision_opinion": "同意"})
    assert runtime.instance(case, runtime.actor("admin")).outcome == Outcome.APPROVED
    assert runtime.withdrawal_state(case, runtime.actor("haiyun")).mode is None
    with pytest.raises(Conflict):
        runtime.withdraw(case, "撤回", runtime.actor("haiyun"))


@pytest.mark.parametrize(("username", "error"), [("fushan", NotFound), ("window", Forbidden), ("admin", Forbidden)])
def test_only_the_filing_enterprise_withdraws(runtime: Runtime, username: str, error: type[Exception]) -> None:
    case = _filed(runtime)
    with pytest.raises(error):
        runtime.withdraw(case, "撤回", runtime.actor(username))
    assert runtime.instance(case, runtime.actor("admin")).status == InstanceStatus.RUNNING


@pytest.mark.parametrize("reason", ["", "   ", None, 42, "长" * 501, {"x": 1}])
def test_a_reason_is_required(runtime: Runtime, reason: Any) -> None:
    case = _filed(runtime)
    with pytest.raises(FormInvalid) as refused:
        runtime.withdraw(case, reason, runtime.actor("haiyun"))
    assert list(refused.value.fields) == ["/reason"]


def test_the_enterprise_cannot_decide_its_own_request(runtime: Runtime) -> None:
    case = _accepted(runtime)
    runtime.withdraw(case, "调整", runtime.actor("haiyun"))
    with pytest.raises(Forbidden):
        runtime.decide_withdrawal(case, True, "", runtime.actor("haiyun"))
    with pytest.raises(Forbidden):  # sees the case (admin) but holds none of its tasks
        runtime.decide_withdrawal(case, True, "", runtime.actor("admin"))
    with pytest.raises(NotFound):
        runtime.decide_withdrawal(case, True, "", runtime.actor("fushan"))
