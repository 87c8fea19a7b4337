"""Unreachable nodes and dead ends are validation errors naming the element (a deleted flow is caught at save)."""

from __future__ import annotations

import re

from engine.definitions.registry import validate
from tests.support.builder import bpmn, end, flows, gateway, render, start, user
from tests.support.repo import repo_files
from tests.support.workspaces import OPEN, workspace

ZZS = "processes/zzs/zzs.bpmn"


def _without(files: dict[str, bytes], *flows: str) -> dict[str, bytes]:
    """The ZZS diagram with the named sequence flows (and their diagram edges and references) deleted."""
    text = files[ZZS].decode()
    for flow in flows:
        text = re.sub(rf'<bpmn:sequenceFlow id="{flow}"[^>]*?(/>|>.*?</bpmn:sequenceFlow>)', "", text, flags=re.S)
        text = re.sub(rf"<bpmn:(incoming|outgoing)>{flow}</bpmn:\1>", "", text)
        text = re.sub(rf'<bpmndi:BPMNEdge id="{flow}_di".*?</bpmndi:BPMNEdge>', "", text, flags=re.S)
    return {**files, ZZS: text.encode()}


def _found(files: dict[str, bytes], kind: str) -> set[str]:
    return {p.element_id for p in validate(files) if p.file == ZZS and kind in p.message and p.severity == "error"}


def test_the_shipped_processes_have_no_unreachable_node_and_no_dead_end() -> None:
    assert [p for p in validate(repo_files()) if "unreachable" in p.message or "dead end" in p.message] == []


def test_deleting_the_flows_into_accept_is_refused_naming_accept_and_where_they_came_from() -> None:
    """A node with no incoming flow at all is the structure rule's (a file it refuses is linted no further): the
    designer is shown the node that lost its flow and the one it came from, not the whole tail behind them."""
    problems = [p for p in validate(_without(repo_files(), "f_accept", "f_deemed_accept")) if p.file == ZZS]
    by_id = {p.element_id: p for p in problems if p.severity == "error"}
    assert "incoming sequence flow" in by_id["accept"].message and by_id["accept"].line is not None
    assert "outgoing sequence flow" in by_id["deem_accepted"].message


def _islands(body: str) -> dict[str, bytes]:
    return workspace({"t.bpmn": bpmn("t", body)}, {"f.json": OPEN}, key="t")


def test_nodes_only_a_loop_of_their_own_leads_to_are_unreachable() -> None:
    """Every node has a way in and a way out, so the structure rule is satisfied, yet no start event reaches the
    loop b ⇄ c: both are unreachable, and so is the end only they lead to."""
    body = render([start(), user("a", "甲", "f.json"), end("end", outcome="approved"),
                   user("b", "乙", "f.json"), user("c", "丙", "f.json"), gateway("exclusive", "g", default="b"),
                   end("end_island", outcome="approved")],
                  flows(("start", "a"), ("a", "end"), ("b", "c"), ("c", "g"), ("g", "b"), ("g", "end_island", "x")))
    problems = [p for p in validate(_islands(body)) if "unreachable" in p.message]
    assert {p.element_id for p in problems} == {"b", "c", "g", "end_island"}
    assert all("只有从不可达节点来的连线" in p.message for p in problems)
    assert all(p.severity == "error" and p.line is not None for p in problems)


def test_a_loop_with_no_way_out_is_a_dead_end() -> None:
    """The case can enter the loop a ⇄ b but never leave it for an end event: both are dead ends; the gateway
    before them still reaches the end by its other flow."""
    body = render([start(), gateway("exclusive", "g", default="end"), user("a", "甲", "f.json"),
                   user("b", "乙", "f.json"), end("end", outcome="approved")],
                  flows(("start", "g"), ("g", "end"), ("g", "a", "x"), ("a", "b"), ("b", "a")))
    dead = {p.element_id: p for p in validate(_islands(body)) if "dead end" in p.message}
    assert set(dead) == {"a", "b"}
    assert "no path from it reaches an end event" in dead["a"].message
