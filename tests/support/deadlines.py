"""Deadlines on a user task: a review with dueDate/warnAt/candidateOrg from its properties, accepted on a
Monday in Shanghai; and a process whose deadline script fails while the year's working days are unknown."""

from __future__ import annotations

from datetime import datetime

from engine.base import workdays
from engine.runtime.runtime import Runtime
from tests.support.builder import end, flows, render, script, start, user
from tests.support.steps import put

SHANGHAI = workdays.CHINA
MONDAY = datetime(2026, 3, 2, 9, tzinfo=SHANGHAI)


def review_process(key: str, lane: str, **props: str) -> str:
    nodes = [start(form="apply.json"), user("review", "审查", "open.json", **props), end()]
    return ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            f'<bpmn:process id="{key}" isExecutable="true"><bpmn:laneSet id="ls">'
            '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
            f'<bpmn:lane id="l2" name="{lane}"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{render(nodes, flows(("start", "review"), ("review", "end")))}</bpmn:process>'
            '</bpmn:definitions>')


REVIEW_FORMS = {"apply.json": {"type": "object", "properties": {"accepted_at": {"type": "string"},
                                                                "unit": {"type": "string"}}},
                "open.json": {"type": "object"}}


def deploy_review(runtime: Runtime, key: str, lane: str = "窗口人员", **props: str) -> None:
    put(runtime, key, {f"{key}.bpmn": review_process(key, lane, **props)}, REVIEW_FORMS)


FAILING_FORMS = {"apply.json": {"type": "object", "properties": {"accepted_at": {"type": "string"}}},
                 "open.json": {"type": "object"}}


def deploy_failing(runtime: Runtime) -> None:
    """A deadline computed by a script: it fails while the year's working-day table is not loaded."""
    nodes = [start(form="apply.json"), script("deadline", "due = workdays_after(accepted_at, 3)"),
             user("review", "审查", "open.json"), end()]
    edges = flows(("start", "deadline"), ("deadline", "review"), ("review", "end"))
    xml = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
           'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
           'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
           '<bpmn:process id="t_incident" isExecutable="true"><bpmn:laneSet id="ls">'
           '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
           '<bpmn:flowNodeRef>deadline</bpmn:flowNodeRef></bpmn:lane>'
           '<bpmn:lane id="l2" name="窗口人员"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>'
           f'</bpmn:laneSet>{render(nodes, edges)}</bpmn:process></bpmn:definitions>')
    put(runtime, "t_incident", {"t_incident.bpmn": xml}, FAILING_FORMS)
