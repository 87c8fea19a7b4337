"""加签 (before / after), 减签, an outside signer's approval and 委派, as engine operations: each rule and refusal."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.vocabulary import EventKind, SignerKind
from engine.case.notifications import list_notifications
from engine.people import assignment
from engine.runtime import signers
from engine.runtime.inbox import Scope, TaskFilter, list_tasks
from engine.runtime.runtime import Runtime
from engine.store.models import Event
from tests.support.shipped import SUBMIT
from tests.support.signing import APPROVE, _inbox, approval_task


@pytest.fixture
def approve(runtime: Runtime) -> str:
    return approval_task(runtime)


def _kinds(runtime: Runtime, task_id: str) -> list[str]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Event.kind).where(Event.task_id == task_id).order_by(Event.id)))


def test_before_signers_must_all_agree_before_the_holder_completes(runtime: Runtime, approve: str) -> None:
    window, w2, w3 = (runtime.actor(u) for u in ("window", "window2", "window3"))
    record = signers.add_signers(runtime.db, approve, ["window2", "window3"], SignerKind.BEFORE, "请会签", window)
    assert [(s["user"], s["state"]) for s in record["signers"]] == [("window2", "pending"), ("window3", "pending")]
    assert _inbox(runtime, "window2") == [approve] and _inbox(runtime, "window") == [approve]  # claimed on the way
    with pytest.raises(Conflict):
        runtime.complete(approve, APPROVE, window)  # a co-signer has not signed
    with pytest.raises(Forbidden):
        runtime.complete(approve, APPROVE, w2)  # a co-signer signs, it does not complete
    signers.sign(runtime, approve, "agree", "同意", w2)
    with pytest.raises(Conflict):
        signers.sign(runtime, approve, "disagree", "改主意了", w2)  # once
    assert _inbox(runtime, "window2") == []  # signed: out of its inbox, still able to read the task
    assert signers.signing(runtime.db, approve, w2)["my_turn"] is None
    record = signers.sign(runtime, approve, "disagree", "面积核算有误", w3)
    assert [(s["user"], s["state"], s["opinion"]) for s in record["signers"]] == [
        ("window2", "agreed", "同意"), ("window3", "disagreed", "面积核算有误")]
    with pytest.raises(Conflict, match="window3"):  # 会签: all must agree, a disagreement holds the task
        runtime.complete(approve, APPROVE, window)
    with pytest.raises(Conflict):
        runtime.complete(approve, {"decision": "rejected", "comment": "不予通过"}, window)
    signers.add_signers(runtime.db, approve, ["window3"], SignerKind.BEFORE, "面积已重新核算，请再会签", window)
    signers.sign(runtime, approve, "agree", "已核实，同意", w3)
    done = runtime.complete(approve, APPROVE, window)  # every co-signer's last opinion agrees
    assert done.status == "completed"
    kinds = _kinds(runtime, approve)
    assert kinds.count(EventKind.SIGNED) == 3 and EventKind.SIGNERS_ADDED in kinds
    notices = list_notifications(runtime.db, window)[0]
    assert {n["kind"] for n in notices} >= {"cosigned"}


def test_after_signers_sign_in_order_and_the_last_completes_the_held_submission(runtime: Runtime, approve: str
                                                                                ) -> None:
    window, w2, w3 = (runtime.actor(u) for u in ("window", "window2", "window3"))
    signers.add_signers(runtime.db, approve, ["window2", "window3"], SignerKind.AFTER, "请会签", window)
    assert _inbox(runtime, "window2") == []  # not its turn before the holder submits
    held = runtime.complete(approve, APPROVE, window)
    assert held.status == "running" and [t.id for t in held.open_tasks] == [approve]
    record = signers.signing(runtime.db, approve, w2)
    assert record["held"]["data"]["comment"] == "材料齐全，同意" and record["my_turn"] == "after"
    assert _inbox(runtime, "window2") == [approve] and _inbox(runtime, "window3") == []
    with pytest.raises(Conflict):
        runtime.complete(approve, {"decision": "rejected", "comment": "x"}, window)  # submitted: it waits
    with pytest.raises(Forbidden):
        signers.sign(runtime, approve, "agree", "同意", w3)  # not its turn yet
    signers.sign(runtime, approve, "agree", "同意", w2)
    assert _inbox(runtime, "window3") == [approve]
    signers.sign(runtime, approve, "agree", "同意办理", w3)
    case = runtime.instance(held.id, runtime.actor("admin"), detail=True)
    assert case.status == "completed"  # the held submission, completed as the holder's step
    with runtime.db.read() as session:
        completed = session.execute(select(Event.user_id).where(Event.task_id == approve,
                                                                 Event.kind == EventKind.TASK_COMPLETED)).scalar()
    assert completed == window.id


def test_an_after_signer_who_disagrees_gives_the_task_back_to_the_holder(runtime: Runtime, approve: str) -> None:
    window, w2 = runtime.actor("window"), runtime.actor("window2")
    signers.add_signers(runtime.db, approve, ["window2"], SignerKind.AFTER, "请会签", window)
    runtime.complete(approve, APPROVE, window)
    record = signers.sign(runtime, approve, "disagree", "不同意", w2)
    assert record["held"] is None
    assert runtime.complete(approve, {"decision": "rejected", "comment": "复核不通过"}, window).status == "completed"


def test_refusals(runtime: Runtime, approve: str) -> None:
    window, w2 = runtime.actor("window"), runtime.actor("window2")
    with pytest.raises(FormInvalid):
        signers.add_signers(runtime.db, approve, ["window"], SignerKind.BEFORE, "请会签", window)  # oneself
    with pytest.raises(Forbidden):
        signers.add_signers(runtime.db, approve, ["zhujian"], SignerKind.BEFORE, "请会签", window)  # outside the lane
    with pytest.raises(NotFound):
        signers.add_signers(runtime.db, approve, ["nobody"], SignerKind.BEFORE, "请会签", window)
    with pytest.raises(NotFound):  # who may not see the task is told it does not exist
        signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", runtime.actor("zhujian"))
    signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)
    with pytest.raises(Forbidden):  # someone not the holder (w2 is a colleague, but the task is window's)
        signers.add_signers(runtime.db, approve, ["window3"], SignerKind.BEFORE, "请会签", w2)
    with pytest.raises(Conflict):
        signers.add_signers(runtime.db, approve, ["window2"], SignerKind.AFTER, "请会签", window)  # already open
    [row] = signers.signing(runtime.db, approve, window)["signers"]
    with pytest.raises(Forbidden):
        signers.remove_signer(runtime, approve, row["id"], "不需要了", w2)  # only the holder removes
    signers.sign(runtime, approve, "agree", "同意", w2)
    with pytest.raises(Conflict):
        signers.remove_signer(runtime, approve, row["id"], "不需要了", window)  # signed: cannot be removed
    with pytest.raises(NotFound):
        signers.remove_signer(runtime, approve, row["id"] + 99, "不需要了", window)


def test_each_cosigners_opinion_is_a_line_of_the_opinion_trail(runtime: Runtime, approve: str) -> None:
    """审批流水: one line per co-signer (who, office, decision as people read it, opinion), staff only."""
    window = runtime.actor("window")
    signers.add_signers(runtime.db, approve, ["window2", "window3"], SignerKind.BEFORE, "请会签", window)
    signers.sign(runtime, approve, "agree", "同意受理", runtime.actor("window2"))
    signers.sign(runtime, approve, "disagree", "面积有误", runtime.actor("window3"))
    case = runtime.task_detail(approve, window)["instance"]["id"]
    lines = [(r.user, r.office, r.decision, r.opinion, r.internal) for r in runtime.opinion_trail(case, window)
             if r.kind == EventKind.SIGNED]
    assert lines == [("李窗口", "市南区行政审批服务局", "加签同意 (agreed)", "同意受理", True),
                     ("王窗口", "市南区行政审批服务局", "加签不同意 (disagreed)", "面积有误", True)]
    applicant = runtime.opinion_trail(case, runtime.actor("haiyun"))
    assert not [r for r in applicant if r.kind == EventKind.SIGNED]  # a colleague's working opinion


def test_adding_someone_twice_is_refused(runtime: Runtime, approve: str) -> None:
    window = runtime.actor("window")
    with pytest.raises(FormInvalid) as listed:  # twice in one request: named at its place
        signers.add_signers(runtime.db, approve, ["window2", "window3", "window2"], SignerKind.BEFORE, "请会签", window)
    assert listed.value.fields == {"/users/2": ["twice"]}
    signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)
    with pytest.raises(Conflict) as again:  # still asked: it cannot be asked twice
        signers.add_signers(runtime.db, approve, ["window3", "window2"], SignerKind.BEFORE, "请会签", window)
    assert again.value.fields == {"/users/1": ["already"]}
    assert [s["user"] for s in signers.signing(runtime.db, approve, window)["signers"]] == ["window2"]  # no window3


def test_nobody_acts_on_someone_elses_request(runtime: Runtime, approve: str) -> None:
    """A colleague who was not asked, a co-signer on another's row, a signer on the holder's behalf: all refused,
    nothing written."""
    window, w2, w3 = (runtime.actor(u) for u in ("window", "window2", "window3"))
    [row] = signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)["signers"]
    with pytest.raises(Forbidden):
        signers.sign(runtime, approve, "agree", "同意", w3)  # a colleague of the lane, but not asked
    with pytest.raises(Forbidden):
        signers.remove_signer(runtime, approve, row["id"], "不需要了", w2)  # the signer cannot drop itself
    with pytest.raises(Forbidden):
        signers.add_signers(runtime.db, approve, ["window3"], SignerKind.BEFORE, "请会签", w2)  # nor ask others
    with pytest.raises(NotFound):
        signers.decide(runtime.db, row["id"], True, "同意", w2)  # only supervisors decide proposals
    with pytest.raises(Forbidden):
        signers.give_back(runtime, approve, {}, "交回", w2)  # not entrusted to it
    record = signers.signing(runtime.db, approve, window)
    assert [(s["user"], s["state"]) for s in record["signers"]] == [("window2", "pending")]
    assert _kinds(runtime, approve).count(EventKind.SIGNED) == 0


def test_after_a_disagreement_the_holder_may_return_the_case(runtime: Runtime, approve: str) -> None:
    """会签 all must agree: a firm disagreement leaves the holder 退回, never a completion over it."""
    window = runtime.actor("window")
    signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)
    signers.sign(runtime, approve, "disagree", "材料不全", runtime.actor("window2"))
    assert signers.signing(runtime.db, approve, window)["dissent"] == ["window2"]
    with pytest.raises(Conflict):
        runtime.complete(approve, {"decision": "rejected", "comment": "不予通过"}, window)
    case = runtime.send_back(approve, "submit", "会签人意见：材料不全，请补充", window).id
    assert [t.element_id for t in runtime.instance(case, runtime.actor("admin")).open_tasks] == ["submit"]


@pytest.mark.parametrize("reason", [None, "", "   ", "长" * 501, 42, "\x00"])
def test_adding_a_signer_or_entrusting_needs_a_reason(runtime: Runtime, approve: str, reason: object) -> None:
    """加签 and 委派 say why, as 退回 and 撤回 do: refused (422 naming /reason) before anything is written."""
    window = runtime.actor("window")
    with pytest.raises(FormInvalid) as added:
        signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, reason, window)
    with pytest.raises(FormInvalid) as entrusted:
        signers.entrust(runtime.db, approve, "window2", reason, window)
    assert list(added.value.fields) == list(entrusted.value.fields) == ["/reason"]
    record = signers.signing(runtime.db, approve, window)
    assert record["signers"] == record["delegations"] == []
    assert _kinds(runtime, approve) == [EventKind.TASK_READY]  # not even claimed on the way


def test_the_reason_is_kept_with_the_signer_and_in_the_history(runtime: Runtime, approve: str) -> None:
    window = runtime.actor("window")
    record = signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "  涉及消防，请会签 ", window)
    assert record["signers"][0]["reason"] == "涉及消防，请会签"
    with runtime.db.read() as session:
        detail = session.scalar(select(Event.detail).where(Event.task_id == approve,
                                                           Event.kind == EventKind.SIGNERS_ADDED))
    assert detail["reason"] == "涉及消防，请会签"


def test_removing_a_signer_who_has_not_acted(runtime: Runtime, approve: str) -> None:
    window = runtime.actor("window")
    [row] = signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)["signers"]
    record = signers.remove_signer(runtime, approve, row["id"], "不需要了", window)
    assert record["signers"][0]["state"] == "removed" and _inbox(runtime, "window2") == []
    with pytest.raises(Conflict, match="removed"):  # removed: no longer asked
        signers.sign(runtime, approve, "agree", "同意", runtime.actor("window2"))
    assert runtime.complete(approve, APPROVE, window).status == "completed"


def test_removing_the_last_after_signer_completes_the_held_submission(runtime: Runtime, approve: str) -> None:
    window = runtime.actor("window")
    [row] = signers.add_signers(runtime.db, approve, ["window2"], SignerKind.AFTER, "请会签", window)["signers"]
    view = runtime.complete(approve, APPROVE, window)
    signers.remove_signer(runtime, approve, row["id"], "改由本人负责", window)
    assert runtime.instance(view.id, window).status == "completed"


def test_an_outside_signer_waits_for_a_supervisor(runtime: Runtime, approve: str) -> None:
    window, zhujian, dispatcher = (runtime.actor(u) for u in ("window", "zhujian", "dispatcher"))
    record = signers.add_signers(runtime.db, approve, ["zhujian"], SignerKind.BEFORE, "涉及住建", window,
                                 ask_approval=True)
    [row] = record["signers"]
    assert row["state"] == "proposed"
    with pytest.raises(NotFound):  # not yet let in: it sees nothing
        signers.signing(runtime.db, approve, zhujian)
    with pytest.raises(Conflict):
        runtime.complete(approve, APPROVE, window)  # the proposal is open
    assert signers.proposals(runtime.db, window) == []  # only supervisors see proposals
    with pytest.raises(NotFound):
        signers.decide(runtime.db, row["id"], True, None, window)
    [proposal] = signers.proposals(runtime.db, dispatcher)
    assert proposal["user"] == "zhujian" and proposal["task_id"] == approve
    assert any(n["kind"] == "cosign_approval" for n in list_notifications(runtime.db, dispatcher)[0])
    signers.decide(runtime.db, row["id"], True, "同意", dispatcher)
    with pytest.raises(Conflict):
        signers.decide(runtime.db, row["id"], True, None, dispatcher)  # decided once
    assert _inbox(runtime, "zhujian") == [approve]
    case = runtime.instance(runtime.task_detail(approve, zhujian)["instance"]["id"], zhujian)  # sees the case too
    signers.sign(runtime, approve, "agree", "住建意见：同意", zhujian)
    assert runtime.complete(approve, APPROVE, window).id == case.id


def test_a_refused_outside_signer_never_sees_the_task(runtime: Runtime, approve: str) -> None:
    window, dispatcher = runtime.actor("window"), runtime.actor("dispatcher")
    [row] = signers.add_signers(runtime.db, approve, ["zhujian"], SignerKind.BEFORE, "请会签", window,
                                ask_approval=True)["signers"]
    with pytest.raises(FormInvalid):  # refusing says why
        signers.decide(runtime.db, row["id"], False, " ", dispatcher)
    signers.decide(runtime.db, row["id"], False, "无需住建会签", dispatcher)
    with pytest.raises(NotFound):
        runtime.task_detail(approve, runtime.actor("zhujian"))
    assert runtime.complete(approve, APPROVE, window).status == "completed"


def test_entrusted_task_comes_back_to_the_delegator(runtime: Runtime, approve: str) -> None:
    window, w2 = runtime.actor("window"), runtime.actor("window2")
    with pytest.raises(Forbidden):
        signers.entrust(runtime.db, approve, "zhujian", "请代为审核", window)  # same rule as 转办: the task's lane
    with pytest.raises(FormInvalid):
        signers.entrust(runtime.db, approve, "window", "请代为审核", window)
    signers.entrust(runtime.db, approve, "window2", "请代为审核", window)
    assert _inbox(runtime, "window2") == [approve] and _inbox(runtime, "window") == []
    with pytest.raises(Conflict):
        runtime.complete(approve, APPROVE, w2)  # the delegate gives it back, it does not complete
    with pytest.raises(Conflict):
        assignment.unclaim(runtime.db, approve, w2)
    with pytest.raises(Conflict):
        assignment.delegate(runtime.db, approve, "window3", w2)
    with pytest.raises(FormInvalid):
        signers.give_back(runtime, approve, {"decision": "maybe"}, "", w2)  # checked against the form
    with pytest.raises(Forbidden):
        signers.give_back(runtime, approve, {}, "看过了", window)  # only the delegate gives back
    signers.give_back(runtime, approve, {"decision": "approved", "comment": "代审：同意"}, "已核对", w2)
    assert _inbox(runtime, "window") == [approve] and _inbox(runtime, "window2") == []
    record = signers.signing(runtime.db, approve, window)
    assert record["returned"]["comment"] == "代审：同意" and record["delegations"][0]["opinion"] == "已核对"
    with pytest.raises(Forbidden):
        signers.give_back(runtime, approve, {}, "再交一次", w2)
    assert runtime.complete(approve, record["returned"], window).status == "completed"
    kinds = _kinds(runtime, approve)
    assert EventKind.TASK_ENTRUSTED in kinds and EventKind.ENTRUST_RETURNED in kinds


def _second_task(runtime: Runtime) -> str:
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", {"title": "另一件", "amount": 50_000}, haiyun)
    runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
    return runtime.instance(view.id, runtime.actor("admin")).open_tasks[0].id


def test_a_signer_of_one_task_cannot_be_removed_through_another(runtime: Runtime, approve: str) -> None:
    window = runtime.actor("window")
    other = _second_task(runtime)
    [row] = signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)["signers"]
    signers.add_signers(runtime.db, other, ["window3"], SignerKind.BEFORE, "请会签", window)
    with pytest.raises(NotFound):
        signers.remove_signer(runtime, other, row["id"], "不需要了", window)
    assert signers.signing(runtime.db, approve, window)["signers"][0]["state"] == "pending"


def test_a_cosigners_inbox_is_keyset_paged(runtime: Runtime, approve: str) -> None:
    window = runtime.actor("window")
    tasks = [approve, _second_task(runtime), _second_task(runtime)]
    for task in tasks:
        signers.add_signers(runtime.db, task, ["window2"], SignerKind.BEFORE, "请会签", window)
    w2 = runtime.actor("window2")
    first, cursor = list_tasks(runtime.db, w2, TaskFilter(scope=Scope.ASSIGNED), limit=2)
    rest, end = list_tasks(runtime.db, w2, TaskFilter(scope=Scope.ASSIGNED), cursor, limit=2)
    assert [t.id for t in first + rest] == tasks and end is None
    signers.sign(runtime, tasks[1], "agree", "同意", w2)
    assert _inbox(runtime, "window2") == [tasks[0], tasks[2]]


def test_no_return_while_someone_added_to_the_task_has_yet_to_act(runtime: Runtime, approve: str) -> None:
    """退回 is the holder's decision: never the delegate's while entrusted, and never over the heads of open co-signers
    or a held submission (their rows would stay 'pending' on a cancelled task)."""
    window, w2 = runtime.actor("window"), runtime.actor("window2")
    signers.entrust(runtime.db, approve, "window2", "请代为审核", window)
    assert runtime.return_targets(approve, w2) == []
    with pytest.raises(Conflict):
        runtime.send_back(approve, "submit", "受托人退回", w2)
    signers.give_back(runtime, approve, {}, "已核对", w2)
    signers.add_signers(runtime.db, approve, ["window3"], SignerKind.AFTER, "后加签", window)
    runtime.complete(approve, APPROVE, window)  # held for window3
    assert runtime.return_targets(approve, window) == []
    with pytest.raises(Conflict):
        runtime.send_back(approve, "submit", "退回", window)
    record = signers.signing(runtime.db, approve, window)
    assert record["held"] is not None and [s["state"] for s in record["signers"]] == ["pending"]
    signers.sign(runtime, approve, "disagree", "请退回补充", runtime.actor("window3"))  # back to the holder
    assert [t.element_id for t in runtime.return_targets(approve, window)] == ["submit", "start"]
    case = runtime.send_back(approve, "submit", "请补充材料", window).id
    assert [t.element_id for t in runtime.instance(case, runtime.actor("admin")).open_tasks] == ["submit"]
