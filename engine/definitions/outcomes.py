"""Lint: every way a startable process can end says what the case came to (its `outcome`).

A refusal, a 不予受理 and an approval all end a case `completed`; only the outcome tells them apart in lists,
filters, documents and the dashboard (engine/base/vocabulary.py Outcome). An element sets it with its `outcome`
property when it completes (engine/bpmn/stepping.py `outcome_of`). This rule walks back from each end event of a
startable process's top level: if the start event can be reached without passing an element that sets an
outcome, a case can end without one. The walk stops at non-interrupting boundary events (their branch does not
end the case) and goes on from an interrupting one's activity.
"""

from __future__ import annotations

from lxml import etree

from engine.base.vocabulary import Outcome
from engine.definitions.compiler import BPMN_NS, OUTCOME_PROPERTY, ParsedWorkspace, properties

DESIGNER_OUTCOMES = sorted(set(Outcome) - {Outcome.TERMINATED})  # terminated: the administrator's alone


def outcomes_are_known(ws: ParsedWorkspace) -> None:
    """An `outcome` property names one of the designer's outcomes (a typo would leave cases undecided)."""
    for path, tree in ws.trees.items():
        for element in tree.iter():
            value = properties(element).get(OUTCOME_PROPERTY) if isinstance(element.tag, str) else None
            if value is not None and value not in DESIGNER_OUTCOMES:
                ws.problem(path, element.get("id"), f"未知的办结结果 {value!r} (unknown outcome; one of "
                           f"{', '.join(DESIGNER_OUTCOMES)})")


def ends_have_outcomes(ws: ParsedWorkspace) -> None:
    """No end event of a startable process is reachable from its start without an outcome being set."""
    for manifest in ws.manifests:
        path = ws.process_file.get(manifest.key)
        if path is None:
            continue  # manifests_point_at_processes reports it
        process = ws.trees[path].getroot().find(f"{{{BPMN_NS}}}process[@id='{manifest.key}']")
        for end in process.iterfind(f"{{{BPMN_NS}}}endEvent"):
            if _undecided_path(process, end):
                ws.problem(path, end.get("id"), "结束事件可能在未确定办结结果的情况下结束办件 (a case can reach this "
                           "end event without any element setting its outcome: add an `outcome` property — approved, "
                           "refused, not_accepted, withdrawn, lapsed, revoked or closed — here or on the element "
                           "that decides)", "warning")


def _undecided_path(process: etree._Element, end: etree._Element) -> bool:
    """Whether walking back from `end` reaches a start event without passing an element that sets an outcome."""
    nodes = {n.get("id"): n for n in process if isinstance(n.tag, str) and n.get("id")}
    incoming: dict[str, list[str]] = {}
    for flow in process.iterfind(f"{{{BPMN_NS}}}sequenceFlow"):
        incoming.setdefault(flow.get("targetRef"), []).append(flow.get("sourceRef"))
    seen: set[str] = set()
    todo = [end.get("id")]
    while todo:
        node_id = todo.pop()
        if node_id in seen or node_id not in nodes:
            continue
        seen.add(node_id)
        node = nodes[node_id]
        if _decides(node):
            continue
        kind = etree.QName(node).localname
        if kind == "startEvent":
            return True
        if kind == "boundaryEvent":
            if node.get("cancelActivity", "true") != "false":
                todo.append(node.get("attachedToRef"))
            continue
        todo.extend(incoming.get(node_id, []))
    return False


def _decides(node: etree._Element) -> bool:
    """The node, or an element inside it (an embedded subprocess), sets an outcome."""
    return any(OUTCOME_PROPERTY in properties(e) for e in node.iter() if isinstance(e.tag, str))
