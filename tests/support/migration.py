"""A small process deployed in versions that differ, for the tests of moving running cases between them."""

from __future__ import annotations

from typing import Any

from engine.runtime.runtime import Runtime
from tests.support.builder import Node, end, flows, render, start, timer, user
from tests.support.steps import put

KEY = "t_mig"


FORMS = {"apply.json": {"type": "object", "properties": {"unit": {"type": "string"}, "area": {"type": "number"}}},
         "open.json": {"type": "object", "properties": {"ok": {"type": "boolean"}}},
         "need_area.json": {"type": "object", "required": ["area"], "properties": {"area": {"type": "number"}}},
         "shows_permit.json": {"type": "object", "required": ["permit"],
                               "properties": {"permit": {"type": "string", "readOnly": True}}}}


def _xml(nodes: list[Node], edges: list[Any], lanes: dict[str, list[str]]) -> str:
    lane_xml = "".join(f'<bpmn:lane id="lane{i}" name="{name}">'
                       + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in ids) + "</bpmn:lane>"
                       for i, (name, ids) in enumerate(lanes.items()))
    return ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            f'<bpmn:process id="{KEY}" isExecutable="true"><bpmn:laneSet id="ls">{lane_xml}</bpmn:laneSet>'
            f"{render(nodes, edges)}</bpmn:process></bpmn:definitions>")


def _wait(node_id: str = "wait", duration: str = "P10D") -> Node:
    return Node("intermediateCatchEvent", node_id, body=timer(duration))


def deploy(runtime: Runtime, *, accept: str = "accept", lane: str = "窗口人员", check: bool = False,
           start_form: str = "apply.json", report: tuple[str, ...] = ("unit", "area"), boundary: bool = False,
           accept_form: str = "open.json") -> None:
    """start → accept (user) → [check (user)] → wait (timer, 10 days) → end; variants as the arguments say."""
    nodes = [start(form=start_form), user(accept, "受理", accept_form)]
    path = [("start", accept)]
    after = accept
    if check:
        nodes.append(user("check", "核查", "open.json"))
        path.append((accept, "check"))
        after = "check"
    nodes += [_wait(), end()]
    path += [(after, "wait"), ("wait", "end")]
    if boundary:
        nodes.append(Node("boundaryEvent", "late", attrs=f'attachedToRef="{accept}"', body=timer("P30D")))
        nodes.append(end("late_end"))
        path.append(("late", "late_end"))
    users = [accept, *(["check"] if check else [])]
    xml = _xml(nodes, flows(*path), {"申请人": ["start"], lane: users})
    manifest = f"key: {KEY}\ncode: TST\nname: {{zh: 测试, en: Test}}\nreport: [{', '.join(report)}]\n"
    put(runtime, KEY, {f"{KEY}.bpmn": xml}, FORMS, extra={"processes/t/process.yaml": manifest.encode()})

