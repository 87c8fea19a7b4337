"""Processes whose message catch and start events correlate by a key (message correlation tests)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.runtime.runtime import Runtime
from engine.store.models import MessageWait
from tests.support.builder import Node, end, flows, props, render, start, user
from tests.support.steps import put

FORMS = {"apply.json": {"type": "object", "properties": {"credit_code": {"type": "string"}}},
         "complaint.json": {"type": "object", "required": ["credit_code"],
                            "properties": {"credit_code": {"type": "string"}, "text": {"type": "string"}}},
         "open.json": {"type": "object"}}


MESSAGES = ('<bpmn:message id="msg_permit" name="permit_issued" />'
            '<bpmn:message id="msg_complaint" name="complaint_filed" />')


def _doc(pid: str, nodes: list[Node], edges: list[Any], lanes: dict[str, list[str]], defs: str = MESSAGES) -> str:
    lane_xml = "".join(f'<bpmn:lane id="{pid}_l{i}" name="{name}">'
                       + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ids) + "</bpmn:lane>"
                       for i, (name, ids) in enumerate(lanes.items()))
    return ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            f'{defs}<bpmn:process id="{pid}" isExecutable="true"><bpmn:laneSet id="{pid}_ls">{lane_xml}'
            f"</bpmn:laneSet>{render(nodes, edges)}</bpmn:process></bpmn:definitions>")


def _waiter(key_expression: str) -> str:
    catch = Node("intermediateCatchEvent", "permit", ext=props(correlationKey=key_expression),
                 body='<bpmn:messageEventDefinition id="md_permit" messageRef="msg_permit"><bpmn:extensionElements>'
                      '<spiffworkflow:messageVariable>permit</spiffworkflow:messageVariable></bpmn:extensionElements>'
                      '</bpmn:messageEventDefinition>')
    return _doc("t_corr", [start(form="apply.json"), catch, end()], flows(("start", "permit"), ("permit", "end")),
                {"申请人": ["start", "permit", "end"]})


def deploy(runtime: Runtime, key_expression: str = "credit_code") -> None:
    """t_corr waits for permit_issued keyed by its credit code; t_corr_start is started by complaint_filed."""
    waiter = _waiter(key_expression)
    started = Node("startEvent", "complaint", ext=props(formJsonSchemaFilename="complaint.json"),
                   body='<bpmn:messageEventDefinition id="md_complaint" messageRef="msg_complaint" />')
    starter = _doc("t_corr_start", [started, user("review", "核查投诉", "open.json"), end("done")],
                   flows(("complaint", "review"), ("review", "done")),
                   {"申请人": ["complaint"], "窗口人员": ["review"]})
    put(runtime, "t_corr", {"t_corr.bpmn": waiter}, FORMS)
    put(runtime, "t_corr_start", {"t_corr_start.bpmn": starter}, FORMS)


def waits(runtime: Runtime) -> set[tuple[int, str, str | None]]:
    with runtime.db.read() as session:
        return {(w.instance_id, w.message, w.key) for w in session.scalars(select(MessageWait))}



#: what t_throw sends with permit_issued: the permit's number
PERMIT_PAYLOAD = ('<bpmn:extensionElements><spiffworkflow:messagePayload>{"permit_no": "P-" + credit_code}'
                  '</spiffworkflow:messagePayload></bpmn:extensionElements>')
SIGNALS = '<bpmn:signal id="sig_alert" name="district_alert" />'


def deploy_thrower(runtime: Runtime) -> None:
    """t_throw: the applicant files, and the case throws permit_issued (keyed by its credit code) and the signal
    district_alert, neither caught in the case itself."""
    permit = Node("intermediateThrowEvent", "permit_out", ext=props(correlationKey="credit_code"),
                  body=f'<bpmn:messageEventDefinition id="md_out" messageRef="msg_permit">{PERMIT_PAYLOAD}'
                       '</bpmn:messageEventDefinition>')
    alert = Node("intermediateThrowEvent", "alert",
                 body='<bpmn:signalEventDefinition id="sd_alert" signalRef="sig_alert" />')
    thrower = _doc("t_throw", [start(form="apply.json"), permit, alert, end()],
                   flows(("start", "permit_out"), ("permit_out", "alert"), ("alert", "end")),
                   {"申请人": ["start", "permit_out", "alert", "end"]}, MESSAGES + SIGNALS)
    put(runtime, "t_throw", {"t_throw.bpmn": thrower}, FORMS)


def deploy_signal_partners(runtime: Runtime) -> None:
    """t_sig_wait waits for district_alert; t_sig_start is started by it (a window clerk reviews)."""
    catch = Node("intermediateCatchEvent", "alerted",
                 body='<bpmn:signalEventDefinition id="sd_wait" signalRef="sig_alert" />')
    waiter = _doc("t_sig_wait", [start(form="apply.json"), catch, end()],
                  flows(("start", "alerted"), ("alerted", "end")), {"申请人": ["start", "alerted", "end"]}, SIGNALS)
    started = Node("startEvent", "on_alert", body='<bpmn:signalEventDefinition id="sd_start" signalRef="sig_alert" />')
    starter = _doc("t_sig_start", [started, user("review", "核查预警", "open.json"), end("done")],
                   flows(("on_alert", "review"), ("review", "done")), {"申请人": ["on_alert"], "窗口人员": ["review"]},
                   SIGNALS)
    put(runtime, "t_sig_wait", {"t_sig_wait.bpmn": waiter}, FORMS)
    put(runtime, "t_sig_start", {"t_sig_start.bpmn": starter}, FORMS)
