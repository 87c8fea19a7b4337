"""`timeDate` timers written with the working-day helpers: validated honestly, fired on the 2026 table."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.base import clock
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from tests.support.builder import Node, end, flows, render, script, start, user
from tests.support.deadlines import SHANGHAI
from tests.support.steps import begin, inbox, put
from tests.support.workspaces import workspace

FORMS = {"apply.json": {"type": "object", "properties": {"accepted_at": {"type": "string", "x-input": True}}},
         "open.json": {"type": "object"}}


def _files(expression: str) -> dict[str, str]:
    """start → a script setting `noted_at` → wait on the timer → window review → end."""
    wait = Node("intermediateCatchEvent", "wait", body=f"<bpmn:timerEventDefinition><bpmn:timeDate>{expression}"
                "</bpmn:timeDate></bpmn:timerEventDefinition>")
    nodes = [start(form="apply.json"), script("note", "noted_at = now_iso()"), wait,
             user("review", "审查", "open.json"), end(outcome="approved")]
    body = render(nodes, flows(("start", "note"), ("note", "wait"), ("wait", "review"), ("review", "end")))
    return {"t.bpmn": '<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            '<bpmn:process id="t_timer" isExecutable="true"><bpmn:laneSet id="ls">'
            '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef>'
            '<bpmn:flowNodeRef>note</bpmn:flowNodeRef><bpmn:flowNodeRef>wait</bpmn:flowNodeRef></bpmn:lane>'
            '<bpmn:lane id="l2" name="窗口人员"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{body}</bpmn:process></bpmn:definitions>'}


@pytest.mark.parametrize("expression", [
    "workdays_after(accepted_at, 5)",                                    # a form field
    "workdays_after(noted_at, 1)",                                       # a script's variable
    "paused_workdays_after(accepted_at, 5, [])",
    "'2026-12-01T09:00:00+08:00'",
])
def test_timer_expressions_over_helpers_and_case_data_pass(expression: str) -> None:
    assert validate(workspace(_files(expression), FORMS, key="t_timer")) == []


@pytest.mark.parametrize(("expression", "name"), [
    ("workday_after(accepted_at, 5)", "workday_after"),                  # a misspelt helper
    ("workdays_after(acepted_at, 5)", "acepted_at"),                     # a misspelt field
])
def test_timer_expressions_naming_neither_helper_nor_data_are_refused(expression: str, name: str) -> None:
    [problem] = validate(workspace(_files(expression), FORMS, key="t_timer"))
    assert (problem.element_id, problem.severity) == ("wait", "error") and name in problem.message


def test_five_working_days_after_friday_before_the_spring_festival_is_the_27th(runtime: Runtime) -> None:
    put(runtime, "t_timer", _files("workdays_after(accepted_at, 5)"), FORMS)
    accepted = datetime(2026, 2, 13, 10, tzinfo=SHANGHAI)  # Fri; Sat 02-14 is a make-up day, then the holiday
    clock.travel(accepted - clock.now())
    view = begin(runtime, "t_timer", {"accepted_at": accepted.isoformat()})
    clock.travel(datetime(2026, 2, 27, 23, 59, tzinfo=SHANGHAI) - clock.now())
    runtime.advance(view.id)
    assert inbox(runtime, "window", view.id) == []  # the 27th is the 5th working day: not over yet
    clock.travel(timedelta(minutes=2))
    runtime.advance(view.id)
    assert [t.element_id for t in inbox(runtime, "window", view.id)] == ["review"]
