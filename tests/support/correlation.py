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


def _doc(pid: str, nodes: list[Node], edges: list[Any], lanes: dict[str, list[str]]) -> str:
    lane_xml = "".join(f'<bpmn:lane id="{pid}_l{i}" name="{name}">'
                       + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ids) + "</bpmn:lane>"
                       for i, (name, ids) in enumerate(lanes.items()))
    return ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            f'{MESSAGES}<bpmn:process id="{pid}" isExecutable="true"><bpmn:laneSet id="{pid}_ls">{lane_xml}'
            f"</bpmn:laneSet>{render(nodes, edges)}</bpmn:process></bpmn:definitions>")


def _waiter(key_expression: str) -> str:
    catch = Node("intermediateCatchEvent", "permit", ext=props(correlationKey=key_expression),
                 body='<bpmn:messageEventDefinition id="md_permit" messageRef="msg_permit" />')
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

