"""Working-day maths in process expressions and timers, pinned on the 2026 table (调休 and Spring Festival)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.base import clock, workdays
from engine.base.workdays import UnknownYear, YearTable
from engine.bpmn import scripting
from engine.definitions.registry import deploy, validate
from engine.runtime.runtime import Runtime
from engine.store.calendars import load_year
from tests.support.builder import end, flows, render, start, user
from tests.support.deadlines import SHANGHAI
from tests.support.steps import begin, inbox, put
from tests.support.workspaces import workspace


@pytest.mark.parametrize(("start", "n", "due"), [
    ("2026-02-13T10:00:00+08:00", 5, "2026-02-27T23:59:59+08:00"),  # the Spring Festival week is skipped
    ("2026-02-13T10:00:00+08:00", 1, "2026-02-14T23:59:59+08:00"),  # Saturday 02-14 is a make-up working day
    ("2026-02-27T10:00:00+08:00", 1, "2026-02-28T23:59:59+08:00"),  # and so is Saturday 02-28
    ("2026-03-02T09:00:00+08:00", 3, "2026-03-05T23:59:59+08:00"),  # an ordinary week
    ("2026-03-06T16:00:00+08:00", 1, "2026-03-09T23:59:59+08:00"),  # Friday → Monday
    ("2026-03-02", 0, "2026-03-02T23:59:59+08:00"),                 # a bare date is the district's day
])
def test_workdays_after_on_the_2026_table(runtime: Runtime, start: str, n: int, due: str) -> None:
    assert scripting.workdays_after(start, n) == due


def test_pauses_stop_the_clock_and_between_counts_working_days(runtime: Runtime) -> None:
    # accepted Mon 03-02; a 补正 notice on Tue 03-03 waits until Thu 03-05: Wed and Thu do not count
    paused = scripting.paused_workdays_after("2026-03-02T09:00:00+08:00", 3,
                                            [{"from": "2026-03-03T10:00:00+08:00", "to": "2026-03-05T10:00:00+08:00"}])
    assert paused == "2026-03-09T23:59:59+08:00"
    assert scripting.workdays_between("2026-03-05T23:59:59+08:00", "2026-03-09T10:00:00+08:00") == 2
    assert scripting.workdays_between("2026-03-09", "2026-03-05") == -2


def test_an_unknown_year_is_an_error_never_a_guess_until_an_administrator_loads_it(runtime: Runtime) -> None:
    with pytest.raises(UnknownYear):
        scripting.workdays_after("2099-03-02T09:00:00+08:00", 3)
    table = YearTable.from_yaml("year: 2099\nholidays: [2099-03-03]\nworkdays: []\n")
    with runtime.db.write() as session:
        load_year(session, table, "admin")
    workdays.refresh()
    assert scripting.workdays_after("2099-03-02T09:00:00+08:00", 3) == "2099-03-06T23:59:59+08:00"


def test_now_iso_follows_the_controllable_clock() -> None:
    before = datetime.fromisoformat(scripting.now_iso())
    clock.travel(timedelta(days=3))
    assert datetime.fromisoformat(scripting.now_iso()) - before >= timedelta(days=3)


def test_a_working_day_timer_fires_after_its_deadline_and_not_before(runtime: Runtime) -> None:
    """A boundary timer `workdays_after(accepted_at, 1)` on a task: 督办 once the day has passed.

    (The flag's branch has its own copy of the data — SpiffWorkflow scopes data per token — so the test
    looks at which elements ran, not at a variable.)
    """
    boundary = ('<bpmn:boundaryEvent id="late" attachedToRef="wait" cancelActivity="false">'
                '<bpmn:outgoing>late__flag</bpmn:outgoing><bpmn:timerEventDefinition><bpmn:timeDate>'
                'workdays_after(accepted_at, 1)</bpmn:timeDate></bpmn:timerEventDefinition></bpmn:boundaryEvent>'
                '<bpmn:scriptTask id="flag"><bpmn:incoming>late__flag</bpmn:incoming><bpmn:outgoing>flag__end2'
                '</bpmn:outgoing><bpmn:script>supervised = True</bpmn:script></bpmn:scriptTask>'
                '<bpmn:endEvent id="end2"><bpmn:incoming>flag__end2</bpmn:incoming></bpmn:endEvent>'
                '<bpmn:sequenceFlow id="late__flag" sourceRef="late" targetRef="flag" />'
                '<bpmn:sequenceFlow id="flag__end2" sourceRef="flag" targetRef="end2" />')
    nodes = [start(form="apply.json"), user("wait", "办理", "open.json"), end()]
    body = render(nodes, flows(("start", "wait"), ("wait", "end"))) + boundary
    bpmn = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            '<bpmn:process id="t_wd" isExecutable="true"><bpmn:laneSet id="ls">'
            '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
            '<bpmn:lane id="l2" name="窗口人员"><bpmn:flowNodeRef>wait</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{body}</bpmn:process></bpmn:definitions>')
    apply = {"type": "object", "properties": {"accepted_at": {"type": "string"}}}
    put(runtime, "t_wd", {"wd.bpmn": bpmn}, {"apply.json": apply, "open.json": {"type": "object"}})
    # Friday 2026-02-13 15:00 in Shanghai: one working day later is the make-up Saturday 02-14, end of day
    accepted = datetime(2026, 2, 13, 15, tzinfo=SHANGHAI)
    clock.travel(accepted - clock.now())
    view = begin(runtime, "t_wd", {"accepted_at": accepted.isoformat()})
    clock.travel(timedelta(days=1, hours=8))  # Saturday 23:00: not yet
    assert runtime.advance(view.id).status == "running"
    assert "flag" not in runtime.instance(view.id, runtime.actor("admin"), detail=True).diagram["completed"]
    clock.travel(timedelta(hours=2))  # Sunday 01:00: the working day has passed
    runtime.advance(view.id)
    assert "flag" in runtime.instance(view.id, runtime.actor("admin"), detail=True).diagram["completed"]
    assert [t.element_id for t in inbox(runtime, "window", view.id)] == ["wait"]  # non-interrupting


def _due_files(due: str) -> dict[str, bytes]:
    nodes = [start(form="apply.json"), user("review", "审查", "open.json", dueDate=due), end(outcome="approved")]
    bpmn = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            '<bpmn:process id="t_due" isExecutable="true"><bpmn:laneSet id="ls">'
            '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
            '<bpmn:lane id="l2" name="窗口人员"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{render(nodes, flows(("start", "review"), ("review", "end")))}</bpmn:process>'
            '</bpmn:definitions>')
    apply = {"type": "object", "properties": {"accepted_at": {"type": "string"}}}
    return workspace({"due.bpmn": bpmn}, {"apply.json": apply, "open.json": {"type": "object"}}, key="t_due")


def test_a_tasks_due_date_comes_from_its_dueDate_expression_and_drives_the_overdue_inbox(runtime: Runtime) -> None:
    from engine.runtime.inbox import TaskFilter, list_tasks

    deploy(runtime.db, _due_files("workdays_after(accepted_at, 1)"))
    key = "t_due"
    accepted = datetime(2026, 2, 13, 15, tzinfo=SHANGHAI)
    clock.travel(accepted - clock.now())
    begin(runtime, key, {"accepted_at": accepted.isoformat()})
    window = runtime.actor("window")
    [task], _ = list_tasks(runtime.db, window, TaskFilter(scope="candidate"))
    overdue = TaskFilter(scope="candidate", overdue=True)
    assert list_tasks(runtime.db, window, overdue)[0] == []
    clock.travel(timedelta(days=1, hours=10))  # past the end of the make-up Saturday 02-14
    assert [t.id for t in list_tasks(runtime.db, window, overdue)[0]] == [task.id]


def test_a_dueDate_that_does_not_compile_is_refused_at_validate(runtime: Runtime) -> None:
    problems = validate(_due_files("__import__('os')"))
    assert [(p.element_id, p.severity) for p in problems] == [("review", "error")]
