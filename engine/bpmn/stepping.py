"""Running a workflow until it waits, and reading what that produced — pure, no database."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task, TaskState

from engine.base.vocabulary import EventKind, InstanceStatus
from engine.bpmn import changes, servicetask
from engine.bpmn.scripting import ScriptRefused
from engine.bpmn.services import RoleNotice, ServiceCalls, ServiceError


@dataclass
class Step:
    """What one step produced in memory, before anything is written."""

    workflow: BpmnWorkflow
    status: InstanceStatus
    events: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None
    error_element: str | None = None
    #: in-app notices service tasks asked for, written with the step
    notices: list[RoleNotice] = field(default_factory=list)


def run_until_wait(workflow: BpmnWorkflow, events: list[dict[str, Any]], calls: ServiceCalls,
                   since: float | None = None) -> Step:
    """Fire due timers, retry due service calls and run automatic steps; a failing script or service
    yields an error step, not a crash.  What each element changed in the data since `since` (default:
    now; earlier when the caller already ran part of the step, e.g. delivered a message) goes on record."""
    since = time.time() if since is None else since
    try:
        with calls.bound():
            workflow.refresh_timers()
            for task in servicetask.due(workflow.get_tasks(state=TaskState.STARTED)):
                task.run()
            workflow.do_engine_steps()
    except (SpiffWorkflowException, ScriptRefused) as exc:
        element = _failed_element(workflow, exc)
        cause = getattr(exc, "exception", None)
        message = str(cause if isinstance(cause, ScriptRefused | ServiceError) else exc).rstrip(". ")
        events.extend(calls.events)
        events.extend(changes.automatic(workflow, since))
        events.append({"kind": EventKind.ERROR, "element_id": element, "detail": {"message": message}})
        return Step(workflow, InstanceStatus.ERROR, events, message, element, calls.notices)
    events.extend(calls.events)
    events.extend(changes.automatic(workflow, since))
    # Messages thrown for no catcher in this case leave the state (they would pile up in it) and
    # go on record; routing them to other cases by correlation is not built yet.
    events.extend({"kind": EventKind.MESSAGE_THROWN, "detail": {"message": e.event_definition.name}}
                  for e in workflow.get_events())
    if workflow.is_completed():
        outcome = InstanceStatus.TERMINATED if _terminated(workflow) else InstanceStatus.COMPLETED
        events.append({"kind": EventKind.ENDED, "detail": {"outcome": outcome}})
        return Step(workflow, outcome, events, notices=calls.notices)
    return Step(workflow, InstanceStatus.RUNNING, events, notices=calls.notices)


def _terminated(workflow: BpmnWorkflow) -> bool:
    """A terminate end event ended the case (e.g. a missed 容缺 supply deadline): terminated, not completed."""
    return any(isinstance(getattr(t.task_spec, "event_definition", None), TerminateEventDefinition)
               for t in workflow.get_tasks(state=TaskState.COMPLETED))


def element_of(task: Task) -> str:
    """The BPMN element id of a task (Spiff names a multi-instance child spec "<id> [child]")."""
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _timer_due(task: Task) -> datetime | None:
    definition = getattr(task.task_spec, "event_definition", None)
    if isinstance(definition, TimerEventDefinition):
        due = definition.details(task).value
        if isinstance(due, str):
            return TimerEventDefinition.get_datetime(due)
    return None


@dataclass(frozen=True)
class Snapshot:
    """The derived rows a workflow implies: ready human tasks, waiting timers (by task id) and service
    tasks waiting for their next attempt (by attempt key) — both kinds are rows the timer sweep fires."""

    tasks: dict[str, Task]
    timers: dict[str, tuple[str, datetime]]
    retries: dict[str, tuple[str, datetime]] = field(default_factory=dict)

    @classmethod
    def of(cls, workflow: BpmnWorkflow) -> Snapshot:
        """One walk of the task tree for all three (this runs twice on every step)."""
        tasks: dict[str, Task] = {}
        timers: dict[str, tuple[str, datetime]] = {}
        retries: dict[str, tuple[str, datetime]] = {}
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            if task.state == TaskState.READY:
                if task.task_spec.manual:
                    tasks[str(task.id)] = task
            elif task.state == TaskState.STARTED:
                if (attempt := servicetask.waiting(task)) is not None:
                    retries[attempt[0]] = (element_of(task), attempt[1])
            elif (due := _timer_due(task)) is not None:
                timers[str(task.id)] = (element_of(task), due)
        return cls(tasks, timers, retries)


EMPTY = Snapshot({}, {})


def progress(workflow: BpmnWorkflow) -> frozenset[tuple[UUID, int]]:
    """Every task's state: if this did not change, a step did nothing worth writing."""
    return frozenset((t.id, t.state) for t in workflow.get_tasks())


def data_holders(workflow: BpmnWorkflow) -> list[Task]:
    """Where the case's current data lives: the waiting tasks, or the last task when nothing waits."""
    waiting = workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.ERROR)
    return waiting or [t for t in (workflow.last_task,) if t is not None]


def visible_data(workflow: BpmnWorkflow) -> dict[str, Any]:
    """The case's current data: what the waiting tasks hold, or what the last task ended with."""
    data: dict[str, Any] = {}
    for task in data_holders(workflow):
        data.update(task.data)
    data.update({k: v for k, v in workflow.data.items() if k != "data_objects"})
    return json.loads(json.dumps(data, default=str))


def diagram_state(workflow: BpmnWorkflow) -> dict[str, list[str]]:
    """Which BPMN elements a case has passed and where it stands, for marking up the diagram."""
    completed, active = set(), set()
    for task in workflow.get_tasks():
        element = getattr(task.task_spec, "bpmn_id", None)
        if element is None:  # SpiffWorkflow's own bookkeeping specs have no BPMN element
            continue
        if task.state == TaskState.COMPLETED:
            completed.add(element)
        elif task.state & (TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR):
            active.add(element)
    return {"completed": sorted(completed), "active": sorted(active)}


def _failed_element(workflow: BpmnWorkflow, exc: Exception) -> str | None:
    task_spec = getattr(exc, "task_spec", None) or getattr(getattr(exc, "task", None), "task_spec", None)
    if task_spec is not None:
        return getattr(task_spec, "bpmn_id", None) or task_spec.name
    failed = workflow.get_tasks(state=TaskState.ERROR) or workflow.get_tasks(state=TaskState.STARTED)
    return element_of(failed[0]) if failed else None
