"""Unreachable nodes and dead ends are validation errors naming the element (a deleted flow is caught at save)."""

from __future__ import annotations

import re

from engine.definitions.registry import validate
from tests.support.repo import repo_files

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


def test_deleting_the_flows_into_accept_makes_accept_and_what_follows_it_unreachable() -> None:
    files = _without(repo_files(), "f_accept", "f_deemed_accept")
    unreachable = _found(files, "unreachable")
    assert {"accept", "gw_checks", "end_expired"} <= unreachable
    assert not {"start", "register", "precheck", "not_accepted", "deem_accepted"} & unreachable
    by_id = {p.element_id: p for p in validate(files) if "unreachable" in p.message}
    assert by_id["accept"].line is not None and "没有连线到达它" in by_id["accept"].message
    assert "只有从不可达节点来的连线" in by_id["gw_checks"].message


def test_a_task_whose_only_outgoing_flow_is_deleted_is_a_dead_end_and_what_leads_only_there_too() -> None:
    files = _without(repo_files(), "f_accepted")
    dead = _found(files, "dead end")
    assert "accept" in dead
    assert "no outgoing sequence flow" in next(p.message for p in validate(files) if p.element_id == "accept"
                                               and "dead end" in p.message)
    assert "start" not in dead  # the start event still reaches an end through the refusal branches
    assert "gw_checks" in _found(files, "unreachable")
