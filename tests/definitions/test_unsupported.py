"""One test per construct SpiffWorkflow 3.2 would not run as drawn: each is refused with its id, line and a reason.

Every document is a small but plausible process — start event, the construct, end event, one element per
line — and next to the refused constructs stand their supported neighbours, which must pass untouched.
"""

from __future__ import annotations

import re
from itertools import pairwise

import pytest

from engine.base.problems import Problem
from engine.base.xmlsafe import parse_xml
from engine.definitions.registry import validate
from engine.definitions.unsupported import RULES, find_unsupported
from tests.support.builder import bpmn
from tests.support.repo import REPO
from tests.support.workspaces import workspace

MESSAGE = '<bpmn:message id="msg_reply" name="reply" />\n'
SIGNAL = '<bpmn:signal id="sig_go" name="go" />\n'
ERROR = '<bpmn:error id="err_bad" name="bad" errorCode="BAD" />\n'
ESCALATION = '<bpmn:escalation id="esc_late" name="late" escalationCode="LATE" />\n'


def process(*chain: str, start: str = '<bpmn:startEvent id="start" />', end: str = '<bpmn:endEvent id="end" />',
            aside: tuple[str, ...] = (), flows: tuple[str, ...] = (), conditions: dict[str, str] | None = None,
            extra: str = "") -> str:
    """A document whose process runs start → each node of `chain` → end, one element per line.

    `aside` holds nodes off the main path (boundary events, event subprocesses, other ends), `flows` more
    sequence flows, `conditions` a condition for the main-path flow leaving a node, `extra` root elements.
    """
    nodes = [start, *chain, end]
    ids = [re.search(r'id="([^"]+)"', node)[1] for node in nodes]
    lines = [*nodes[:-1], *aside, nodes[-1]]
    for source, target in pairwise(ids):
        condition = (conditions or {}).get(source)
        body = f"<bpmn:conditionExpression>{condition}</bpmn:conditionExpression>" if condition else ""
        lines.append(f'<bpmn:sequenceFlow id="f_{source}" sourceRef="{source}" targetRef="{target}">{body}'
                     "</bpmn:sequenceFlow>")
    return bpmn("p", "\n" + "\n".join([*lines, *flows]) + "\n", extra=extra)


def event(tag: str, eid: str, definition: str, attrs: str = "") -> str:
    """An event whose definition sits on the line after its opening tag."""
    return f'<bpmn:{tag} id="{eid}"{" " + attrs if attrs else ""}>\n{definition}\n</bpmn:{tag}>'


def task(tid: str, attrs: str = "", inner: str = "", tag: str = "task") -> str:
    return f'<bpmn:{tag} id="{tid}"{" " + attrs if attrs else ""}>{inner}</bpmn:{tag}>'


def subprocess(sid: str, start: str, attrs: str = "", inner: str = "") -> str:
    """A subprocess (or event subprocess, by `attrs`) running `start` → a script → its end."""
    first = re.search(r'id="([^"]+)"', start)[1]
    return (f'<bpmn:subProcess id="{sid}"{" " + attrs if attrs else ""}>\n{start}\n'
            f'<bpmn:scriptTask id="{sid}_work"><bpmn:script>done = True</bpmn:script></bpmn:scriptTask>\n{inner}'
            f'<bpmn:endEvent id="{sid}_end" />\n'
            f'<bpmn:sequenceFlow id="{sid}_f1" sourceRef="{first}" targetRef="{sid}_work" />\n'
            f'<bpmn:sequenceFlow id="{sid}_f2" sourceRef="{sid}_work" targetRef="{sid}_end" />\n'
            "</bpmn:subProcess>")


def esp(sid: str, start: str) -> str:
    return subprocess(sid, start, 'triggeredByEvent="true"')


MESSAGE_DEF = '<bpmn:messageEventDefinition messageRef="msg_reply" />'
SIGNAL_DEF = '<bpmn:signalEventDefinition signalRef="sig_go" />'
TIMER_DEF = '<bpmn:timerEventDefinition><bpmn:timeDuration>"P1D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
CONDITIONAL_DEF = ("<bpmn:conditionalEventDefinition><bpmn:condition>amount &gt; 5</bpmn:condition>"
                   "</bpmn:conditionalEventDefinition>")
TIMER_CYCLE_DEF = ('<bpmn:timerEventDefinition><bpmn:timeCycle>"R3/PT1H"</bpmn:timeCycle>'
                   "</bpmn:timerEventDefinition>")
CARDINALITY = "<bpmn:loopCardinality>3</bpmn:loopCardinality>"
NON_INTERRUPTING = 'isInterrupting="false"'

# case id → (document, the element id reported, words the message must contain)
CASES: dict[str, tuple[str, str, str]] = {
    "complex_gateway": (process('<bpmn:complexGateway id="cx" />'), "cx", "complex gateway"),
    "compensation_throw_event": (process(event("intermediateThrowEvent", "undo_all",
                                               "<bpmn:compensateEventDefinition />")), "undo_all", "compensation"),
    "compensation_boundary_event": (process(task("pay"), aside=(event(
        "boundaryEvent", "on_undo", "<bpmn:compensateEventDefinition />", 'attachedToRef="pay"'),)),
        "on_undo", "compensation"),
    "compensation_start_event": (process(aside=(esp("comp_sp", event(
        "startEvent", "comp_start", "<bpmn:compensateEventDefinition />")),)), "comp_start", "compensation"),
    "compensation_end_event": (process(end=event("endEvent", "undo_end", "<bpmn:compensateEventDefinition />")),
                               "undo_end", "compensation"),
    "compensation_activity": (process(task("pay"), aside=(task("refund", 'isForCompensation="true"'),)),
                              "refund", "isForCompensation"),
    "multi_instance_behavior_one": (process(task("review", inner=(
        f'\n<bpmn:multiInstanceLoopCharacteristics behavior="One">{CARDINALITY}'
        "</bpmn:multiInstanceLoopCharacteristics>\n"))), "review", "multi-instance behavior 'One'"),
    "multi_instance_behavior_none": (process(task("review", inner=(
        f'\n<bpmn:multiInstanceLoopCharacteristics behavior="None">{CARDINALITY}'
        "</bpmn:multiInstanceLoopCharacteristics>\n"))), "review", "multi-instance behavior 'None'"),
    "multi_instance_complex_behavior": (process(task("review", inner=(
        f'\n<bpmn:multiInstanceLoopCharacteristics behavior="Complex">{CARDINALITY}'
        '<bpmn:complexBehaviorDefinition id="cbd"><bpmn:condition>True</bpmn:condition>'
        "</bpmn:complexBehaviorDefinition></bpmn:multiInstanceLoopCharacteristics>\n"))),
        "review", "multi-instance behavior 'Complex'"),
    "start_quantity": (process(task("sign", 'startQuantity="2"', tag="userTask")), "sign", "startQuantity"),
    "completion_quantity": (process(task("fire_check", 'calledElement="other" completionQuantity="3"',
                                         tag="callActivity")), "fire_check", "completionQuantity"),
    "condition_on_task_flow": (process(task("check"), task("approve"), conditions={"check": "amount &gt; 5"}),
                               "f_check", "lone conditional flow"),
    "condition_on_start_event_flow": (process(task("check"), conditions={"start": "amount &gt; 5"}),
                                      "f_start", "lone conditional flow"),
    "condition_on_parallel_gateway_flow": (process('<bpmn:parallelGateway id="fork" />',
                                                   conditions={"fork": "amount &gt; 5"}),
                                           "f_fork", "out of a parallel gateway"),
    "negative_loop_maximum": (process(task("again", inner='<bpmn:standardLoopCharacteristics loopMaximum="-2" />')),
                              "again", "negative loopMaximum"),
    "negative_loop_cardinality": (process(task("each", inner="<bpmn:multiInstanceLoopCharacteristics>"
                                                            "<bpmn:loopCardinality>-1</bpmn:loopCardinality>"
                                                            "</bpmn:multiInstanceLoopCharacteristics>")),
                                  "each", "negative loopCardinality"),
    "time_cycle_on_intermediate_timer": (process(event("intermediateCatchEvent", "every", (
        '<bpmn:timerEventDefinition><bpmn:timeCycle>"R4/PT1S"</bpmn:timeCycle></bpmn:timerEventDefinition>'))),
        "every", "timeCycle on an intermediate timer"),
    "reserved_start_id": (process(start='<bpmn:startEvent id="Start" />'), "Start", "the id 'Start'"),
    "parallel_event_gateway": (process('<bpmn:eventBasedGateway id="wait" eventGatewayType="Parallel" />',
                                       event("intermediateCatchEvent", "a_day", TIMER_DEF)),
                               "wait", "event-based gateway"),
    "instantiating_event_gateway": (process('<bpmn:eventBasedGateway id="wait" instantiate="true" />',
                                            event("intermediateCatchEvent", "a_day", TIMER_DEF)),
                                    "wait", "event-based gateway"),
    "instantiating_receive_task": (process(task("await", 'messageRef="msg_reply" instantiate="true"',
                                                tag="receiveTask"), extra=MESSAGE),
                                   "await", "instantiating receive task"),
    "receive_task_without_message": (process(task("await", tag="receiveTask")), "await", "without a message"),
    "send_task_without_message": (process(task("notify", tag="sendTask")), "notify", "without a message"),
    "conditional_intermediate_event": (process(event("intermediateCatchEvent", "until_paid", CONDITIONAL_DEF)),
                                       "until_paid", "conditional event"),
    "conditional_boundary_event": (process(task("check", tag="userTask"), aside=(
        event("boundaryEvent", "when_big", CONDITIONAL_DEF, 'attachedToRef="check"'),)), "when_big",
        "conditional event"),
    "conditional_event_subprocess": (process(task("check"), aside=(esp("on_big", event(
        "startEvent", "big_start", CONDITIONAL_DEF, NON_INTERRUPTING)),)), "big_start", "conditional event"),
    "message_start_in_embedded_subprocess": (process(subprocess("intake", event(
        "startEvent", "intake_start", MESSAGE_DEF)), extra=MESSAGE), "intake_start", "embedded subprocess"),
    "timer_start_in_embedded_subprocess": (process(subprocess("intake", event(
        "startEvent", "intake_start", TIMER_DEF))), "intake_start", "embedded subprocess"),
    "event_subprocess_without_trigger": (process(task("check"), aside=(esp(
        "on_what", '<bpmn:startEvent id="what_start" />'),)), "what_start", "without a trigger"),
    "interrupting_timer_cycle_event_subprocess": (process(task("check"), aside=(esp("every_hour", event(
        "startEvent", "hour_start", TIMER_CYCLE_DEF)),)), "hour_start", "timeCycle on the timer start"),
    "multiple_trigger_event_subprocess": (process(task("check"), aside=(esp("on_either", event(
        "startEvent", "either_start", MESSAGE_DEF + SIGNAL_DEF, NON_INTERRUPTING)),), extra=MESSAGE + SIGNAL),
        "either_start", "several triggers"),
    "ad_hoc_subprocess": (process(
        '<bpmn:adHocSubProcess id="collect" ordering="Sequential">\n'
        '<bpmn:userTask id="collect_id" />\n<bpmn:userTask id="collect_licence" />\n'
        "<bpmn:completionCondition>done</bpmn:completionCondition>\n</bpmn:adHocSubProcess>"),
        "collect", "ad-hoc subprocess"),
    "data_store": (process(task("check"), extra='<bpmn:dataStore id="archive" name="archive" />\n'),
                   "archive", "data store"),
    "data_store_reference": (process(task("check"), aside=('<bpmn:dataStoreReference id="archive_ref" />',)),
                             "archive_ref", "data store"),
}

# case id → a document using the supported neighbour of a refused construct
ALLOWED: dict[str, str] = {
    "paired_link_events_run_as_a_flow": process(
        event("intermediateThrowEvent", "to_b", '<bpmn:linkEventDefinition name="B" />'),
        aside=(event("intermediateCatchEvent", "from_b", '<bpmn:linkEventDefinition name="B" />'),)),
    "several_conditional_flows_out_of_a_task_run_as_a_split": process(
        task("check"), conditions={"check": "amount &gt; 5"}, aside=('<bpmn:endEvent id="small_end" />',),
        flows=('<bpmn:sequenceFlow id="f_small" sourceRef="check" targetRef="small_end" />',)),
    "error_end_event_caught_by_boundary_event": process(
        subprocess("verify", '<bpmn:startEvent id="verify_start" />'),
        aside=(event("boundaryEvent", "invalid", '<bpmn:errorEventDefinition errorRef="err_bad" />',
                     'attachedToRef="verify"'), '<bpmn:endEvent id="invalid_end" />'),
        end=event("endEvent", "end", '<bpmn:errorEventDefinition errorRef="err_bad" />'),
        flows=('<bpmn:sequenceFlow id="to_invalid_end" sourceRef="invalid" targetRef="invalid_end" />',),
        extra=ERROR),
    "escalation_throw_and_boundary": process(
        task("check", tag="userTask"), event("intermediateThrowEvent", "raise",
                                             '<bpmn:escalationEventDefinition escalationRef="esc_late" />'),
        aside=(event("boundaryEvent", "late", '<bpmn:escalationEventDefinition escalationRef="esc_late" />',
                     'attachedToRef="check" cancelActivity="false"'),), extra=ESCALATION),
    "multi_instance_behavior_all": process(task("review", inner=(
        f'<bpmn:multiInstanceLoopCharacteristics behavior="All">{CARDINALITY}'
        "</bpmn:multiInstanceLoopCharacteristics>"))),
    "sequential_multi_instance_default_behavior": process(task("review", inner=(
        f'<bpmn:multiInstanceLoopCharacteristics isSequential="true">{CARDINALITY}'
        "<bpmn:completionCondition>done</bpmn:completionCondition></bpmn:multiInstanceLoopCharacteristics>"))),
    "standard_loop": process(task("retry", inner=(
        '<bpmn:standardLoopCharacteristics testBefore="true" loopMaximum="3">'
        "<bpmn:loopCondition>not done</bpmn:loopCondition></bpmn:standardLoopCharacteristics>"))),
    "quantities_of_one_and_explicit_defaults": process(task(
        "sign", 'startQuantity="1" completionQuantity="1" isForCompensation="false"', tag="userTask")),
    "conditions_on_exclusive_and_inclusive_gateways": process(
        '<bpmn:exclusiveGateway id="big" default="f_big" />', '<bpmn:inclusiveGateway id="which" />',
        conditions={"which": "amount &gt; 1"}, aside=('<bpmn:endEvent id="small_end" />',),
        flows=('<bpmn:sequenceFlow id="to_small" sourceRef="big" targetRef="small_end">'
               "<bpmn:conditionExpression>amount &lt;= 5</bpmn:conditionExpression></bpmn:sequenceFlow>",)),
    "condition_on_default_flow_ignored_as_bpmn_says": process(
        '<bpmn:exclusiveGateway id="big" default="f_big" />', conditions={"big": "amount &gt; 5"},
        aside=('<bpmn:endEvent id="small_end" />',),
        flows=('<bpmn:sequenceFlow id="to_small" sourceRef="big" targetRef="small_end">'
               "<bpmn:conditionExpression>amount &lt;= 5</bpmn:conditionExpression></bpmn:sequenceFlow>",)),
    "exclusive_event_gateway": process(
        '<bpmn:eventBasedGateway id="wait" eventGatewayType="Exclusive" instantiate="false" />',
        event("intermediateCatchEvent", "a_day", TIMER_DEF)),
    "message_tasks_and_events": process(
        task("notify", 'messageRef="msg_reply"', tag="sendTask"),
        task("await", 'messageRef="msg_reply"', tag="receiveTask"),
        event("intermediateCatchEvent", "reply", MESSAGE_DEF), extra=MESSAGE),
    "signal_start_throw_and_boundary": process(
        task("check", tag="userTask"), event("intermediateThrowEvent", "shout", SIGNAL_DEF),
        start=event("startEvent", "start", SIGNAL_DEF),
        aside=(event("boundaryEvent", "heard", SIGNAL_DEF, 'attachedToRef="check"'),), extra=SIGNAL),
    "timer_start_catch_and_non_interrupting_boundary": process(
        task("check", tag="userTask"), event("intermediateCatchEvent", "cooling_off", TIMER_DEF),
        start=event("startEvent", "start", TIMER_DEF),
        aside=(event("boundaryEvent", "remind", TIMER_DEF, 'attachedToRef="check" cancelActivity="false"'),)),
    "non_interrupting_message_and_signal_event_subprocesses": process(
        task("check"), aside=(esp("on_reply", event("startEvent", "reply_start", MESSAGE_DEF, NON_INTERRUPTING)),
                              esp("on_go", event("startEvent", "go_start", SIGNAL_DEF, NON_INTERRUPTING))),
        extra=MESSAGE + SIGNAL),
    "error_and_escalation_event_subprocesses": process(
        task("check"), aside=(esp("on_error", event("startEvent", "error_start",
                                                    '<bpmn:errorEventDefinition errorRef="err_bad" />')),
                              esp("on_late", event("startEvent", "late_start",
                                                   '<bpmn:escalationEventDefinition escalationRef="esc_late" />',
                                                   NON_INTERRUPTING))),
        extra=ERROR + ESCALATION),
    "error_event_subprocess_by_event_definition_ref": process(
        task("check"), aside=(esp("on_error", event("startEvent", "error_start",
                                                    "<bpmn:eventDefinitionRef>bad_def</bpmn:eventDefinitionRef>")),),
        extra=ERROR + '<bpmn:errorEventDefinition id="bad_def" errorRef="err_bad" />\n'),
    "signal_end_event": process(task("check"), end=event("endEvent", "broadcast", SIGNAL_DEF), extra=SIGNAL),
    "interrupting_message_signal_and_timer_event_subprocesses": process(
        task("check"), aside=(esp("on_reply", event("startEvent", "reply_start", MESSAGE_DEF)),
                              esp("on_go", event("startEvent", "go_start", SIGNAL_DEF, 'isInterrupting="true"')),
                              esp("on_day", event("startEvent", "day_start", TIMER_DEF))),
        extra=MESSAGE + SIGNAL),
    "non_interrupting_timer_event_subprocesses_with_a_cycle": process(
        task("check"), aside=(esp("every_hour", event("startEvent", "hour_start", TIMER_CYCLE_DEF,
                                                      NON_INTERRUPTING)),
                              esp("on_day", event("startEvent", "day_start", TIMER_DEF, NON_INTERRUPTING)))),
    "event_subprocess_nested_in_a_subprocess": process(
        subprocess("intake", '<bpmn:startEvent id="intake_start" />', inner=(
            esp("on_reply", event("startEvent", "reply_start", MESSAGE_DEF, NON_INTERRUPTING)) + "\n")),
        extra=MESSAGE),
    "embedded_subprocess_and_call_activity": process(
        subprocess("intake", '<bpmn:startEvent id="intake_start" />', 'triggeredByEvent="false"'),
        task("fire_check", 'calledElement="other"', tag="callActivity")),
    "transaction_with_cancel": process(
        '<bpmn:transaction id="pay">\n<bpmn:startEvent id="pay_start" />\n'
        + event("endEvent", "pay_cancel", "<bpmn:cancelEventDefinition />") + "\n"
        '<bpmn:sequenceFlow id="pay_f" sourceRef="pay_start" targetRef="pay_cancel" />\n</bpmn:transaction>',
        aside=(event("boundaryEvent", "cancelled", "<bpmn:cancelEventDefinition />", 'attachedToRef="pay"'),),
        flows=('<bpmn:sequenceFlow id="to_end" sourceRef="cancelled" targetRef="end" />',)),
}


def line_of(text: str, element_id: str) -> int:
    return text[: re.search(rf'\sid="{element_id}"', text).start()].count("\n") + 1


def problems(text: str) -> list[Problem]:
    return find_unsupported(parse_xml(text.encode(), "p.bpmn"), "p.bpmn")


@pytest.mark.parametrize(("text", "element_id", "words"), CASES.values(), ids=CASES.keys())
def test_construct_is_refused_with_its_id_line_and_reason(text: str, element_id: str, words: str) -> None:
    [problem] = problems(text)
    assert (problem.file, problem.element_id, problem.line, problem.severity) == (
        "p.bpmn", element_id, line_of(text, element_id), "error")
    assert words.lower() in problem.message.lower()
    zh, en = problem.message.split(" (", 1)
    assert re.search(r"[\u4e00-\u9fff]", zh) and "not supported" in en and en.endswith(")")


@pytest.mark.parametrize("text", ALLOWED.values(), ids=ALLOWED.keys())
def test_supported_neighbour_is_not_refused(text: str) -> None:
    assert problems(text) == []


def test_every_rule_has_a_case() -> None:
    roots = [parse_xml(text.encode(), "p.bpmn").getroot() for text, _, _ in CASES.values()]
    assert [rule.__name__ for rule in RULES if not any(list(rule(root)) for root in roots)] == []


def test_the_sample_process_has_nothing_unsupported() -> None:
    path = REPO / "processes" / "sample" / "approval.bpmn"
    assert find_unsupported(parse_xml(path.read_bytes(), str(path)), str(path)) == []


def test_several_constructs_in_one_document_are_all_reported() -> None:
    text = process('<bpmn:complexGateway id="cx" />', task("sign", 'startQuantity="2"'),
                   end=event("endEvent", "undo_end", "<bpmn:compensateEventDefinition />"))
    assert {(p.element_id, p.line) for p in problems(text)} == {
        ("cx", line_of(text, "cx")), ("sign", line_of(text, "sign")), ("undo_end", line_of(text, "undo_end"))}


def test_validate_refuses_it_too() -> None:
    text, element_id, _ = CASES["complex_gateway"]
    found = validate(workspace({"p.bpmn": text}))
    assert any(p.element_id == element_id and "not supported" in p.message for p in found)
