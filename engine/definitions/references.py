"""Ids and references of a BPMN document: every reference resolves to an element of the kind the spec allows.

The XSD types most references as plain `IDREF`s or QNames, and SpiffWorkflow follows only the few it needs
(a sequence flow's source and target): a message flow into a text annotation, a default flow that leaves
another gateway or an `<outgoing>` naming a flow that goes elsewhere are accepted by both and silently
mean nothing.  This module refuses them with the referring element's id and line.  The table below is
tongban's own reading of the BPMN 2.0.2 class diagrams (which class an association points at).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from lxml import etree

from engine.definitions.unsupported import ACTIVITIES, BPMN, EVENTS, Finding, _say

GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")
FLOW_NODES = (*ACTIVITIES, *EVENTS, *GATEWAYS)
EVENT_DEFINITIONS = tuple(f"{kind}EventDefinition" for kind in (
    "message", "timer", "error", "escalation", "signal", "conditional", "link", "compensate", "cancel", "terminate"))
ITEM_AWARE = ("dataObject", "dataObjectReference", "dataInput", "dataOutput", "property", "dataStoreReference")
#: elements that must carry an id: everything another element can point at, and every flow element
NEEDS_ID = frozenset((*FLOW_NODES, "sequenceFlow", "process", "collaboration", "participant", "messageFlow",
                      "message", "error", "escalation", "signal", "itemDefinition", "dataObject", "dataInput",
                      "dataOutput", "dataObjectReference", "lane"))
#: (referring element, attribute or child element) → the kinds of element it may point at
REFERENCES: dict[tuple[str, str], tuple[str, ...]] = {
    ("sequenceFlow", "@sourceRef"): FLOW_NODES,
    ("sequenceFlow", "@targetRef"): FLOW_NODES,
    ("messageFlow", "@sourceRef"): ("participant", *ACTIVITIES, *EVENTS),
    ("messageFlow", "@targetRef"): ("participant", *ACTIVITIES, *EVENTS),
    ("messageFlow", "@messageRef"): ("message",),
    ("messageEventDefinition", "@messageRef"): ("message",),
    ("sendTask", "@messageRef"): ("message",),
    ("receiveTask", "@messageRef"): ("message",),
    ("errorEventDefinition", "@errorRef"): ("error",),
    ("escalationEventDefinition", "@escalationRef"): ("escalation",),
    ("signalEventDefinition", "@signalRef"): ("signal",),
    ("boundaryEvent", "@attachedToRef"): ACTIVITIES,
    ("participant", "@processRef"): ("process",),
    ("callActivity", "@calledElement"): ("process", "globalTask", "globalUserTask", "globalScriptTask",
                                          "globalManualTask", "globalBusinessRuleTask"),
    ("dataObjectReference", "@dataObjectRef"): ("dataObject",),
    ("dataStoreReference", "@dataStoreRef"): ("dataStore",),
    ("compensateEventDefinition", "@activityRef"): ACTIVITIES,
    ("message", "@itemRef"): ("itemDefinition",),
    ("lane", "flowNodeRef"): FLOW_NODES,
    ("inputSet", "dataInputRefs"): ("dataInput",),
    ("inputSet", "optionalInputRefs"): ("dataInput",),
    ("inputSet", "whileExecutingInputRefs"): ("dataInput",),
    ("outputSet", "dataOutputRefs"): ("dataOutput",),
    ("outputSet", "optionalOutputRefs"): ("dataOutput",),
    ("outputSet", "whileExecutingOutputRefs"): ("dataOutput",),
    ("dataInputAssociation", "sourceRef"): ITEM_AWARE,
    ("dataInputAssociation", "targetRef"): ("dataInput", "property"),
    ("dataOutputAssociation", "sourceRef"): ("dataOutput", "property"),
    ("dataOutputAssociation", "targetRef"): ITEM_AWARE,
    ("multiInstanceLoopCharacteristics", "loopDataInputRef"): ITEM_AWARE,
    ("multiInstanceLoopCharacteristics", "loopDataOutputRef"): ITEM_AWARE,
    ("operation", "inMessageRef"): ("message",),
    ("operation", "outMessageRef"): ("message",),
    ("operation", "errorRef"): ("error",),
    ("participant", "interfaceRef"): ("interface",),
    ("partnerEntity", "participantRef"): ("participant",),
    ("partnerRole", "participantRef"): ("participant",),
    ("inputSet", "outputSetRefs"): ("outputSet",),
    ("outputSet", "inputSetRefs"): ("inputSet",),
    ("messageEventDefinition", "operationRef"): ("operation",),
    ("sendTask", "@operationRef"): ("operation",),
    ("receiveTask", "@operationRef"): ("operation",),
    ("serviceTask", "@operationRef"): ("operation",),
    ("linkEventDefinition", "source"): ("linkEventDefinition",),
    ("linkEventDefinition", "target"): ("linkEventDefinition",),
}
for _event in EVENTS:
    REFERENCES[(_event, "eventDefinitionRef")] = EVENT_DEFINITIONS
for _owner in ("dataObject", "dataInput", "dataOutput", "property", "dataStore", "error", "escalation", "signal"):
    REFERENCES[(_owner, "@itemSubjectRef" if _owner not in ("error", "escalation", "signal") else "@structureRef")] = (
        "itemDefinition",)
MIME = re.compile(r"^[\w.+-]+/[\w.+-]+$")


def local(element: etree._Element) -> str:
    return etree.QName(element).localname


def bpmn_elements(root: etree._Element) -> Iterator[etree._Element]:
    """Every element of the BPMN model namespace (not diagram interchange, not extensions)."""
    return (e for e in root.iter(etree.Element) if e.tag.startswith(BPMN))


def index(root: etree._Element) -> dict[str, etree._Element]:
    """id → BPMN element (the first one, if an id repeats: the XSD reports the repeat)."""
    found: dict[str, etree._Element] = {}
    for element in bpmn_elements(root):
        if element.get("id"):
            found.setdefault(element.get("id"), element)
    return found


def _target(value: str) -> str:
    """A reference's id: QName references may carry a namespace prefix (`tns:Message_1`)."""
    return value.strip().rsplit(":", 1)[-1]


def executable(element: etree._Element) -> bool:
    """Whether the element sits in a process marked isExecutable="true"."""
    while element is not None and local(element) != "process":
        element = element.getparent()
    return element is not None and element.get("isExecutable") == "true"


def missing_ids(root: etree._Element) -> Iterator[Finding]:
    for element in bpmn_elements(root):
        if local(element) in NEEDS_ID and not element.get("id"):
            yield element, _say(f"{local(element)} 元素缺少 id：没有 id 就无法引用、也无法在办件中记录它",
                                f"the {local(element)} element has no id: nothing can refer to it and no case "
                                "could record it")


def text_formats(root: etree._Element) -> Iterator[Finding]:
    for element in bpmn_elements(root):
        value = element.get("textFormat")
        if value is not None and not MIME.match(value):
            owner = element if element.get("id") else element.getparent()
            yield owner, _say(f"textFormat “{value}” 不是 MIME 类型（应如 text/plain）",
                              f"textFormat {value!r} is not a MIME type such as text/plain")


def references_resolve(root: etree._Element) -> Iterator[Finding]:
    """Each reference in the table names an existing element of an allowed kind."""
    ids = index(root)
    for element in bpmn_elements(root):
        name = local(element)
        for (owner, where), allowed in REFERENCES.items():
            if owner != name:
                continue
            if where.startswith("@"):
                values = [element.get(where[1:])] if element.get(where[1:]) is not None else []
            else:
                values = [(child.text or "") for child in element.iterfind(BPMN + where)]
            for value in values:
                target = ids.get(_target(value))
                if target is None:
                    if where in ("@calledElement", "@structureRef", "@itemSubjectRef", "@itemRef"):
                        continue  # another file may hold the process (the lint checks); a type may be external
                    if where in ("loopDataInputRef", "loopDataOutputRef"):
                        continue  # SpiffWorkflow reads an unresolved one as the name of a task data variable
                    yield owner_of(element), _say(
                        f"{name} 的 {where.lstrip('@')} 引用了不存在的元素 “{value.strip()}”",
                        f"{name} {where.lstrip('@')} refers to {value.strip()!r}, which does not exist")
                elif where == "eventDefinitionRef" and local(target.getparent()) != "definitions":
                    yield owner_of(element), _say(
                        f"eventDefinitionRef 只能引用 definitions 下的全局事件定义，“{value.strip()}” 属于另一个事件",
                        f"eventDefinitionRef may only refer to a global event definition under <definitions>; "
                        f"{value.strip()!r} belongs to another event")
                elif local(target) not in allowed:
                    zh, en = _kinds(allowed)
                    yield owner_of(element), _say(
                        f"{name} 的 {where.lstrip('@')} 引用了 {local(target)} “{value.strip()}”，只能引用{zh}",
                        f"{name} {where.lstrip('@')} refers to the {local(target)} {value.strip()!r}; it must "
                        f"refer to {en}")


#: what a reference may point at, in words, for the kinds that are long lists
KIND_WORDS: dict[tuple[str, ...], tuple[str, str]] = {
    FLOW_NODES: ("活动、事件或网关", "an activity, event or gateway"),
    ACTIVITIES: ("活动", "an activity"),
    ("participant", *ACTIVITIES, *EVENTS): ("参与者、活动或事件", "a participant, activity or event"),
    ITEM_AWARE: ("数据对象、数据输入/输出或属性", "a data object, data input or output, or property"),
    EVENT_DEFINITIONS: ("事件定义", "an event definition"),
}


def _kinds(allowed: tuple[str, ...]) -> tuple[str, str]:
    return KIND_WORDS.get(allowed) or (" " + "/".join(allowed), " or ".join(f"a {kind}" for kind in allowed))


def owner_of(element: etree._Element) -> etree._Element:
    """The nearest element with an id: the one a designer can find in the modeler."""
    while element is not None and not element.get("id"):
        element = element.getparent()
    return element


def incoming_and_outgoing_match(root: etree._Element) -> Iterator[Finding]:
    """A node's `<incoming>`/`<outgoing>` lists must list exactly the flows that end/start at it; a document that
    writes these lists (as every modeler does) must write them for every node."""
    flows = [f for f in root.iter(BPMN + "sequenceFlow") if f.get("id")]
    lists = root.find(f".//{BPMN}incoming") is not None or root.find(f".//{BPMN}outgoing") is not None
    for node in (e for e in bpmn_elements(root) if local(e) in FLOW_NODES and e.get("id")):
        for child, end in (("incoming", "targetRef"), ("outgoing", "sourceRef")):
            listed = [(c.text or "").strip() for c in node.iterfind(BPMN + child)]
            if not listed and not lists:
                continue
            actual = {f.get("id") for f in flows if f.get(end) == node.get("id")}
            wrong = [ref for ref in listed if ref not in actual]
            twice = sorted({ref for ref in listed if listed.count(ref) > 1})
            missing = sorted(actual - set(listed))
            if wrong or twice or missing:
                detail = "; ".join(part for part in (
                    f"{wrong} 不是{'进入' if child == 'incoming' else '离开'}它的顺序流" if wrong else "",
                    f"{twice} 重复列出" if twice else "", f"漏列 {missing}" if missing else "") if part)
                yield node, _say(
                    f"{child} 列表与顺序流不符：{detail}",
                    f"its {child} list does not match the sequence flows: " + "; ".join(part for part in (
                        f"{wrong} are not flows {'into' if child == 'incoming' else 'out of'} it" if wrong else "",
                        f"{twice} listed twice" if twice else "", f"{missing} left out" if missing else "")
                        if part))


def default_flows_leave_their_owner(root: etree._Element) -> Iterator[Finding]:
    ids = index(root)
    for element in bpmn_elements(root):
        default = element.get("default")
        if default and local(element) in FLOW_NODES:
            flow = ids.get(default)
            if flow is None or local(flow) != "sequenceFlow" or flow.get("sourceRef") != element.get("id"):
                yield element, _say(f"默认流 “{default}” 不是从该节点引出的顺序流",
                                    f"the default flow {default!r} is not a sequence flow out of this element")


RULES = (missing_ids, text_formats, references_resolve, incoming_and_outgoing_match, default_flows_leave_their_owner)
