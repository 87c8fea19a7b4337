"""A process whose whole life is automatic steps: start → one script task → end."""

from __future__ import annotations

from engine.runtime.runtime import Runtime
from tests.support.builder import bpmn, end, flows, render, script, start
from tests.support.steps import put


def deploy_script(runtime: Runtime, key: str, code: str) -> None:
    """Deploy `key`: its applicant starts it, the script task `work` runs `code`, and it ends approved."""
    body = render([start(), script("work", code), end(outcome="approved")], flows(("start", "work"), ("work", "end")))
    put(runtime, key, {"p.bpmn": bpmn(key, body, {"申请人": ["start", "work", "end"]})}, {})
