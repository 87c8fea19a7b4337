"""A terminate end event ends the case as terminated (e.g. a missed 容缺 deadline), not as completed."""

from __future__ import annotations

from engine.runtime.runtime import Runtime
from tests.support.builder import Node, bpmn, end, flows, gateway, render, start
from tests.support.steps import begin, put

TERMINATE = "<bpmn:terminateEventDefinition />"


def test_terminate_end_event_means_terminated_and_a_plain_end_means_completed(runtime: Runtime) -> None:
    nodes = [start(form="apply.json"), gateway("exclusive", "missed", default="done"),
             Node("endEvent", "stop", body=TERMINATE), end("done")]
    edges = flows(("start", "missed"), ("missed", "stop", "late"), ("missed", "done"))
    put(runtime, "t_term", {"t.bpmn": bpmn("t_term", render(nodes, edges), {"申请人": ["start", "missed", "stop",
                                                                                    "done"]})},
        {"apply.json": {"type": "object", "properties": {"late": {"type": "boolean"}}}})
    assert begin(runtime, "t_term", {"late": True}).status == "terminated"
    assert begin(runtime, "t_term", {"late": False}).status == "completed"
