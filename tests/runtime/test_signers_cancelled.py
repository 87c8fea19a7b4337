"""A task that stops being open other than through its signers — withdrawn, terminated, cancelled by a boundary
timer or by a return from a parallel branch — closes its signing in the same step: every co-signer, proposal and
delegate that had yet to act is `cancelled` (out of its inbox), and a submission held for after-signers goes."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from engine.base import clock
from engine.base.vocabulary import HumanTaskState, SignerKind, SignerState
from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.runtime import signers
from engine.runtime.runtime import Runtime
from engine.store.models import HeldSubmission, HumanTask, TaskSigner
from tests.support.repo import ROLES
from tests.support.signing import APPROVE, _inbox
from tests.support.zzs import SITE, _accepted, _filed


@pytest.fixture
def colleagues(runtime: Runtime) -> None:
    """Two more window clerks at xzsp and one more street officer at 香港中路街道, to be added to tasks."""
    catalogue = RoleCatalogue.from_yaml(ROLES)
    with runtime.db.write() as session:
        add_user(session, catalogue, "window2", "xzsp", ["window_clerk"], "李窗口")
        add_user(session, catalogue, "window3", "xzsp", ["window_clerk"], "王窗口")
        add_user(session, catalogue, "street2", "street_xgzl", ["street_staff"], "赵街道")


def _open_task(runtime: Runtime, case: int, element: str) -> str:
    [task] = [t for t in runtime.instance(case, runtime.actor("admin")).open_tasks if t.element_id == element]
    return task.id


def _states(runtime: Runtime, task_id: str) -> list[tuple[str, str]]:
    with runtime.db.read() as session:
        return [(kind, state) for kind, state in session.execute(
            select(TaskSigner.kind, TaskSigner.state).where(TaskSigner.task_id == task_id).order_by(TaskSigner.id))]


def _task_state(runtime: Runtime, task_id: str) -> str:
    with runtime.db.read() as session:
        return session.scalar(select(HumanTask.state).where(HumanTask.id == task_id))


def _sample_approval(runtime: Runtime) -> tuple[int, str]:
    haiyun = runtime.actor("haiyun")
    case = runtime.start("sample_approval", {"title": "加签取消", "amount": 50_000}, haiyun)
    runtime.complete(case.open_tasks[0].id, {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn",
                                             "commitment": True}, haiyun)
    return case.id, _open_task(runtime, case.id, "approve")


def test_a_withdrawn_case_cancels_pending_cosigners_and_the_held_submission(runtime: Runtime, colleagues: None
                                                                             ) -> None:
    case, task = _sample_approval(runtime)
    window = runtime.actor("window")
    signers.add_signers(runtime.db, task, ["window2"], SignerKind.BEFORE, "请会签", window)
    signers.add_signers(runtime.db, task, ["window3"], SignerKind.AFTER, "请复核", window)
    signers.sign(runtime, task, "agree", "同意", runtime.actor("window2"))
    runtime.complete(task, APPROVE, window)  # held for window3
    assert _inbox(runtime, "window3") == [task]
    view, withdrawn = runtime.withdraw(case, "不再需要", runtime.actor("haiyun"))
    assert withdrawn and view.outcome == "withdrawn"
    assert _task_state(runtime, task) == HumanTaskState.CANCELLED
    assert _states(runtime, task) == [(SignerKind.BEFORE, SignerState.AGREED),  # what was signed stays signed
                                      (SignerKind.AFTER, SignerState.CANCELLED)]
    with runtime.db.read() as session:
        assert session.get(HeldSubmission, task) is None
    assert _inbox(runtime, "window3") == []
    with runtime.db.reading() as conn:
        assert not signers.has_open(conn, task)


def test_terminating_a_case_cancels_an_open_delegation_and_a_proposal(runtime: Runtime, colleagues: None) -> None:
    case, task = _sample_approval(runtime)
    window = runtime.actor("window")
    signers.add_signers(runtime.db, task, ["window2"], SignerKind.BEFORE, "请会签", window)
    signers.remove_signer(runtime, task, signers.signing(runtime.db, task, window)["signers"][0]["id"], "撤销",
                          window)
    signers.add_signers(runtime.db, task, ["street2"], SignerKind.BEFORE, "请街道会签", window, ask_approval=True)
    assert [s["state"] for s in signers.proposals(runtime.db, runtime.actor("admin"))] == [SignerState.PROPOSED]
    runtime.terminate(case, runtime.actor("admin"))
    assert _states(runtime, task) == [(SignerKind.BEFORE, SignerState.REMOVED),
                                      (SignerKind.BEFORE, SignerState.CANCELLED)]
    assert signers.proposals(runtime.db, runtime.actor("admin")) == []  # nothing left for a supervisor to decide

    case, task = _sample_approval(runtime)
    signers.entrust(runtime.db, task, "window2", "请代为审核", window)
    assert _inbox(runtime, "window2") == [task]
    runtime.terminate(case, runtime.actor("admin"))
    assert _states(runtime, task) == [(SignerKind.DELEGATE, SignerState.CANCELLED)]
    assert _inbox(runtime, "window2") == []


def test_a_boundary_timer_that_cancels_the_task_cancels_its_signers(runtime: Runtime, colleagues: None) -> None:
    """ZZS 预审: five working days without a 补正 notice mean the case is deemed accepted (the timer cancels 预审)."""
    case = _filed(runtime)
    precheck = _open_task(runtime, case, "precheck")
    signers.add_signers(runtime.db, precheck, ["window2"], SignerKind.BEFORE, "请会签", runtime.actor("window"))
    clock.travel(datetime.fromisoformat("2026-03-10T08:00:00+08:00") - clock.now())  # the 5th working day is over
    runtime.advance(case)
    assert _task_state(runtime, precheck) == HumanTaskState.CANCELLED
    assert _states(runtime, precheck) == [(SignerKind.BEFORE, SignerState.CANCELLED)]
    assert _inbox(runtime, "window2") == []


def test_a_return_from_one_branch_cancels_the_signers_of_the_other(runtime: Runtime, colleagues: None) -> None:
    """ZZS: 现场核查 is returned to 预审, which cancels the parallel 同意书核验 — and the co-signer added to it."""
    case = _accepted(runtime)
    consent, site = _open_task(runtime, case, "consent_check"), _open_task(runtime, case, "site_check")
    signers.add_signers(runtime.db, consent, ["street2"], SignerKind.BEFORE, "请会签", runtime.actor("street_xgzl"))
    runtime.send_back(site, "precheck", "受理材料与现场不符，请重新预审", runtime.actor("street_xgzl"))
    assert _task_state(runtime, consent) == HumanTaskState.CANCELLED
    assert _states(runtime, consent) == [(SignerKind.BEFORE, SignerState.CANCELLED)]
    assert _inbox(runtime, "street2") == []


def test_a_completed_step_leaves_the_signing_of_other_open_tasks_alone(runtime: Runtime, colleagues: None) -> None:
    """Only the tasks a step cancels close their signing: finishing one parallel branch does not touch the other."""
    case = _accepted(runtime)
    consent, site = _open_task(runtime, case, "consent_check"), _open_task(runtime, case, "site_check")
    signers.add_signers(runtime.db, consent, ["street2"], SignerKind.BEFORE, "请会签", runtime.actor("street_xgzl"))
    runtime.complete(site, SITE, runtime.actor("street_xgzl"))
    assert _states(runtime, consent) == [(SignerKind.BEFORE, SignerState.PENDING)]
    assert _inbox(runtime, "street2") == [consent]
