"""A test process with two decisions: the street's internal site review, then the window's public decision, which
issues a decision document printing the opinion trail (engine/case/opinions.py)."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.steps import begin, do, put

APPLY = {"type": "object", "properties": {"title": {"type": "string", "title": "事项"}}}
REVIEW = {"type": "object", "required": ["review"], "properties": {"review": {
    "type": "object", "title": "现场核查", "required": ["result"], "properties": {
        "result": {"x-decision": True, "type": "string", "title": "结论",
                   "oneOf": [{"const": "pass", "title": "符合"}, {"const": "fail", "title": "不符合"}]},
        "opinion": {"x-opinion": "internal", "type": "string", "title": "核查意见"}}}}}
DECIDE = {"type": "object", "required": ["approved"], "properties": {
    "approved": {"x-decision": True, "type": "boolean", "title": "同意备案"},
    "decision_opinion": {"x-opinion": "public", "type": "string", "title": "审查意见"}}}
DOCUMENTS = """t_decision:
  title: 备案决定书
  office: 市南区行政审批服务局
  opinions: true
  body: |
    {{ title }}：{% if approved %}准予备案{% else %}不予备案{% endif %}。
"""


def _diagram(pid: str, nodes: list[str]) -> str:
    """Shapes in a row and the edges between them: the case page's viewer draws only what has a diagram."""
    shapes = "".join(f'<bpmndi:BPMNShape id="{n}_di" bpmnElement="{n}"><dc:Bounds x="{100 + 160 * i}" y="80" '
                     'width="100" height="80" /></bpmndi:BPMNShape>' for i, n in enumerate(nodes))
    edges = "".join(f'<bpmndi:BPMNEdge id="{a}__{b}_di" bpmnElement="{a}__{b}"><di:waypoint x="{200 + 160 * i}" '
                    f'y="120" /><di:waypoint x="{260 + 160 * i}" y="120" /></bpmndi:BPMNEdge>'
                    for i, (a, b) in enumerate(pairwise(nodes)))
    return (f'<bpmndi:BPMNDiagram id="d_{pid}" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" '
            'xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:di="http://www.omg.org/spec/DD/20100524/DI">'
            f'<bpmndi:BPMNPlane id="p_{pid}" bpmnElement="{pid}">') + shapes + edges + \
        "</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>"


def deploy_two_decisions(runtime: Runtime) -> None:
    nodes = [start(form="op_apply.json"), user("review", "街道现场核查", "op_review.json"),
             user("decide", "窗口决定", "op_decide.json", document="t_decision"), end(outcome="approved")]
    body = render(nodes, flows(("start", "review"), ("review", "decide"), ("decide", "end")))
    lanes = {"申请人": ["start"], "街道": ["review"], "窗口人员": ["decide"]}
    xml = bpmn("t_opinions", body, lanes).replace(
        "</bpmn:definitions>", _diagram("t_opinions", ["start", "review", "decide", "end"]) + "</bpmn:definitions>")
    put(runtime, "t_opinions", {"t.bpmn": xml},
        {"op_apply.json": APPLY, "op_review.json": REVIEW, "op_decide.json": DECIDE},
        extra={"processes/t/documents.yaml": DOCUMENTS.encode()})


def decided(runtime: Runtime, review: dict[str, Any] | None = None,
            decision: dict[str, Any] | None = None) -> InstanceView:
    """A case of haiyun's through both decisions: the street's internal note, the window's public opinion."""
    case = begin(runtime, "t_opinions", {"title": "三楼办公"})
    do(runtime, "street", case.id, "review",
       review or {"review": {"result": "pass", "opinion": "现场与申报一致，楼道狭窄"}})
    return do(runtime, "window", case.id, "decide",
              decision or {"approved": True, "decision_opinion": "材料齐全，同意备案"})
