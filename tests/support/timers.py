"""A process that waits on a one-hour timer (`WAIT`), deployed with another wait (`deploy_timed`), and cases of it
(`timed`)."""

from __future__ import annotations

from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from engine.store.db import Database
from tests.support.builder import bpmn
from tests.support.workspaces import workspace

WAIT = (
    '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
    '<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
    '<bpmn:timerEventDefinition><bpmn:timeDuration>"PT1H"</bpmn:timeDuration></bpmn:timerEventDefinition>'
    "</bpmn:intermediateCatchEvent>"
    '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
    '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
    '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />'
)


def deploy_timed(db: Database, duration: str) -> None:
    """Deploy `timed`, whose timer waits `duration` (an ISO 8601 duration); the applicant's lane holds it all."""
    process = bpmn("timed", WAIT.replace('"PT1H"', f'"{duration}"'), {"申请人": ["start", "wait", "end"]})
    deploy(db, workspace({"t.bpmn": process}, key="timed"))


def timed(runtime: Runtime, count: int = 1, duration: str = "PT1H") -> list[int]:
    """Deploy `timed` (its timer waits `duration`) and start `count` cases of it as haiyun."""
    deploy_timed(runtime.db, duration)
    haiyun = runtime.actor("haiyun")
    return [runtime.start("timed", {}, haiyun).id for _ in range(count)]
