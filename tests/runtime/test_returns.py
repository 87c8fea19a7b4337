"""退回 return (engine/runtime/returns.py): only to user tasks on the path the case took, never into a parallel
region it passed nor beyond a decision nor where the designer forbids it, by an approver who may do the task,
with a reason; the case goes on from the target with its data and the history and diagram show the loop."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus, NoticeKind
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask
from tests.support.builder import Node, end, flows, props, render, user
from tests.support.builder import bpmn as document
from tests.support.builder import start as start_event
from tests.support.steps import begin, do, put
from tests.support.workspaces import OPEN
from tests.support.zzs import ACCEPT, APPLICATION, CONSENT, SITE, SUBMIT, _accepted, _complete, _filed, _notified


def _task(runtime: Runtime, case: int, element: str) -> str:
    [task] = [t for t in runtime.instance(case, runtime.actor("admin")).open_tasks if t.element_id == element]
    return task.id


def _targets(runtime: Runtime, task: str, username: str = "window") -> list[str]:
    return [t.element_id for t in runtime.return_targets(task, runtime.actor(username))]


def _sample_at_approval(runtime: Runtime) -> int:
    case = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50000}, runtime.actor("haiyun")).id
    _complete(runtime, case, "submit", "haiyun", SUBMIT)
    return case


def test_return_to_the_applicants_step_reopens_it_with_its_data(runtime: Runtime) -> None:
    case = _sample_at_approval(runtime)
    approve = _task(runtime, case, "approve")
    assert [t.to_dict() for t in runtime.return_targets(approve, runtime.actor("window"))] == [
        {"element_id": "submit", "name": "填写申请", "role": "applicant"},
        {"element_id": "start", "name": "提交申请", "role": "applicant"}]  # the start form: see below
    with pytest.raises(NotFound):  # not the applicant's task to see
        runtime.return_targets(approve, runtime.actor("haiyun"))
    view = runtime.send_back(approve, "submit", "联系电话有误，请核对", runtime.actor("window"))
    assert view.status == InstanceStatus.RUNNING
    [again] = runtime.instance(case, runtime.actor("haiyun")).open_tasks
    assert again.element_id == "submit" and again.id != approve
    assert runtime.task_detail(again.id, runtime.actor("haiyun"))["data"]["mobile"] == "13800000000"
    assert _notified(runtime, "haiyun", NoticeKind.CASE_RETURNED)
    with runtime.db.read() as session:  # the first submission stays done (by whom); the approval is cancelled
        rows = session.execute(select(HumanTask.element_id, HumanTask.state).where(HumanTask.instance_id == case)
                               .order_by(HumanTask.created_at)).all()
    assert [tuple(r) for r in rows] == [("submit", HumanTaskState.COMPLETED), ("approve", HumanTaskState.CANCELLED),
                                        ("submit", HumanTaskState.READY)]
    detail = runtime.instance(case, runtime.actor("haiyun"), detail=True)
    [event] = [e for e in detail.events or [] if e["kind"] == EventKind.RETURNED]
    assert event["detail"] == {"from": "approve", "from_name": "审批", "to": "submit", "to_name": "填写申请",
                               "reason": "联系电话有误，请核对"}
    assert event["user"] == "window"
    assert detail.diagram is not None and detail.diagram["returned_from"] == ["approve"]
    assert detail.diagram["returned_to"] == ["submit"]
    runtime.complete(again.id, {**SUBMIT, "mobile": "13900000000"}, runtime.actor("haiyun"))  # the steps again
    _complete(runtime, case, "approve", "window", {"decision": "approved", "comment": "同意"})
    assert runtime.instance(case, runtime.actor("admin")).status == InstanceStatus.COMPLETED


def test_refusals(runtime: Runtime) -> None:
    case = _sample_at_approval(runtime)
    approve = _task(runtime, case, "approve")
    with pytest.raises(FormInvalid) as never:  # a step the case never passed
        runtime.send_back(approve, "auto_approve", "退回", runtime.actor("window"))
    assert list(never.value.fields) == ["/target"]
    with pytest.raises(FormInvalid):  # not a user task at all / itself
        runtime.send_back(approve, "approve", "退回", runtime.actor("window"))
    with pytest.raises(FormInvalid) as blank:
        runtime.send_back(approve, "submit", "  ", runtime.actor("window"))
    assert list(blank.value.fields) == ["/reason"]
    with pytest.raises(NotFound):  # another enterprise, or a department without the role: not theirs to see
        runtime.send_back(approve, "submit", "退回", runtime.actor("fushan"))
    with pytest.raises(Forbidden):  # an administrator sees the task but may not do it
        runtime.send_back(approve, "submit", "退回", runtime.actor("admin"))
    runtime.suspend(case, runtime.actor("admin"))
    with pytest.raises(Conflict):
        runtime.send_back(approve, "submit", "退回", runtime.actor("window"))
    runtime.resume(case, runtime.actor("admin"))
    runtime.send_back(approve, "submit", "退回", runtime.actor("window"))
    with pytest.raises(Conflict):  # the task is gone with the return
        runtime.send_back(approve, "submit", "退回", runtime.actor("window"))


def test_a_parallel_region_is_passed_over_and_a_decision_ends_the_path(runtime: Runtime) -> None:
    case = _accepted(runtime)
    site = _task(runtime, case, "site_check")
    assert _targets(runtime, site, "street_xgzl") == ["precheck", "start"]  # from inside a branch: before the split
    _complete(runtime, case, "site_check", "street_xgzl", SITE)
    _complete(runtime, case, "consent_check", "street_xgzl", CONSENT)
    decide = _task(runtime, case, "decide")
    assert _targets(runtime, decide) == ["precheck", "start"]  # the branches of the join are not decide's path


def test_return_from_a_branch_cancels_the_region_and_the_case_goes_on(runtime: Runtime) -> None:
    case = _accepted(runtime)
    site = _task(runtime, case, "site_check")
    runtime.send_back(site, "precheck", "受理材料与现场不符，请重新预审", runtime.actor("street_xgzl"))
    assert [t.element_id for t in runtime.instance(case, runtime.actor("admin")).open_tasks] == ["precheck"]
    _complete(runtime, case, "precheck", "window", ACCEPT)
    assert sorted(t.element_id for t in runtime.instance(case, runtime.actor("admin")).open_tasks) == [
        "consent_check", "site_check"]
    _complete(runtime, case, "site_check", "street_xgzl", SITE)
    _complete(runtime, case, "consent_check", "street_xgzl", CONSENT)
    _complete(runtime, case, "decide", "window", {"decision": "approve", "decision_opinion": "同意"})
    assert runtime.instance(case, runtime.actor("admin")).outcome == "approved"


def test_the_applicant_gets_back_its_start_form_and_the_case_goes_on(runtime: Runtime) -> None:
    """ZZS: the applicant filed on the start form (no later step of its own before 预审). 预审 returns the case to
    it: the start event waits for the applicant with the submission filled in; it edits and resubmits, the
    registration runs again and 预审 gets the case anew."""
    case = _filed(runtime)
    precheck = _task(runtime, case, "precheck")
    assert _targets(runtime, precheck) == ["start"]
    runtime.send_back(precheck, "start", "法定代表人姓名与营业执照不符，请修改后重新提交", runtime.actor("window"))
    haiyun = runtime.actor("haiyun")
    [again] = runtime.instance(case, haiyun).open_tasks
    assert (again.element_id, again.role, again.form) == ("start", "applicant", "zzs_apply.json")
    assert _notified(runtime, "haiyun", NoticeKind.CASE_RETURNED)
    detail = runtime.task_detail(again.id, haiyun)
    assert detail["data"]["applicant_name"] == APPLICATION["applicant_name"]  # its submission, to edit
    assert detail["schema"]["properties"].keys() >= {"applicant_name", "consent_sheet"}
    for other in ("fushan", "window"):  # another enterprise does not see it; the office may not do it
        with pytest.raises((NotFound, Forbidden)):
            runtime.complete(again.id, {**detail["data"]}, runtime.actor(other))
    with pytest.raises(FormInvalid):  # the start form's own rules hold for the resubmission
        runtime.complete(again.id, {**_submitted(detail["data"]), "applicant_name": ""}, haiyun)
    assert runtime.return_targets(again.id, haiyun) == []  # the applicant's step returns nowhere
    runtime.complete(again.id, {**_submitted(detail["data"]), "applicant_name": "青岛海韵科技股份有限公司"}, haiyun)
    [anew] = runtime.instance(case, runtime.actor("admin")).open_tasks
    assert anew.element_id == "precheck" and anew.id != precheck
    assert runtime.task_detail(anew.id, runtime.actor("window"))["data"]["applicant_name"] == "青岛海韵科技股份有限公司"
    _complete(runtime, case, "precheck", "window", ACCEPT)
    kinds = [e["kind"] for e in runtime.instance(case, runtime.actor("admin"), detail=True).events or []]
    assert kinds.count(EventKind.RETURNED) == 1 and EventKind.TASK_COMPLETED in kinds


def _submitted(data: dict[str, object]) -> dict[str, object]:
    """What the start form lets the applicant write, from the task's data (the form's own fields)."""
    return {k: v for k, v in data.items() if k in APPLICATION or k == "consent_sheet"}


def test_no_return_to_a_start_event_without_a_form_or_where_forbidden(runtime: Runtime) -> None:
    """A start event without a form is nobody's step (the designed process below starts bare); `allowReturnTo`
    on a start event with a form forbids returning to it."""
    case = _designed(runtime)
    assert _targets(runtime, _task(runtime, case, "third")) == ["second", "first", "apply"]
    forbidden = Node("startEvent", "start", "申请", ext=props(formJsonSchemaFilename="open.json",
                                                              allowReturnTo="false"))
    nodes = [forbidden, user("first", "first", "open.json"), end("end", outcome="approved")]
    body = render(nodes, flows(("start", "first"), ("first", "end")))
    put(runtime, "t_start", {"p.bpmn": document("t_start", body, {"申请人": ["start", "end"], "窗口人员": ["first"]})},
        {"open.json": OPEN})
    started = begin(runtime, "t_start").id
    assert _targets(runtime, _task(runtime, started, "first")) == []
    with pytest.raises(FormInvalid):
        runtime.send_back(_task(runtime, started, "first"), "start", "退回", runtime.actor("window"))


LANES = {"申请人": ["start", "apply", "end"], "窗口人员": ["first", "second", "third", "decide"]}


def _designed(runtime: Runtime, **flags: dict[str, str]) -> int:
    """apply (the applicant) → first → second → third → decide (the window), done up to `third`."""
    nodes = [start_event(), user("apply", "申请", "open.json"),
             *(user(n, n, "open.json", **flags.get(n, {})) for n in ("first", "second", "third")),
             user("decide", "决定", "open.json"), end("end", outcome="approved")]
    edges = flows(("start", "apply"), ("apply", "first"), ("first", "second"), ("second", "third"),
                  ("third", "decide"), ("decide", "end"))
    put(runtime, "t_return", {"p.bpmn": document("t_return", render(nodes, edges), LANES)}, {"open.json": OPEN})
    case = begin(runtime, "t_return").id
    do(runtime, "haiyun", case, "apply", {})
    for element in ("first", "second"):
        do(runtime, "window", case, element, {})
    return case


def test_designers_forbid_return_to_and_from_a_task(runtime: Runtime) -> None:
    case = _designed(runtime, first={"allowReturnTo": "false"})
    third = _task(runtime, case, "third")
    assert _targets(runtime, third) == ["second", "apply"]
    with pytest.raises(FormInvalid):
        runtime.send_back(third, "first", "退回", runtime.actor("window"))
    case = _designed(runtime, third={"allowReturnFrom": "false"})
    assert _targets(runtime, _task(runtime, case, "third")) == []


def test_no_return_beyond_a_decision(runtime: Runtime) -> None:
    case = _designed(runtime, second={"outcome": "approved"})
    assert _targets(runtime, _task(runtime, case, "third")) == []


def test_the_lint_checks_the_flags(runtime: Runtime) -> None:
    from engine.definitions.compiler import ParsedWorkspace
    from engine.definitions.lint import lint
    from tests.support.workspaces import workspace

    body = render([start_event(), user("apply", "申请", "open.json", allowReturnTo="no"),
                   end("end", outcome="approved")], flows(("start", "apply"), ("apply", "end")))
    ws = ParsedWorkspace(workspace({"p.bpmn": document("t_flags", body, LANES)}, {"open.json": OPEN}, key="t_flags"))
    lint(ws)
    assert any("allowReturnTo" in str(p) for p in ws.problems)
