"""A tiny BPMN builder: a definitions document around a process body (`bpmn`), and the flow nodes and
sequence flows of that body (`Node`, `flows`, `render` and the shorthands `start`, `user`, `gateway`…)."""

from __future__ import annotations

from dataclasses import dataclass
from xml.sax.saxutils import escape

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs_{pid}" targetNamespace="http://tongban.local/test">
"""


def form_props(form: str) -> str:
    return ("<bpmn:extensionElements><spiffworkflow:properties>"
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />'
            "</spiffworkflow:properties></bpmn:extensionElements>")


def bpmn(pid: str, body: str, lanes: dict[str, list[str]] | None = None, extra: str = "") -> str:
    """A definitions document with one process `pid` whose flow nodes are `body`.

    `lanes` maps a lane name to the ids of the nodes in it.
    """
    lane_xml = ""
    if lanes:
        lane_xml = f'<bpmn:laneSet id="ls_{pid}">' + "".join(
            f'<bpmn:lane id="lane_{pid}_{i}" name="{name}">'
            + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes) + "</bpmn:lane>"
            for i, (name, nodes) in enumerate(lanes.items())) + "</bpmn:laneSet>"
    return (HEADER.format(pid=pid) + extra + f'<bpmn:process id="{pid}" isExecutable="true">'
            + lane_xml + body + "</bpmn:process></bpmn:definitions>")


QUOTE = {'"': "&quot;"}
Flow = tuple[str, str, str | None]  # source, target, condition (None: unconditional or default)


def flow_id(source: str, target: str) -> str:
    return f"{source}__{target}"


def flows(*pairs: tuple[str, str] | tuple[str, str, str]) -> list[Flow]:
    """Sequence flows as (source, target[, condition]); their ids are `source__target`."""
    return [(p[0], p[1], p[2] if len(p) == 3 else None) for p in pairs]


@dataclass(frozen=True)
class Node:
    """One flow node; `incoming`/`outgoing` are filled in from the flows when rendered."""

    tag: str
    id: str
    name: str = ""
    attrs: str = ""
    ext: str = ""  # <bpmn:extensionElements>, which must come first
    body: str = ""  # what follows the flow references: event definitions, loops, nested nodes

    def xml(self, edges: list[Flow]) -> str:
        refs = "".join(f"<bpmn:incoming>{flow_id(s, t)}</bpmn:incoming>" for s, t, _ in edges if t == self.id)
        refs += "".join(f"<bpmn:outgoing>{flow_id(s, t)}</bpmn:outgoing>" for s, t, _ in edges if s == self.id)
        name = f' name="{escape(self.name, QUOTE)}"' if self.name else ""
        attrs = f" {self.attrs}" if self.attrs else ""
        return f'<bpmn:{self.tag} id="{self.id}"{name}{attrs}>{self.ext}{refs}{self.body}</bpmn:{self.tag}>'


def render(nodes: list[Node], edges: list[Flow]) -> str:
    """Flow nodes and sequence flows, as the body of a process or subprocess."""
    xml = "".join(node.xml(edges) for node in nodes)
    for source, target, condition in edges:
        cond = f"<bpmn:conditionExpression>{escape(condition)}</bpmn:conditionExpression>" if condition else ""
        xml += f'<bpmn:sequenceFlow id="{flow_id(source, target)}" sourceRef="{source}" targetRef="{target}">' \
               f"{cond}</bpmn:sequenceFlow>"
    return xml


def props(**values: str) -> str:
    """spiffworkflow:properties, e.g. the form a user task shows and its candidate organisation."""
    items = "".join(f'<spiffworkflow:property name="{k}" value="{escape(v, QUOTE)}" />' for k, v in values.items())
    return f"<bpmn:extensionElements><spiffworkflow:properties>{items}</spiffworkflow:properties>" \
           "</bpmn:extensionElements>"


#: an end event's extension saying what the case came to (engine/definitions/outcomes.py warns without one)
DECIDED = props(outcome="approved")


def start(node_id: str = "start", form: str | None = None) -> Node:
    return Node("startEvent", node_id, ext=props(formJsonSchemaFilename=form) if form else "")


def end(node_id: str = "end", body: str = "", outcome: str | None = None) -> Node:
    return Node("endEvent", node_id, ext=props(outcome=outcome) if outcome else "", body=body)


def user(node_id: str, name: str, form: str, body: str = "", **extra: str) -> Node:
    return Node("userTask", node_id, name, ext=props(formJsonSchemaFilename=form, **extra), body=body)


def script(node_id: str, code: str) -> Node:
    return Node("scriptTask", node_id, body=f"<bpmn:script>{escape(code)}</bpmn:script>")


def gateway(kind: str, node_id: str, default: str | None = None) -> Node:
    """`kind` is parallel, exclusive or inclusive; `default` names the target of the default flow."""
    return Node(f"{kind}Gateway", node_id, attrs=f'default="{flow_id(node_id, default)}"' if default else "")


def timer(duration: str) -> str:
    return f'<bpmn:timerEventDefinition><bpmn:timeDuration>"{duration}"</bpmn:timeDuration></bpmn:timerEventDefinition>'


# a decision table (审查级别 by floor area and use) for business rule tasks
LEVEL_DMN = """<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="defs_level" name="审查级别"
  namespace="http://tongban.local/dmn">
  <decision id="review_level" name="审查级别">
    <decisionTable id="level_table" hitPolicy="FIRST">
      <input id="in_area" label="建筑面积">
        <inputExpression id="in_area_expr" typeRef="number"><text>area</text></inputExpression>
      </input>
      <input id="in_use" label="用途">
        <inputExpression id="in_use_expr" typeRef="string"><text>usage</text></inputExpression>
      </input>
      <output id="out_level" label="审查级别" name="level" typeRef="string" />
      <rule id="r_food">
        <inputEntry id="r_food_area"><text>-</text></inputEntry>
        <inputEntry id="r_food_use"><text>"餐饮"</text></inputEntry>
        <outputEntry id="r_food_out"><text>"full"</text></outputEntry>
      </rule>
      <rule id="r_large">
        <inputEntry id="r_large_area"><text>&gt; 500</text></inputEntry>
        <inputEntry id="r_large_use"><text>-</text></inputEntry>
        <outputEntry id="r_large_out"><text>"full"</text></outputEntry>
      </rule>
      <rule id="r_small">
        <inputEntry id="r_small_area"><text>&lt;= 500</text></inputEntry>
        <inputEntry id="r_small_use"><text>-</text></inputEntry>
        <outputEntry id="r_small_out"><text>"simple"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
"""
