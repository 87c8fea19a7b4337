"""A deadline that passed before a submission goes first, whether or not the timer sweep has fired it yet: a
supply sent after its deadline finds its task cancelled, not accepted because the sweep was a second late."""

from __future__ import annotations

from datetime import timedelta

import pytest

from engine.base import clock
from engine.base.errors import Conflict
from engine.runtime.runtime import Runtime
from tests.support.builder import Node, bpmn, end, flows, render, start, timer, user
from tests.support.steps import begin, inbox, put
from tests.support.workspaces import OPEN


def _deploy(runtime: Runtime, interrupting: bool) -> None:
    """supply (applicant), with a one-hour boundary timer → lapsed; supplied → review (window)."""
    late = Node("boundaryEvent", "late", attrs=f'attachedToRef="supply" cancelActivity="{str(interrupting).lower()}"',
                body=timer("PT1H"))
    nodes = [start(), user("supply", "补齐材料", "open.json"), late, end("end_lapsed", outcome="lapsed"),
             user("review", "审查", "open.json"), end(outcome="approved")]
    edges = flows(("start", "supply"), ("late", "end_lapsed"), ("supply", "review"), ("review", "end"))
    lanes = {"申请人": ["start", "supply", "late", "end_lapsed"], "窗口人员": ["review"]}
    put(runtime, "t_late", {"p.bpmn": bpmn("t_late", render(nodes, edges), lanes)}, {"open.json": OPEN})


def test_a_submission_after_an_unfired_deadline_is_refused_and_the_deadline_taken(runtime: Runtime) -> None:
    _deploy(runtime, interrupting=True)
    case = begin(runtime, "t_late")
    [supply] = inbox(runtime, "haiyun", case.id)
    clock.travel(timedelta(hours=1, seconds=1))  # due, and no sweep has run
    with pytest.raises(Conflict):
        runtime.complete(supply.id, {"files": "补齐"}, runtime.actor("haiyun"))
    view = runtime.instance(case.id, runtime.actor("admin"))
    assert (view.status, view.outcome) == ("completed", "lapsed")


def test_a_warning_that_came_due_does_not_stop_the_submission(runtime: Runtime) -> None:
    _deploy(runtime, interrupting=False)
    case = begin(runtime, "t_late")
    [supply] = inbox(runtime, "haiyun", case.id)
    clock.travel(timedelta(hours=1, seconds=1))
    view = runtime.complete(supply.id, {"files": "补齐"}, runtime.actor("haiyun"))
    assert [t.element_id for t in inbox(runtime, "window", view.id)] == ["review"]


def test_before_the_deadline_the_submission_goes_through(runtime: Runtime) -> None:
    _deploy(runtime, interrupting=True)
    case = begin(runtime, "t_late")
    [supply] = inbox(runtime, "haiyun", case.id)
    clock.travel(timedelta(minutes=59))
    runtime.complete(supply.id, {"files": "补齐"}, runtime.actor("haiyun"))
    assert [t.element_id for t in inbox(runtime, "window", case.id)] == ["review"]
