"""Graph checks over each process's sequence flows: every node can be reached, and every path goes on to an end.

A node no flow reaches never runs (a deleted 受理 flow leaves 受理 and what follows it dead); a node with no way
out stops the case there without an outcome. Both are errors that BPMN's schema and SpiffWorkflow's parser
accept, so tongban's validation finds them, naming the element.
"""

from __future__ import annotations

from lxml import etree

from engine.definitions.compiler import BPMN_NS, ParsedWorkspace

#: BPMN flow nodes: what sequence flows connect (containers such as subprocesses included).
_FLOW_NODES = frozenset({
    "startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
    "task", "userTask", "manualTask", "serviceTask", "scriptTask", "businessRuleTask", "sendTask", "receiveTask",
    "callActivity", "subProcess", "transaction", "adHocSubProcess",
    "exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"})
#: containers whose children run from their own start events (an ad-hoc subprocess's run in any order: not checked)
_CONTAINERS = frozenset({"subProcess", "transaction"})


def _kind(element: etree._Element) -> str:
    return etree.QName(element).localname if isinstance(element.tag, str) else ""


def _nodes(scope: etree._Element) -> dict[str, etree._Element]:
    return {e.get("id"): e for e in scope if _kind(e) in _FLOW_NODES and e.get("id")}


def _is_event_subprocess(node: etree._Element) -> bool:
    return _kind(node) == "subProcess" and node.get("triggeredByEvent") == "true"


def _is_link(node: etree._Element) -> bool:
    """A link throw continues at its catch by name: the pair is checked as an end and a start of its own."""
    return node.find(f"{{{BPMN_NS}}}linkEventDefinition") is not None


def _is_compensation(node: etree._Element) -> bool:
    """Compensation handlers are joined by associations, never by sequence flows."""
    return node.get("isForCompensation") == "true" or (
        _kind(node) == "boundaryEvent" and node.find(f"{{{BPMN_NS}}}compensateEventDefinition") is not None)


def _successors(scope: etree._Element, nodes: dict[str, etree._Element]) -> dict[str, set[str]]:
    """node id → what it leads to: its sequence flows' targets, and the boundary events attached to it."""
    succ: dict[str, set[str]] = {n: set() for n in nodes}
    for flow in scope.iterfind(f"{{{BPMN_NS}}}sequenceFlow"):
        if flow.get("sourceRef") in succ and flow.get("targetRef") in nodes:
            succ[flow.get("sourceRef")].add(flow.get("targetRef"))
    for node_id, node in nodes.items():
        if _kind(node) == "boundaryEvent" and node.get("attachedToRef") in succ:
            succ[node.get("attachedToRef")].add(node_id)
    return succ


def _reach(starts: set[str], succ: dict[str, set[str]]) -> set[str]:
    seen: set[str] = set()
    todo = list(starts)
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(succ.get(node, ()))
    return seen


def _check_scope(ws: ParsedWorkspace, path: str, scope: etree._Element) -> None:
    """One process or subprocess: its own start events begin it; event subprocesses start on their event."""
    nodes = _nodes(scope)
    succ = _successors(scope, nodes)
    starts = {n for n, e in nodes.items() if _kind(e) == "startEvent" or _is_event_subprocess(e) or _is_compensation(e)
              or (_kind(e) == "intermediateCatchEvent" and _is_link(e))}
    reached = _reach(starts, succ)
    pred: dict[str, set[str]] = {n: set() for n in nodes}
    for source, targets in succ.items():
        for target in targets:
            pred[target].add(source)
    for node_id in sorted(set(nodes) - reached):
        detail = ("只有从不可达节点来的连线 (only unreachable nodes lead here)" if pred[node_id] else
                  "没有连线到达它 (no sequence flow leads here)")
        ws.problem(path, node_id, f"该节点不可达，永远不会执行：{detail} (unreachable from every start event, so it "
                   "never runs)")
    ends = {n for n, e in nodes.items() if _kind(e) == "endEvent" or _is_event_subprocess(e) or _is_compensation(e)
            or (_kind(e) == "intermediateThrowEvent" and _is_link(e))}
    finishing = _reach(ends, pred)
    for node_id in sorted(reached - finishing):
        node = nodes[node_id]
        detail = ("没有出口连线 (it has no outgoing sequence flow)" if not succ[node_id] else
                  "之后的路径都到不了结束事件 (no path from it reaches an end event)")
        ws.problem(path, node_id, f"死路：办件到此无法结束，{detail} (dead end: a case here cannot finish)")
    for node in nodes.values():
        if _kind(node) in _CONTAINERS:
            _check_scope(ws, path, node)


def nodes_are_reachable_and_finish(ws: ParsedWorkspace) -> None:
    """Every flow node is reached from a start event, and from every reached node some path leads to an end."""
    for path, process in ws.process_elements():
        _check_scope(ws, path, process)
