"""Service tasks' test kit: another government system faked on loopback, a process calling an operator."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from engine.runtime.runtime import Runtime
from tests.support.builder import Node, end, flows, render, start, user
from tests.support.steps import put

FORMS = {"apply.json": {"type": "object", "properties": {"company": {"type": "string"}}},
         "open.json": {"type": "object"}}


@dataclass
class FakeSystem:
    """Another government system on loopback: answers each POST with the next scripted reply."""

    replies: list[tuple[int, Any] | float] = field(default_factory=list)  # (status, json) or seconds to stall
    seen: list[dict[str, Any]] = field(default_factory=list)
    busy_at_first: bool = False  # the first call with each idempotency key gets a 503

    def handler(self) -> type[BaseHTTPRequestHandler]:
        system = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                first = all(seen["key"] != key for seen in system.seen)
                system.seen.append({"body": body, "key": key})
                reply = system.replies.pop(0) if system.replies else (200, {"ok": True})
                if system.busy_at_first and first:
                    reply = (503, {})
                if isinstance(reply, float):
                    time.sleep(reply)
                    reply = (200, {"late": True})
                status, payload = reply
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *_: Any) -> None:
                pass

        return Handler


def service(node_id: str, operator: str, params: dict[str, str], retry: str = "", result: str = "reply") -> str:
    """A serviceTask node (its body, for `Node`): parameters are expressions over the case data."""
    rows = "".join(f'<spiffworkflow:parameter id="{k}" type="any" value="{v}"/>' for k, v in params.items())
    return (f'<spiffworkflow:serviceTaskOperator id="{operator}" resultVariable="{result}">'
            f"<spiffworkflow:parameters>{rows}</spiffworkflow:parameters>{retry}</spiffworkflow:serviceTaskOperator>")


def service_process(operator: str, params: dict[str, str], retry: str = "") -> str:
    """start → call (the service) → review (window clerk) → end, as a BPMN document."""
    call = Node("serviceTask", "call", ext=f"<bpmn:extensionElements>{service('call', operator, params, retry)}"
                                           "</bpmn:extensionElements>")
    nodes = [start(form="apply.json"), call, user("review", "审查", "open.json"), end()]
    edges = flows(("start", "call"), ("call", "review"), ("review", "end"))
    return ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            '<bpmn:process id="t_service" isExecutable="true"><bpmn:laneSet id="ls">'
            '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
            '<bpmn:lane id="l2" name="窗口人员"><bpmn:flowNodeRef>call</bpmn:flowNodeRef>'
            '<bpmn:flowNodeRef>review</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{render(nodes, edges)}</bpmn:process></bpmn:definitions>')


def deploy_call(runtime: Runtime, operator: str, params: dict[str, str], retry: str = "") -> None:
    put(runtime, "t_service", {"t_service.bpmn": service_process(operator, params, retry)}, FORMS)


POST = {"endpoint": "'licences'", "body": "{'company': company}"}
