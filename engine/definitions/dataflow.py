"""BPMN data: inputs, outputs, their sets and associations, and the item definitions that type them.

SpiffWorkflow moves data by name and ignores item definitions and I/O sets, so a model whose data
declarations contradict each other runs as if they were not there — a reader of the diagram is told one
thing, the engine does another.  These rules refuse the contradictions (BPMN 2.0.2 §10.4, §10.3.1).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from lxml import etree

from engine.definitions.references import bpmn_elements, executable, index, local, owner_of
from engine.definitions.unsupported import BPMN, Finding, _say

THROWS = ("intermediateThrowEvent", "endEvent")
CATCHES = ("intermediateCatchEvent", "startEvent", "boundaryEvent")


def _text(element: etree._Element) -> str:
    return (element.text or "").strip()


class Items:
    """The item definition behind each typed element (a data object reference has its object's)."""

    def __init__(self, root: etree._Element) -> None:
        self.ids = index(root)

    def of(self, element: etree._Element | None) -> etree._Element | None:
        if element is None:
            return None
        if local(element) == "dataObjectReference":
            element = self.ids.get(element.get("dataObjectRef", ""))
            if element is None:
                return None
        ref = element.get("itemRef") if local(element) == "message" else (
            element.get("structureRef") if local(element) in ("signal", "error", "escalation")
            else element.get("itemSubjectRef"))
        return self.ids.get((ref or "").rsplit(":", 1)[-1])

    @staticmethod
    def same(a: etree._Element | None, b: etree._Element | None) -> bool:
        """Equal types: the same definition, or two with the same structure and collection-ness."""
        if a is None or b is None or a is b:
            return True  # untyped data takes anything
        return (bool(a.get("structureRef")) and a.get("structureRef") == b.get("structureRef")
                and a.get("isCollection", "false") == b.get("isCollection", "false"))


def io_sets(root: etree._Element) -> Iterator[Finding]:
    """Every data input and output belongs to a set, a set's optional refs are its own, paired sets point back."""
    ids = index(root)
    for spec in root.iter(BPMN + "ioSpecification"):
        owner = owner_of(spec)
        for kind, sets, refs, other, back in (("dataInput", "inputSet", "dataInputRefs", "outputSetRefs",
                                               "inputSetRefs"),
                                              ("dataOutput", "outputSet", "dataOutputRefs", "inputSetRefs",
                                               "outputSetRefs")):
            listed = {_text(r) for s in spec.iterfind(BPMN + sets) for r in s.iterfind(BPMN + refs)}
            for data in spec.iterfind(BPMN + kind):
                if data.get("id") not in listed:
                    yield data, _say(f"{kind} 未被任何 {sets} 引用", f"the {kind} is in no {sets}")
            for group in spec.iterfind(BPMN + sets):
                own = {_text(r) for r in group.iterfind(BPMN + refs)}
                for extra in ("optional", "whileExecuting"):
                    tag = f"{extra}{'Input' if kind == 'dataInput' else 'Output'}Refs"
                    for ref in group.iterfind(BPMN + tag):
                        if _text(ref) not in own:
                            yield owner, _say(f"{tag} “{_text(ref)}” 须同时列在 {refs} 中",
                                              f"{tag} {_text(ref)!r} must also be listed in {refs}")
                for ref in group.iterfind(BPMN + other):
                    partner = ids.get(_text(ref))
                    if partner is not None and group.get("id") not in {_text(r) for r in
                                                                        partner.iterfind(BPMN + back)}:
                        yield owner, _say(f"{sets} “{group.get('id')}” 引用的 “{_text(ref)}” 没有反向引用它",
                                          f"{sets} {group.get('id')!r} names {_text(ref)!r} in {other}, which does "
                                          f"not name it back in {back}")


def io_counts(root: etree._Element) -> Iterator[Finding]:
    """A task bound to one message or operation exchanges exactly that one message's data."""
    rules = (("serviceTask", "operationRef", "inputSet", 1, 1), ("serviceTask", "operationRef", "outputSet", 0, 1),
             ("sendTask", "messageRef", "inputSet", 0, 1), ("sendTask", "messageRef", "dataInput", 0, 1),
             ("receiveTask", "messageRef", "outputSet", 0, 1), ("receiveTask", "messageRef", "dataOutput", 0, 1))
    for kind, bound, child, low, high in rules:
        for task in root.iter(BPMN + kind):
            spec = task.find(BPMN + "ioSpecification")
            if task.get(bound) and spec is not None:
                count = len(spec.findall(BPMN + child))
                if not low <= count <= high:
                    yield task, _say(f"引用 {bound} 的 {kind} 须有 {low}–{high} 个 {child}，此处有 {count} 个",
                                     f"a {kind} with a {bound} needs {low} to {high} {child} elements, not {count}")


def associations_belong(root: etree._Element) -> Iterator[Finding]:
    """An activity's input association feeds its own data input; its output association reads its own output;
    without a transformation an association reads one source of the target's type."""
    ids, items = index(root), Items(root)
    for association in root.iter(BPMN + "dataInputAssociation", BPMN + "dataOutputAssociation"):
        owner = owner_of(association.getparent())
        inbound = local(association) == "dataInputAssociation"
        own_end = association.find(BPMN + ("targetRef" if inbound else "sourceRef"))
        mine = {e.get("id") for e in owner.iter(BPMN + "dataInput", BPMN + "dataOutput", BPMN + "property")}
        if own_end is not None and _text(own_end) in ids and _text(own_end) not in mine:
            yield owner, _say(f"数据关联的 {local(own_end)} “{_text(own_end)}” 不属于该元素",
                              f"the data association's {local(own_end)} {_text(own_end)!r} is not this element's own "
                              "data input or output")
        sources = association.findall(BPMN + "sourceRef")
        if association.find(BPMN + "transformation") is None:
            if len(sources) > 1:
                yield owner, _say("无 transformation 的数据关联只能有一个 sourceRef",
                                  "a data association without a transformation may have only one sourceRef")
            target = association.find(BPMN + "targetRef")
            if sources and target is not None and not items.same(items.of(ids.get(_text(sources[0]))),
                                                                 items.of(ids.get(_text(target)))):
                yield owner, _say("数据关联两端的数据类型（itemDefinition）不同，且没有 transformation",
                                  "the data association's source and target have different item definitions and "
                                  "no transformation")


def collections_match(root: etree._Element) -> Iterator[Finding]:
    """isCollection on typed data says the same as its item definition."""
    items = Items(root)
    for element in bpmn_elements(root):
        if local(element) in ("dataInput", "dataOutput", "dataObject") and element.get("itemSubjectRef"):
            item = items.of(element)
            if item is not None and element.get("isCollection", "false") != item.get("isCollection", "false"):
                yield element, _say("isCollection 与其 itemDefinition 不一致",
                                    "isCollection differs from its item definition's")


def message_types_match(root: etree._Element) -> Iterator[Finding]:
    """The data a task or event sends or receives has the type of the message (or signal…) it exchanges."""
    ids, items = index(root), Items(root)
    for task in root.iter(BPMN + "serviceTask", BPMN + "sendTask", BPMN + "receiveTask"):
        spec = task.find(BPMN + "ioSpecification")
        if spec is None:
            continue
        operation = ids.get(task.get("operationRef", ""))
        pairs = []
        if local(task) == "serviceTask" and operation is not None:
            pairs = [("dataInput", ids.get(_text(operation.find(BPMN + "inMessageRef"))
                                           if operation.find(BPMN + "inMessageRef") is not None else "")),
                     ("dataOutput", ids.get(_text(operation.find(BPMN + "outMessageRef"))
                                            if operation.find(BPMN + "outMessageRef") is not None else ""))]
        elif task.get("messageRef"):
            pairs = [("dataInput" if local(task) == "sendTask" else "dataOutput", ids.get(task.get("messageRef")))]
        for kind, message in pairs:
            for data in spec.iterfind(BPMN + kind):
                if message is not None and not items.same(items.of(data), items.of(message)):
                    yield task, _say(f"{kind} “{data.get('id')}” 的类型与消息 “{message.get('id')}” 的不同",
                                     f"the {kind} {data.get('id')!r} has another item definition than the message "
                                     f"{message.get('id')!r}")
    for event in root.iter(*(BPMN + kind for kind in (*THROWS, *CATCHES))):
        kind = "dataInput" if local(event) in THROWS else "dataOutput"
        data = event.findall(BPMN + kind)
        definitions = [d for d in event if isinstance(d.tag, str) and d.tag.endswith("EventDefinition")]
        if data and len(data) != len(definitions):
            yield event, _say(f"事件的每个事件定义须各有一个 {kind}（{len(definitions)} 个定义，"
                              f"{len(data)} 个 {kind}）",
                              f"an event with {kind}s needs one per event definition ({len(definitions)} "
                              f"definitions, {len(data)} {kind}s)")
        for definition, item in zip(definitions, data, strict=False):
            ref = next((definition.get(a) for a in ("messageRef", "signalRef", "errorRef", "escalationRef")
                        if definition.get(a)), None)
            if ref and not items.same(items.of(item), items.of(ids.get(ref))):
                yield event, _say(f"{kind} “{item.get('id')}” 的类型与事件定义引用的 “{ref}” 不同",
                                  f"the {kind} {item.get('id')!r} has another item definition than {ref!r}")


def multi_instances(root: etree._Element) -> Iterator[Finding]:
    """An executable multi-instance activity says how many instances; its items have its collection's type;
    its completion condition is a condition."""
    ids, items = index(root), Items(root)
    for loop in root.iter(BPMN + "multiInstanceLoopCharacteristics"):
        activity = loop.getparent()
        extended = any(isinstance(c.tag, str) and not c.tag.startswith(BPMN) for c in loop.iter())
        if (executable(loop) and loop.find(BPMN + "loopCardinality") is None
                and loop.find(BPMN + "loopDataInputRef") is None and not extended):
            yield activity, _say("可执行的多实例活动须设 loopCardinality 或 loopDataInputRef",
                                 "an executable multi-instance activity needs a loopCardinality or a "
                                 "loopDataInputRef")
        for collection, item in (("loopDataInputRef", "inputDataItem"), ("loopDataOutputRef", "outputDataItem")):
            ref, single = loop.find(BPMN + collection), loop.find(BPMN + item)
            if ref is None or single is None or single.get("itemSubjectRef") is None:
                continue
            whole = items.of(ids.get(_text(ref)))
            if whole is not None and (whole.get("isCollection", "false") != "true" or not items.same(
                    _scalar(whole), items.of(single))):
                yield activity, _say(f"{item} 的类型须是 {collection} 所指集合的元素类型",
                                     f"the {item} must have the element type of the {collection} collection")
        condition = loop.find(BPMN + "completionCondition")
        if condition is not None and _not_boolean(_text(condition)):
            yield activity, _say(f"完成条件 “{_text(condition)}” 不是条件表达式",
                                 f"the completion condition {_text(condition)!r} is not a boolean expression")


def _scalar(item: etree._Element) -> etree._Element:
    """The element type of a collection item definition: the same structure, not a collection."""
    return etree.Element(BPMN + "itemDefinition", structureRef=item.get("structureRef", ""), isCollection="false")


def _not_boolean(text: str) -> bool:
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return False  # an expression: evaluated at run time
    return not isinstance(value, bool)


def reference_names(root: etree._Element) -> Iterator[Finding]:
    """A data object reference is named after its object, with its state in brackets: `申请材料 [已审核]`."""
    ids = index(root)
    for reference in root.iter(BPMN + "dataObjectReference"):
        target, name = ids.get(reference.get("dataObjectRef", "")), reference.get("name")
        if target is None or name is None or target.get("name") is None:
            continue
        state = reference.find(BPMN + "dataState")
        wanted = target.get("name") + (f" [{state.get('name')}]" if state is not None and state.get("name") else "")
        if name != wanted:
            yield reference, _say(f"数据对象引用应命名为 “{wanted}”（对象名 [状态]）",
                                  f"the data object reference should be named {wanted!r} (object name [state])")


RULES = (io_sets, io_counts, associations_belong, collections_match, message_types_match, multi_instances,
         reference_names)
