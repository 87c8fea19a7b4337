"""The BPMN constructs the district processes need, driven through tongban's runtime API.

Each test deploys one small process, starts it as the applicant, does its human tasks as the
users holding the lanes' roles, and checks the path taken: which tasks appeared for which role
and organisation, what scripts and decision tables set, and that the case ends `completed`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from xml.sax.saxutils import escape

import pytest
from sqlalchemy import select

from engine.base import clock
from engine.base.errors import Conflict, Forbidden
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.registry import validate
from engine.people.accounts import add_user, ensure_org
from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView
from engine.store.models import Timer
from tests.support.builder import LEVEL_DMN, Node, bpmn, end, flows, gateway, render, script, start, timer, user
from tests.support.repo import ROLES
from tests.support.steps import begin, do, inbox, only_task, put
from tests.support.workspaces import OPEN, workspace

# -- helpers of these tests -------------------------------------------------------------------------

def opinion_form(field: str) -> dict[str, Any]:
    return {"type": "object", "properties": {field: {"type": "boolean"}}, "required": [field]}


def open_elements(runtime: Runtime, instance: int) -> list[str]:
    return sorted(t.element_id for t in runtime.instance(instance, runtime.actor("admin")).open_tasks)


def case_data(runtime: Runtime, instance: int) -> dict[str, Any]:
    data = runtime.instance(instance, runtime.actor("admin"), detail=True).data
    assert data is not None
    return data


def event_kinds(runtime: Runtime, instance: int) -> list[str]:
    return [e["kind"] for e in runtime.instance(instance, runtime.actor("admin"), detail=True).events or []]


# -- parallel gateway ------------------------------------------------------------------------------

def test_parallel_gateway_runs_both_reviews_and_joins_after_the_second(runtime: Runtime) -> None:
    nodes = [
        start(), gateway("parallel", "fork"),
        user("housing", "住建审查", "housing.json"), user("fire", "消防审查", "fire.json"),
        gateway("parallel", "join"), script("sum_up", "all_ok = housing_ok and fire_ok"), end(),
    ]
    edges = flows(("start", "fork"), ("fork", "housing"), ("fork", "fire"), ("housing", "join"),
                  ("fire", "join"), ("join", "sum_up"), ("sum_up", "end"))
    lanes = {"申请人": ["start"], "区住建": ["housing"], "消防救援大队": ["fire"]}
    put(runtime, "t_parallel", {"p.bpmn": bpmn("t_parallel", render(nodes, edges), lanes)},
        {"housing.json": opinion_form("housing_ok"), "fire.json": opinion_form("fire_ok")})

    view = begin(runtime, "t_parallel")
    assert view.open_tasks == []  # the applicant sees neither review
    assert open_elements(runtime, view.id) == ["fire", "housing"]
    housing = only_task(runtime, "zhujian", view.id)
    fire = only_task(runtime, "xiaofang", view.id)
    assert (housing.element_id, housing.role, housing.org) == ("housing", "reviewer_zhujian", "zhujian")
    assert (fire.element_id, fire.role, fire.org) == ("fire", "reviewer_xiaofang", "xiaofang")

    after_one = runtime.complete(housing.id, {"housing_ok": True}, runtime.actor("zhujian"))
    assert after_one.status == "running"
    assert open_elements(runtime, view.id) == ["fire"]  # the join waits for the other branch
    done = runtime.complete(fire.id, {"fire_ok": False}, runtime.actor("xiaofang"))
    assert done.status == "completed"
    data = case_data(runtime, view.id)
    assert (data["housing_ok"], data["fire_ok"], data["all_ok"]) == (True, False, False)


# -- inclusive gateway -----------------------------------------------------------------------------

INCLUSIVE_FORMS = {
    "scope.json": {"type": "object", "required": ["housing", "fire"],
                   "properties": {"housing": {"type": "boolean"}, "fire": {"type": "boolean"}}},
    "housing.json": opinion_form("housing_ok"), "fire.json": opinion_form("fire_ok"), "issue.json": OPEN,
}


def deploy_inclusive(runtime: Runtime) -> None:
    nodes = [
        start(), user("scope", "申报事项", "scope.json"), gateway("inclusive", "split", default="merge"),
        user("housing", "住建审查", "housing.json"), user("fire", "消防审查", "fire.json"),
        gateway("inclusive", "merge"), user("issue", "出证", "issue.json"), end(),
    ]
    edges = flows(("start", "scope"), ("scope", "split"), ("split", "housing", "housing"),
                  ("split", "fire", "fire"), ("split", "merge"), ("housing", "merge"), ("fire", "merge"),
                  ("merge", "issue"), ("issue", "end"))
    lanes = {"申请人": ["start", "scope"], "区住建": ["housing"], "消防救援大队": ["fire"], "窗口人员": ["issue"]}
    put(runtime, "t_inclusive", {"i.bpmn": bpmn("t_inclusive", render(nodes, edges), lanes)}, INCLUSIVE_FORMS)


@pytest.mark.parametrize(("housing", "fire"), [(True, True), (True, False), (False, True), (False, False)])
def test_inclusive_gateway_takes_the_true_branches_and_joins_over_the_skipped_ones(
        runtime: Runtime, housing: bool, fire: bool) -> None:
    deploy_inclusive(runtime)
    view = begin(runtime, "t_inclusive")
    view = do(runtime, "haiyun", view.id, "scope", {"housing": housing, "fire": fire})
    reviews = [(user_name, element) for user_name, element, taken in
               (("xiaofang", "fire", fire), ("zhujian", "housing", housing)) if taken]
    assert open_elements(runtime, view.id) == ([e for _, e in reviews] or ["issue"])
    for i, (user_name, element) in enumerate(reviews):
        assert open_elements(runtime, view.id) == [e for _, e in reviews[i:]]  # no 出证 before the last review
        do(runtime, user_name, view.id, element, {f"{element}_ok": True})
    issue = only_task(runtime, "window", view.id)
    assert (issue.element_id, issue.role, issue.org) == ("issue", "window_clerk", "xzsp")
    assert open_elements(runtime, view.id) == ["issue"]  # the join released exactly one token
    done = runtime.complete(issue.id, {}, runtime.actor("window"))
    assert done.status == "completed"
    assert event_kinds(runtime, view.id).count("task_ready") == 2 + len(reviews)


# -- call activity ---------------------------------------------------------------------------------

def test_call_activity_runs_a_process_from_another_file_and_returns_its_data(runtime: Runtime) -> None:
    main_nodes = [
        start(form="apply.json"),
        Node("callActivity", "fire_check", "消防审查子流程", attrs='calledElement="t_fire_check"'),
        user("issue", "出证", "issue.json"), end(),
    ]
    main_edges = flows(("start", "fire_check"), ("fire_check", "issue"), ("issue", "end"))
    called_nodes = [start("c_start"), user("c_review", "消防审查", "fire.json"),
                    script("c_verdict", 'fire_verdict = "合格" if fire_ok else "不合格"'), end("c_end")]
    called_edges = flows(("c_start", "c_review"), ("c_review", "c_verdict"), ("c_verdict", "c_end"))
    put(runtime, "t_call", {
        "main.bpmn": bpmn("t_call", render(main_nodes, main_edges), {"申请人": ["start"], "窗口人员": ["issue"]}),
        "fire_check.bpmn": bpmn("t_fire_check", render(called_nodes, called_edges),
                                {"消防救援大队": ["c_start", "c_review", "c_verdict", "c_end"]}),
    }, {"fire.json": opinion_form("fire_ok"), "issue.json": OPEN, "apply.json": OPEN})

    view = begin(runtime, "t_call", {"project": "海韵大厦"})
    review = only_task(runtime, "xiaofang", view.id)
    assert (review.element_id, review.role, review.org, review.process_key) == (
        "c_review", "reviewer_xiaofang", "xiaofang", "t_call")
    detail = runtime.task_detail(review.id, runtime.actor("xiaofang"))
    assert detail["data"]["project"] == "海韵大厦"  # the called process sees the caller's data
    runtime.complete(review.id, {"fire_ok": True}, runtime.actor("xiaofang"))
    issue = only_task(runtime, "window", view.id)
    assert issue.element_id == "issue"
    assert runtime.task_detail(issue.id, runtime.actor("window"))["data"]["fire_verdict"] == "合格"
    assert runtime.complete(issue.id, {}, runtime.actor("window")).status == "completed"
    assert case_data(runtime, view.id)["fire_verdict"] == "合格"


# -- DMN business rule task ------------------------------------------------------------------------

@pytest.mark.parametrize(("area", "usage", "level", "reviewer", "element"), [
    (800, "办公", "full", "zhujian", "housing"),
    (120, "餐饮", "full", "zhujian", "housing"),
    (120, "办公", "simple", "window", "fast_issue"),
])
def test_dmn_decision_table_sets_the_value_a_gateway_routes_on(
        runtime: Runtime, area: int, usage: str, level: str, reviewer: str, element: str) -> None:
    decide = Node("businessRuleTask", "decide", "判定审查级别", ext=(
        "<bpmn:extensionElements><spiffworkflow:calledDecisionId>review_level</spiffworkflow:calledDecisionId>"
        "</bpmn:extensionElements>"))
    nodes = [start(form="apply.json"), decide, gateway("exclusive", "route", default="fast_issue"),
             user("housing", "住建审查", "housing.json"), user("fast_issue", "快速出证", "issue.json"),
             end("end_full"), end("end_fast")]
    edges = flows(("start", "decide"), ("decide", "route"), ("route", "housing", 'level == "full"'),
                  ("route", "fast_issue"), ("housing", "end_full"), ("fast_issue", "end_fast"))
    lanes = {"申请人": ["start"], "区住建": ["housing"], "窗口人员": ["fast_issue"]}
    apply_form = {"type": "object", "required": ["area", "usage"],
                  "properties": {"area": {"type": "number"}, "usage": {"type": "string"}}}
    put(runtime, "t_dmn", {"d.bpmn": bpmn("t_dmn", render(nodes, edges), lanes)},
        {"apply.json": apply_form, "housing.json": opinion_form("housing_ok"), "issue.json": OPEN},
        extra={"processes/t/level.dmn": LEVEL_DMN.encode()})

    view = begin(runtime, "t_dmn", {"area": area, "usage": usage})
    assert view.status == "running"
    assert open_elements(runtime, view.id) == [element]
    assert case_data(runtime, view.id)["level"] == level
    data = {"housing_ok": True} if element == "housing" else {}
    assert do(runtime, reviewer, view.id, element, data).status == "completed"


# -- timers ----------------------------------------------------------------------------------------

def waiting_timers(runtime: Runtime, instance: int) -> list[tuple[str, str]]:
    with runtime.db.read() as s:
        return sorted((t.element_id, t.state) for t in s.scalars(select(Timer).where(Timer.instance_id == instance)))


def test_intermediate_timer_waits_then_continues_when_advanced(runtime: Runtime) -> None:
    nodes = [start(), Node("intermediateCatchEvent", "cooling_off", "公示期", body=timer("PT2H")),
             user("issue", "出证", "issue.json"), end()]
    edges = flows(("start", "cooling_off"), ("cooling_off", "issue"), ("issue", "end"))
    put(runtime, "t_timer", {"t.bpmn": bpmn("t_timer", render(nodes, edges),
                                            {"申请人": ["start"], "窗口人员": ["issue"]})}, {"issue.json": OPEN})

    view = begin(runtime, "t_timer")
    assert view.status == "running" and open_elements(runtime, view.id) == []
    assert waiting_timers(runtime, view.id) == [("cooling_off", "waiting")]
    clock.travel(timedelta(hours=1))
    assert runtime.advance(view.id).open_tasks == []  # not due yet: nothing happens
    clock.travel(timedelta(hours=1, seconds=1))
    runtime.advance(view.id)
    assert waiting_timers(runtime, view.id) == [("cooling_off", "fired")]
    assert only_task(runtime, "window", view.id).element_id == "issue"
    assert do(runtime, "window", view.id, "issue", {}).status == "completed"


def deploy_deadline(runtime: Runtime) -> None:
    """补正材料 within five days, or the window clerk closes the case (interrupting boundary timer)."""
    nodes = [
        start(), user("correct", "补正材料", "correct.json"),
        Node("boundaryEvent", "deadline", "补正期限", attrs='attachedToRef="correct" cancelActivity="true"',
             body=timer("P5D")),
        user("accept", "受理", "issue.json"), user("close", "逾期不予受理", "issue.json"),
        script("mark_overdue", "overdue = True"), end("end_ok"), end("end_overdue"),
    ]
    edges = flows(("start", "correct"), ("correct", "accept"), ("accept", "end_ok"),
                  ("deadline", "mark_overdue"), ("mark_overdue", "close"), ("close", "end_overdue"))
    lanes = {"申请人": ["start", "correct"], "窗口人员": ["accept", "close"]}
    put(runtime, "t_deadline", {"b.bpmn": bpmn("t_deadline", render(nodes, edges), lanes)},
        {"correct.json": OPEN, "issue.json": OPEN})


def test_interrupting_timer_boundary_cancels_the_user_task_when_due(runtime: Runtime) -> None:
    deploy_deadline(runtime)
    view = begin(runtime, "t_deadline")
    [correct] = view.open_tasks
    assert (correct.element_id, correct.role, correct.org) == ("correct", "applicant", "ent_haiyun")
    assert waiting_timers(runtime, view.id) == [("deadline", "waiting")]

    clock.travel(timedelta(days=5, seconds=1))
    runtime.advance(view.id)
    assert waiting_timers(runtime, view.id) == [("deadline", "fired")]
    assert inbox(runtime, "haiyun", view.id) == []  # the applicant's task was cancelled
    assert "task_cancelled" in event_kinds(runtime, view.id)
    close = only_task(runtime, "window", view.id)
    assert close.element_id == "close"
    assert runtime.complete(close.id, {}, runtime.actor("window")).status == "completed"
    assert case_data(runtime, view.id)["overdue"] is True


def test_completing_the_task_in_time_cancels_its_boundary_timer(runtime: Runtime) -> None:
    deploy_deadline(runtime)
    view = begin(runtime, "t_deadline")
    runtime.complete(view.open_tasks[0].id, {"note": "已补正"}, runtime.actor("haiyun"))
    assert waiting_timers(runtime, view.id) == [("deadline", "cancelled")]
    clock.travel(timedelta(days=6))
    runtime.advance(view.id)
    assert open_elements(runtime, view.id) == ["accept"]
    assert do(runtime, "window", view.id, "accept", {}).status == "completed"
    assert "overdue" not in case_data(runtime, view.id)


# -- error boundary event on a subprocess ----------------------------------------------------------

ERROR_DEF = '<bpmn:error id="err_invalid" name="资料无效" errorCode="INVALID_CREDIT_CODE" />'


def deploy_verification(runtime: Runtime) -> None:
    inner = render(
        [start("v_start"), script("v_check", 'valid = credit_code.startswith("91")'),
         gateway("exclusive", "v_ok", default="v_end"),
         end("v_fail", body='<bpmn:errorEventDefinition errorRef="err_invalid" />'), end("v_end")],
        flows(("v_start", "v_check"), ("v_check", "v_ok"), ("v_ok", "v_fail", "not valid"), ("v_ok", "v_end")))
    nodes = [
        start(form="apply.json"), Node("subProcess", "verify", "自动核验", body=inner),
        Node("boundaryEvent", "invalid", "核验不通过", attrs='attachedToRef="verify"',
             body='<bpmn:errorEventDefinition errorRef="err_invalid" />'),
        script("auto_pass", 'route = "auto"'), end("end_auto"),
        user("manual", "人工核验", "issue.json"), end("end_manual"),
    ]
    edges = flows(("start", "verify"), ("verify", "auto_pass"), ("auto_pass", "end_auto"),
                  ("invalid", "manual"), ("manual", "end_manual"))
    apply_form = {"type": "object", "required": ["credit_code"], "properties": {"credit_code": {"type": "string"}}}
    put(runtime, "t_error", {"e.bpmn": bpmn("t_error", render(nodes, edges),
                                            {"申请人": ["start"], "窗口人员": ["manual"]}, extra=ERROR_DEF)},
        {"apply.json": apply_form, "issue.json": OPEN})


def test_error_end_event_in_a_subprocess_is_caught_by_its_boundary(runtime: Runtime) -> None:
    deploy_verification(runtime)
    view = begin(runtime, "t_error", {"credit_code": "12370202XXXX"})
    assert view.status == "running" and view.error is None
    manual = only_task(runtime, "window", view.id)
    assert (manual.element_id, manual.role, manual.org) == ("manual", "window_clerk", "xzsp")
    assert case_data(runtime, view.id).get("route") is None  # the normal path was not taken
    assert runtime.complete(manual.id, {}, runtime.actor("window")).status == "completed"


def test_a_subprocess_that_ends_normally_takes_the_normal_path(runtime: Runtime) -> None:
    deploy_verification(runtime)
    view = begin(runtime, "t_error", {"credit_code": "91370202MA3C4XY01K"})
    assert view.status == "completed"
    data = case_data(runtime, view.id)
    assert (data["valid"], data["route"]) == (True, "auto")


# -- embedded subprocess ---------------------------------------------------------------------------

def test_embedded_subprocess_with_user_tasks_in_the_subprocess_lane(runtime: Runtime) -> None:
    inner = render(
        [start("s_start"), user("s_register", "登记", "issue.json"), user("s_check", "材料核对", "check.json"),
         end("s_end")],
        flows(("s_start", "s_register"), ("s_register", "s_check"), ("s_check", "s_end")))
    nodes = [start(), Node("subProcess", "intake", "窗口受理", body=inner),
             script("after", 'summary = "核对" + ("通过" if complete else "未通过")'), end()]
    edges = flows(("start", "intake"), ("intake", "after"), ("after", "end"))
    lanes = {"申请人": ["start"], "窗口人员": ["intake"]}  # the nested tasks inherit the subprocess's lane
    put(runtime, "t_embedded", {"s.bpmn": bpmn("t_embedded", render(nodes, edges), lanes)},
        {"issue.json": OPEN, "check.json": opinion_form("complete")})

    view = begin(runtime, "t_embedded")
    register = only_task(runtime, "window", view.id)
    assert (register.element_id, register.role, register.org) == ("s_register", "window_clerk", "xzsp")
    runtime.complete(register.id, {}, runtime.actor("window"))
    assert open_elements(runtime, view.id) == ["s_check"]
    assert do(runtime, "window", view.id, "s_check", {"complete": True}).status == "completed"
    assert case_data(runtime, view.id)["summary"] == "核对通过"


# -- multi-instance user task ----------------------------------------------------------------------

MI = ('<bpmn:multiInstanceLoopCharacteristics>'
      "<bpmn:loopDataInputRef>offices</bpmn:loopDataInputRef>"
      "<bpmn:loopDataOutputRef>opinions</bpmn:loopDataOutputRef>"
      '<bpmn:inputDataItem id="office" name="office" />'
      '<bpmn:outputDataItem id="opinion" name="opinion" />'
      "</bpmn:multiInstanceLoopCharacteristics>")


@pytest.fixture
def joint_survey(runtime: Runtime) -> InstanceView:
    """联合踏勘: one task per street office in `offices`, each offered to that office (candidateOrg)."""
    with runtime.db.write() as session:  # a second street office with its own staff member
        ensure_org(session, "street_zsl", "中山路街道办事处", "office", None)
        add_user(session, RoleCatalogue.from_yaml(ROLES), "street2", "street_zsl", ["street_staff"])
    survey = user("survey", "联合踏勘", "survey.json", body=MI, candidateOrg="office")
    nodes = [start(), script("pick", 'offices = ["street_bdq", "street_zsl"]'), survey,
             user("issue", "出证", "issue.json"), end()]
    edges = flows(("start", "pick"), ("pick", "survey"), ("survey", "issue"), ("issue", "end"))
    lanes = {"申请人": ["start"], "街道": ["survey"], "窗口人员": ["issue"]}
    survey_form = {"type": "object", "required": ["opinion"], "properties": {"opinion": {"type": "string"}}}
    put(runtime, "t_multi", {"m.bpmn": bpmn("t_multi", render(nodes, edges), lanes)},
        {"survey.json": survey_form, "issue.json": OPEN})
    return begin(runtime, "t_multi")


def test_parallel_multi_instance_user_task_one_per_list_item_continues_after_all(
        runtime: Runtime, joint_survey: InstanceView) -> None:
    case = joint_survey.id
    first, second = only_task(runtime, "street", case), only_task(runtime, "street2", case)
    assert [(t.name, t.role, t.org) for t in (first, second)] == [
        ("联合踏勘", "street_staff", "street_bdq"), ("联合踏勘", "street_staff", "street_zsl")]
    assert len(runtime.instance(case, runtime.actor("admin")).open_tasks) == 2
    assert runtime.task_detail(second.id, runtime.actor("street2"))["data"]["office"] == "street_zsl"

    runtime.complete(first.id, {"opinion": "同意"}, runtime.actor("street"))
    assert [t.id for t in runtime.instance(case, runtime.actor("admin")).open_tasks] == [second.id]
    assert inbox(runtime, "window", case) == []  # nothing moves on before every instance is done
    runtime.complete(second.id, {"opinion": "补充消防通道"}, runtime.actor("street2"))
    issue = only_task(runtime, "window", case)
    assert issue.element_id == "issue"
    assert runtime.task_detail(issue.id, runtime.actor("window"))["data"]["opinions"] == ["同意", "补充消防通道"]
    assert runtime.complete(issue.id, {}, runtime.actor("window")).status == "completed"


def test_multi_instance_tasks_carry_the_bpmn_element_id(runtime: Runtime, joint_survey: InstanceView) -> None:
    case = joint_survey.id
    assert open_elements(runtime, case) == ["survey", "survey"]
    ready = [e["element_id"] for e in runtime.instance(case, runtime.actor("admin"), detail=True).events or []
             if e["kind"] == "task_ready"]
    assert ready == ["survey", "survey"]


def test_multi_instance_behaviour_other_than_all_is_refused() -> None:
    loop = MI.replace("<bpmn:multiInstanceLoopCharacteristics>",
                      '<bpmn:multiInstanceLoopCharacteristics behavior="One">')
    nodes = [start(), user("survey", "联合踏勘", "issue.json", body=loop, candidateOrg="office"), end()]
    edges = flows(("start", "survey"), ("survey", "end"))
    files = workspace({"m.bpmn": bpmn("t_multi", render(nodes, edges), {"申请人": ["start"], "街道": ["survey"]})},
                      {"issue.json": OPEN}, key="t_multi")
    assert any(p.element_id == "survey" and "All" in p.message for p in validate(files))


# -- message events --------------------------------------------------------------------------------

MESSAGE_DEF = '<bpmn:message id="msg_corrected" name="材料已补正" />'


def message(payload: str | None = None, variable: str | None = None) -> str:
    ext = ""
    if payload or variable:
        ext = "<bpmn:extensionElements>" + (
            f"<spiffworkflow:messagePayload>{escape(payload)}</spiffworkflow:messagePayload>" if payload else "") + (
            f"<spiffworkflow:messageVariable>{variable}</spiffworkflow:messageVariable>" if variable else "") + \
            "</bpmn:extensionElements>"
    return f'<bpmn:messageEventDefinition messageRef="msg_corrected">{ext}</bpmn:messageEventDefinition>'


def test_message_thrown_in_one_branch_releases_the_catch_waiting_in_another(runtime: Runtime) -> None:
    """The window clerk's branch waits at a message catch until the applicant's branch throws it."""
    nodes = [
        start(), gateway("parallel", "fork"),
        user("correct", "补正材料", "correct.json"),
        Node("intermediateThrowEvent", "notify", "通知窗口",
             body=message(payload='{"pages": pages}')),
        Node("intermediateCatchEvent", "await_correction", "等待补正",
             body=message(variable="correction")),
        user("recheck", "复核", "issue.json"),
        gateway("parallel", "join"), end(),
    ]
    edges = flows(("start", "fork"), ("fork", "correct"), ("correct", "notify"), ("notify", "join"),
                  ("fork", "await_correction"), ("await_correction", "recheck"), ("recheck", "join"),
                  ("join", "end"))
    lanes = {"申请人": ["start", "correct"], "窗口人员": ["recheck"]}
    correct_form = {"type": "object", "required": ["pages"], "properties": {"pages": {"type": "integer"}}}
    put(runtime, "t_message", {"msg.bpmn": bpmn("t_message", render(nodes, edges), lanes, extra=MESSAGE_DEF)},
        {"correct.json": correct_form, "issue.json": OPEN})

    view = begin(runtime, "t_message")
    assert open_elements(runtime, view.id) == ["correct"]  # the clerk's branch is waiting at the catch
    assert inbox(runtime, "window", view.id) == []
    runtime.complete(view.open_tasks[0].id, {"pages": 12}, runtime.actor("haiyun"))
    recheck = only_task(runtime, "window", view.id)
    assert recheck.element_id == "recheck"
    assert runtime.task_detail(recheck.id, runtime.actor("window"))["data"]["correction"] == {"pages": 12}
    assert runtime.complete(recheck.id, {}, runtime.actor("window")).status == "completed"


def test_a_message_from_outside_releases_the_waiting_case(runtime: Runtime) -> None:
    """The case waits at the catch until `Runtime.deliver` hands it the message."""
    nodes = [start(), Node("intermediateCatchEvent", "await_payment", "等待缴费通知", body=message()),
             user("issue", "出证", "issue.json"), end()]
    edges = flows(("start", "await_payment"), ("await_payment", "issue"), ("issue", "end"))
    put(runtime, "t_wait_msg", {"w.bpmn": bpmn("t_wait_msg", render(nodes, edges),
                                               {"申请人": ["start"], "窗口人员": ["issue"]}, extra=MESSAGE_DEF)},
        {"issue.json": OPEN})
    view = begin(runtime, "t_wait_msg")
    assert view.status == "running" and view.open_tasks == []
    assert open_elements(runtime, view.id) == [] and waiting_timers(runtime, view.id) == []
    detail = runtime.instance(view.id, runtime.actor("admin"), detail=True)
    assert detail.diagram is not None and "await_payment" in detail.diagram["active"]
    assert runtime.advance(view.id).status == "running"  # advancing does not get it past the catch
    with pytest.raises(Forbidden):
        runtime.deliver(view.id, "材料已补正", {"paid": True}, runtime.actor("window"))
    with pytest.raises(Conflict):
        runtime.deliver(view.id, "别的消息", {}, runtime.actor("admin"))
    runtime.deliver(view.id, "材料已补正", {"paid": True}, runtime.actor("admin"))
    assert only_task(runtime, "window", view.id).element_id == "issue"
    with pytest.raises(Conflict):  # delivered once; the case no longer waits for it
        runtime.deliver(view.id, "材料已补正", {"paid": True}, runtime.actor("admin"))
