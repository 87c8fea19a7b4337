"""What tongban hands SpiffWorkflow: the designer's document with BPMN shorthands Spiff lacks written out.

Three constructs mean something BPMN defines precisely but Spiff 3.2 does not read:

* an `eventDefinitionRef` to a global event definition — the event carries that definition (§10.5.1);
* a link throw and its catch of the same name — a sequence flow between them, drawn in two pieces (§10.5.4);
* several outgoing flows from an activity or event, conditional or not — an implicit split: every flow
  whose condition holds is taken, the default flow when none does (§10.3.1, "uncontrolled flow").

Each is rewritten here into the equivalent Spiff runs (an inline definition; a flow; a gateway right after
the element), on a copy: validation, line numbers and the diagram keep the designer's own document.  The
gateways added are named `<element>__split`, so a case's history still names the element that split.
"""

from __future__ import annotations

import copy
from collections import defaultdict

from lxml import etree

from engine.definitions.unsupported import ACTIVITIES, BPMN

SPLIT_SUFFIX = "__split"
#: flow nodes whose several outgoing flows Spiff refuses ("Multiple outgoing flows are not supported")
SPLITTING = (*ACTIVITIES, "startEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent")


def for_spiff(root: etree._Element) -> etree._Element:
    """A copy of the document with event definition references, links and implicit splits written out."""
    root = copy.deepcopy(root)
    _inline_definition_refs(root)
    _join_links(root)
    _split_uncontrolled_flows(root)
    return root


def _inline_definition_refs(root: etree._Element) -> None:
    globals_ = {d.get("id"): d for d in root if isinstance(d.tag, str) and d.tag.endswith("EventDefinition")}
    for ref in list(root.iter(BPMN + "eventDefinitionRef")):
        definition = globals_.get((ref.text or "").strip())
        event = ref.getparent()
        if definition is not None:
            inline = copy.deepcopy(definition)
            inline.set("id", f"{event.get('id')}__{definition.get('id')}")
            event.replace(ref, inline)


def _join_links(root: etree._Element) -> None:
    """Each link throw flows to the catch of its name on the same level; both become none events (pass-through)."""
    for level in root.iter(BPMN + "process", BPMN + "subProcess", BPMN + "transaction"):
        catches: dict[str | None, etree._Element] = {}
        throws: list[tuple[etree._Element, str | None]] = []
        for event in level.iterchildren(BPMN + "intermediateCatchEvent", BPMN + "intermediateThrowEvent"):
            link = event.find(BPMN + "linkEventDefinition")
            if link is None:
                continue
            event.remove(link)
            if event.tag == BPMN + "intermediateCatchEvent":
                event.tag = BPMN + "intermediateThrowEvent"  # a none throw passes the token on, as the catch would
                catches[link.get("name")] = event
            else:
                throws.append((event, link.get("name")))
        for event, name in throws:
            target = catches.get(name)
            if target is not None:  # the lint refuses an unpaired link before this runs
                flow = etree.SubElement(level, BPMN + "sequenceFlow", id=f"{event.get('id')}__link",
                                        sourceRef=event.get("id"), targetRef=target.get("id"))
                etree.SubElement(event, BPMN + "outgoing").text = flow.get("id")
                etree.SubElement(target, BPMN + "incoming").text = flow.get("id")


def _split_uncontrolled_flows(root: etree._Element) -> None:
    for level in root.iter(BPMN + "process", BPMN + "subProcess", BPMN + "transaction"):
        outgoing: dict[str, list[etree._Element]] = defaultdict(list)
        for flow in level.iterchildren(BPMN + "sequenceFlow"):
            outgoing[flow.get("sourceRef")].append(flow)
        for node in list(level.iterchildren(*(BPMN + kind for kind in SPLITTING))):
            flows = outgoing.get(node.get("id"), [])
            if len(flows) > 1:
                _insert_split(level, node, flows)


def _insert_split(level: etree._Element, node: etree._Element, flows: list[etree._Element]) -> None:
    """node → new gateway(s) → the node's flows.  Unconditional flows are always taken (a parallel gateway);
    the conditional ones, with the node's default flow, go through an inclusive gateway — the default is
    taken when no *condition* holds, whatever the unconditional flows do (§13.2.1)."""
    default = node.attrib.pop("default", None)
    guarded = [f for f in flows if f.find(BPMN + "conditionExpression") is not None or f.get("id") == default]
    always = [f for f in flows if f not in guarded]
    split_id = node.get("id") + SPLIT_SUFFIX
    for child in node.findall(BPMN + "outgoing"):
        node.remove(child)
    source = node
    if always:
        source = _gateway(level, node, "parallelGateway", split_id)
        for flow in always:
            _move(flow, source)
    if guarded:
        inclusive = _gateway(level, source, "inclusiveGateway", split_id + ("_conditions" if always else ""))
        for flow in guarded:
            _move(flow, inclusive)
        if default is None and always:  # no condition holds: only the unconditional flows go on (Spiff would fail)
            none = etree.SubElement(level, BPMN + "endEvent", id=split_id + "_none")
            default = _flow(level, inclusive, none).get("id")
        if default is not None:
            inclusive.set("default", default)


def _gateway(level: etree._Element, source: etree._Element | None, kind: str, gid: str) -> etree._Element:
    """A new gateway on `level`, reached from `source` by a new flow (when given)."""
    gateway = etree.SubElement(level, BPMN + kind, id=gid)
    if source is not None:
        _flow(level, source, gateway)
    return gateway


def _flow(level: etree._Element, source: etree._Element, target: etree._Element) -> etree._Element:
    flow = etree.SubElement(level, BPMN + "sequenceFlow", id=f"{target.get('id')}_in", sourceRef=source.get("id"),
                            targetRef=target.get("id"))
    etree.SubElement(source, BPMN + "outgoing").text = flow.get("id")
    etree.SubElement(target, BPMN + "incoming").text = flow.get("id")
    return flow


def _move(flow: etree._Element, source: etree._Element) -> None:
    """The flow now leaves `source` (a new gateway)."""
    flow.set("sourceRef", source.get("id"))
    etree.SubElement(source, BPMN + "outgoing").text = flow.get("id")
