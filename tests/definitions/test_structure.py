"""tongban's own static checks where the XSD and Spiff's parser are silent (issue #15, points 1 and 3).

Ids, references, how flow nodes connect, event definitions per kind of event, data declarations, and the
refusals of what would otherwise run wrongly (negative loop counts, a reserved id, a cycle on an
intermediate timer, a lone conditional flow): each is reported with its element id, line and its text.
"""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from engine.base.problems import Problem, errors_in
from engine.definitions.registry import validate
from tests.support.builder import Node, bpmn, end, flows, render, script, start
from tests.support.repo import REPO, ROLES
from tests.support.workspaces import workspace

FIXTURES = Path(__file__).parent / "fixtures" / "betsy_constraints"


def errors(document: str, key: str | None = None) -> list[Problem]:
    return errors_in(validate(workspace({"t.bpmn": document}, key=key)))


def found(document: str) -> set[tuple[str | None, str]]:
    return {(p.element_id, p.message) for p in errors(document)}


def simple(*middle: Node, edges: list | None = None, extra: str = "") -> str:
    """start → middle… → end, unless `edges` says otherwise."""
    nodes = [start(), *middle, end()]
    ids = [n.id for n in nodes]
    return bpmn("p", render(nodes, edges if edges is not None else flows(*pairwise(ids))), extra=extra)


# -- betsy's constraint models, vendored (README.md there) ---------------------------------------------------
BETSY = {  # file → (element id, the start of the message) of the problem that names the violated rule
    "EXT003_1_Fail_missing_ID": (None, "startEvent 元素缺少 id"),
    "EXT006_1_Fail_association": ("_8", "sequenceFlow 的 targetRef 引用了 association “_4”，只能引用活动、事件或网关"),
    "EXT017_1_failure_exclusiveGateway": ("_3", "汇聚网关只能有一条出口顺序流"),
    "EXT023_1_fail_no_incoming": ("_3", "incoming 列表与顺序流不符：['_9'] 不是进入它的顺序流; 漏列 ['_4']"),
    "EXT031_3_Fail_message_flow_in_same_pool": ("_4", "消息流须连接不同泳池中的元素"),
    "EXT084_1_Fail": ("_3", "dataInput 未被任何 inputSet 引用"),
    "EXT095_1_Fail": ("_2", "eventDefinitionRef 只能引用 definitions 下的全局事件定义，“_2_ED_1” 属于另一个事件"),
    "EXT096_1_Fail": ("_2", "开始事件不能有入口顺序流"),
    "EXT101_1_fail": ("_2", "outgoing 列表与顺序流不符：漏列 ['_4']"),
    "EXT135_1_fail": ("_10", "网关须有多条入口或多条出口顺序流"),
    "EXT148_5_failure_noneCatch": ("_3", "中间捕获事件须有事件定义"),
    "EXT152_1_fail_1": ("_8", "顺序流跨越了流程或子流程的边界（targetRef “_5” 不在同一层级）"),
    "REF_3": ("F2_2", "outgoing 列表与顺序流不符：['F2_6'] 重复列出"),
}


@pytest.mark.parametrize("name", sorted(BETSY))
def test_each_betsy_constraint_model_is_rejected_naming_its_element(name: str) -> None:
    problems = errors_in(validate({"processes/roles.yaml": ROLES,
                                   "processes/t/m.bpmn": (FIXTURES / f"{name}.bpmn").read_bytes()}))
    element, start_of_message = BETSY[name]
    matching = [p for p in problems if p.element_id == element and p.message.startswith(start_of_message)]
    assert matching, [str(p) for p in problems]
    assert matching[0].line is not None and matching[0].message.endswith(")")  # zh (en), with its line


def test_the_projects_own_processes_pass_the_checks() -> None:
    files = {str(p.relative_to(REPO)): p.read_bytes() for p in (REPO / "processes").rglob("*") if p.is_file()}
    files.update({str(p.relative_to(REPO)): p.read_bytes() for p in (REPO / "forms").rglob("*") if p.is_file()})
    assert [str(p) for p in errors_in(validate(files))] == []


# -- references and ids ---------------------------------------------------------------------------------------
def test_a_default_flow_must_leave_its_gateway() -> None:
    nodes = [start(), Node("exclusiveGateway", "g", attrs='default="start__g"'), end("a"), end("b")]
    document = bpmn("p", render(nodes, flows(("start", "g"), ("g", "a", "x == 1"), ("g", "b", "x == 2"))))
    assert ("g", "默认流 “start__g” 不是从该节点引出的顺序流 (the default flow 'start__g' is not a sequence flow "
                 "out of this element)") in found(document)


def test_a_message_reference_must_name_a_message() -> None:
    body = '<bpmn:messageEventDefinition messageRef="sig" />'
    document = simple(Node("intermediateCatchEvent", "wait", body=body), extra='<bpmn:signal id="sig" name="s" />')
    assert ("wait", "messageEventDefinition 的 messageRef 引用了 signal “sig”，只能引用 message "
                    "(messageEventDefinition messageRef refers to the signal 'sig'; it must refer to a message)"
            ) in found(document)


# -- gateways and events ----------------------------------------------------------------------------------------
def test_an_event_based_gateway_leads_only_to_catch_events_without_conditions() -> None:
    timer = '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
    nodes = [start(), Node("eventBasedGateway", "g"), script("s", "x = 1"),
             Node("intermediateCatchEvent", "t", body=timer), end()]
    document = bpmn("p", render(nodes, flows(("start", "g"), ("g", "s"), ("g", "t"), ("s", "end"), ("t", "end"))))
    assert ("s", "事件网关之后只能是接收任务或消息/定时/信号/条件中间捕获事件 "
                 "(an event-based gateway may only lead to a receive task or an intermediate message, timer, "
                 "signal or conditional catch event)") in found(document)


def test_an_end_event_must_not_flow_on_and_a_start_event_must_not_be_reached() -> None:
    nodes = [start(), end("middle"), script("after", "x = 1"), end()]
    document = bpmn("p", render(nodes, flows(("start", "middle"), ("middle", "after"), ("after", "end"),
                                             ("after", "start"))))
    problems = found(document)
    assert ("middle", "结束事件不能有出口顺序流 (an end event must not have an outgoing sequence flow)") in problems
    assert ("start", "开始事件不能有入口顺序流 (a start event must not have an incoming sequence flow)") in problems


def test_a_top_level_start_event_cannot_catch_an_error() -> None:
    document = simple(extra='<bpmn:error id="e" errorCode="E" />').replace(
        '<bpmn:startEvent id="start">', '<bpmn:startEvent id="start"><bpmn:errorEventDefinition errorRef="e" />')
    assert any(e == "start" and m.startswith("流程顶层的开始事件不能使用 ['error'] 事件定义")
               for e, m in found(document))


def test_an_error_start_event_cannot_be_non_interrupting() -> None:
    handler = render([Node("startEvent", "caught", attrs='isInterrupting="false"',
                           body='<bpmn:errorEventDefinition errorRef="e" />'), script("fix", "x = 1"), end("fixed")],
                     flows(("caught", "fix"), ("fix", "fixed")))
    document = simple(Node("subProcess", "on_error", attrs='triggeredByEvent="true"', body=handler),
                      edges=flows(("start", "end")), extra='<bpmn:error id="e" errorCode="E" />')
    assert ("caught", "错误开始事件总是中断型的，不能设置 isInterrupting=\"false\" (an error start event always "
                      "interrupts: it must not be isInterrupting=\"false\")") in found(document)


def test_an_unpaired_link_throw_is_refused() -> None:
    nodes = [start(), Node("intermediateThrowEvent", "jump", body='<bpmn:linkEventDefinition name="nowhere" />')]
    document = bpmn("p", render(nodes, flows(("start", "jump"))))
    assert ("jump", "链接抛出事件 “nowhere” 须在同一流程层级恰有一个同名链接捕获事件 (the link throw 'nowhere' needs "
                    "exactly one link catch event of that name on the same process level)") in found(document)


# -- refusals of what would run wrongly ---------------------------------------------------------------------------
def test_a_negative_loop_maximum_is_refused() -> None:
    task = Node("scriptTask", "again", body='<bpmn:script>x = 1</bpmn:script><bpmn:standardLoopCharacteristics '
                                            'loopMaximum="-1"><bpmn:loopCondition>True</bpmn:loopCondition>'
                                            "</bpmn:standardLoopCharacteristics>")
    assert ("again", 'loopMaximum="-1" 不能为负数：请写最大循环次数（0 或以上）或去掉它 '
                     "(a negative loopMaximum (-1) is not supported: give the most iterations (0 or more) or leave "
                     "it out)") in found(simple(task))


def test_a_negative_loop_cardinality_is_refused() -> None:
    task = Node("scriptTask", "each", body="<bpmn:script>x = 1</bpmn:script><bpmn:multiInstanceLoopCharacteristics "
                                           'isSequential="true"><bpmn:loopCardinality>-1</bpmn:loopCardinality>'
                                           "</bpmn:multiInstanceLoopCharacteristics>")
    assert ("each", "loopCardinality 为负数（-1）：多实例活动的实例数须为 0 或以上 "
                    "(a negative loopCardinality (-1) is not supported: a multi-instance activity runs 0 or more "
                    "instances)") in found(simple(task))


def test_a_start_event_with_the_id_start_is_refused_with_nothing_misleading_after_it() -> None:
    document = bpmn("p", render([start("Start"), end()], flows(("Start", "end"))), {"申请人": ["Start"]})
    problems = errors(document, key="p")
    assert [(p.element_id, p.message) for p in problems] == [
        ("Start", "元素 id 不能是 “Start”：该名称为引擎内部保留，请改用其他 id（如 StartEvent） "
                  "(the id 'Start' is not supported: the engine reserves it for its own tasks; rename the element "
                  "(e.g. StartEvent))")]  # and no "process.yaml …" after it


def test_a_time_cycle_on_an_intermediate_timer_is_refused() -> None:
    wait = Node("intermediateCatchEvent", "wait", body='<bpmn:timerEventDefinition><bpmn:timeCycle>"R4/PT1S"'
                                                      "</bpmn:timeCycle></bpmn:timerEventDefinition>")
    assert any(e == "wait" and m.startswith("中间定时事件不支持 timeCycle") for e, m in found(simple(wait)))


def test_a_lone_conditional_flow_out_of_a_task_is_refused() -> None:
    nodes = [start(), script("s", "x = 1"), end()]
    document = bpmn("p", render(nodes, flows(("start", "s"), ("s", "end", "x == 1"))))
    assert ("s__end", "活动或事件唯一的出口顺序流不能带条件：条件为假时办件会停在这里，请加一条默认流或改用排他网关 "
                      "(a lone conditional flow out of an activity or event is not supported: when the "
                      "condition is false the case would stop there; add a default flow or use an exclusive "
                      "gateway)") in found(document)


def test_conditions_out_of_a_parallel_gateway_are_refused() -> None:
    nodes = [start(), Node("parallelGateway", "fork"), end("a"), end("b")]
    document = bpmn("p", render(nodes, flows(("start", "fork"), ("fork", "a", "x == 1"), ("fork", "b"))))
    assert any(e == "fork__a" and m.startswith("并行网关的出口顺序流不能有条件") for e, m in found(document))


def test_several_conditional_flows_out_of_a_task_are_accepted() -> None:
    nodes = [start(), Node("scriptTask", "s", attrs='default="s__b"', body="<bpmn:script>x = 1</bpmn:script>"),
             end("a"), end("b")]
    document = bpmn("p", render(nodes, flows(("start", "s"), ("s", "a", "x == 1"), ("s", "b"))))
    assert found(document) == set()


def test_a_refused_construct_gets_no_second_error_about_the_manifest() -> None:
    nodes = [start(), Node("complexGateway", "cx"), end()]
    document = bpmn("p", render(nodes, flows(("start", "cx"), ("cx", "end"))), {"申请人": ["start"]})
    messages = [p.message for p in errors(document, key="p")]
    assert messages and not any("process.yaml" in m for m in messages)
