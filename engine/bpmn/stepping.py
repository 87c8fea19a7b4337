"""Running a workflow until it waits, and reading what that produced — pure, no database."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition, SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.simple import TerminateEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import ThrowingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import Task, TaskState

from engine.base.vocabulary import EventKind, InstanceStatus
from engine.bpmn import changes, eventsubprocesses, servicetask
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
    #: the outcome a command decides by itself (an administrator's termination); else the elements' say
    outcome: str | None = None
    #: the automatic steps that follow were not run: a worker runs them (scale-out mode; the step's outbox row)
    deferred: bool = False
    #: messages and signals thrown for no catcher in this case: other cases' (engine/runtime/routing.py)
    thrown: list[Thrown] = field(default_factory=list)


@dataclass(frozen=True)
class Thrown:
    """A message or signal a case threw that nobody in it caught, with its payload and the task that threw it
    (whose data a correlation key is worked out over)."""

    kind: str  # message | signal
    name: str
    payload: Any
    thrower: Task | None


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
            engine_steps(workflow)
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
    # Events thrown for no catcher in this case leave the state (they would pile up in it).  An error nobody
    # catches ends the case in error (BPMN §10.5.4: the process ends abnormally); messages, signals and
    # escalations go on record, by kind, and messages and signals go on to other cases (the step's `thrown`).
    uncaught = workflow.get_events()
    errors = [e for e in uncaught if isinstance(e.event_definition, ErrorEventDefinition)]
    events.extend({"kind": EventKind.MESSAGE_THROWN, "detail": _thrown(e.event_definition)}
                  for e in uncaught if e not in errors)
    thrown = [Thrown("message" if isinstance(e.event_definition, MessageEventDefinition) else "signal",
                     e.event_definition.name, e.payload, _thrower(workflow, e.event_definition))
              for e in uncaught if isinstance(e.event_definition, MessageEventDefinition | SignalEventDefinition)]
    if errors:
        element = _thrown_by(workflow, errors[0].event_definition)
        code = errors[0].event_definition.code
        message = (f"错误结束事件 {element} 抛出的错误 {code!r} 未被捕获，办件异常结束 "
                   f"(the error {code!r} thrown by the error end event {element} was not caught: the case ended "
                   "abnormally)")
        events.append({"kind": EventKind.ERROR, "element_id": element, "detail": {"message": message}})
        return Step(workflow, InstanceStatus.ERROR, events, message, element, calls.notices)
    if workflow.is_completed():
        terminate = _terminated(workflow)
        outcome = InstanceStatus.TERMINATED if terminate else InstanceStatus.COMPLETED
        events.append({"kind": EventKind.ENDED, "element_id": terminate, "detail": {"outcome": outcome}})
        return Step(workflow, outcome, events, notices=calls.notices, thrown=thrown)
    return Step(workflow, InstanceStatus.RUNNING, events, notices=calls.notices, thrown=thrown)


def _thrown(definition: Any) -> dict[str, str]:
    """An uncaught message, signal or escalation as the history records it: its name and what it is."""
    kind = type(definition).__name__.removesuffix("EventDefinition").lower()
    detail = {"message": definition.name}
    return detail if kind == "message" else {**detail, "event": kind}


def _thrower(workflow: BpmnWorkflow, definition: Any) -> Task | None:
    """The task (a throw or end event) whose definition threw this: the latest to complete."""
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if getattr(t.task_spec, "event_definition", None) is definition]
    return max(done, key=lambda t: t.last_state_change) if done else None


def _thrown_by(workflow: BpmnWorkflow, definition: Any) -> str | None:
    """The element (an error end event) whose definition threw this, for the record."""
    task = _thrower(workflow, definition)
    return element_of(task) if task else None


class _Interrupted(Exception):
    """A throw was caught by interrupting boundary events or event subprocesses: they run before anything else."""

    def __init__(self, boundaries: list[Task]) -> None:
        super().__init__()
        self.boundaries = boundaries


def engine_steps(workflow: BpmnWorkflow) -> None:
    """Spiff's `do_engine_steps`, except that an interrupting event caught from inside its scope runs at once, and
    that a scope with nothing left but event subprocesses that never started ends (engine/bpmn/eventsubprocesses.py).
    Spiff catches a signal or escalation the moment it is thrown but runs an interrupting boundary event, or the
    start of an interrupting event subprocess, only once the scope has nothing left to do, so the rest of the
    scope would run first — BPMN says the interrupting event stops it right there (§10.5.6)."""

    def after(task: Task) -> None:
        if isinstance(task.task_spec, ThrowingEvent):
            ready = [t for t in workflow.get_tasks(state=TaskState.READY)
                     if (isinstance(t.task_spec, BoundaryEvent) and t.task_spec.cancel_activity)
                     or eventsubprocesses.interrupts(t)]
            if ready:
                raise _Interrupted(ready)

    while True:
        try:
            workflow.do_engine_steps(did_complete_task=after)
        except _Interrupted as interrupted:
            for boundary in interrupted.boundaries:
                if boundary.state == TaskState.READY:
                    boundary.run()
            continue
        if not eventsubprocesses.close_idle(workflow):
            return


def _terminated(workflow: BpmnWorkflow) -> str | None:
    """The terminate end event that ended the case (e.g. a missed 容缺 supply deadline): terminated, not
    completed — None when no terminate end event ran."""
    ends = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if isinstance(getattr(t.task_spec, "event_definition", None), TerminateEventDefinition)]
    return element_of(ends[0]) if ends else None


def outcome_of(workflow: BpmnWorkflow, deciding: dict[str, str]) -> str | None:
    """The case's outcome: the `outcome` of the element that completed last among those carrying one
    (`deciding`: element id → outcome), so a revocation after an approval, or a second decision after a
    return loop, overrides the earlier one.  None while no deciding element has completed."""
    if not deciding:
        return None
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED)
            if getattr(t.task_spec, "bpmn_id", None) in deciding]
    if not done:
        return None
    return deciding[max(done, key=lambda t: t.last_state_change).task_spec.bpmn_id]


def element_of(task: Task) -> str:
    """The BPMN element id of a task (Spiff names a multi-instance child spec "<id> [child]")."""
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _timer_due(task: Task) -> datetime | None:
    """When the task's timer fires next: its own timer's, or the earliest of the timers an event-based gateway
    (a MultipleEventDefinition) waits on beside its messages and signals.  A cycle's is its next repetition."""
    definition = getattr(task.task_spec, "event_definition", None)
    timers = [d for d in (getattr(definition, "event_definitions", None) or [definition])
              if isinstance(d, TimerEventDefinition)]
    dues = [TimerEventDefinition.get_datetime(due) for d in timers if isinstance(due := d.details(task).value, str)]
    return min(dues, default=None)


def _awaited(task: Task) -> list[tuple[str, str]]:
    """The messages and signals a waiting task catches, as (kind, name): its own, or those an event-based gateway
    waits on."""
    definition = getattr(task.task_spec, "event_definition", None)
    return [("message" if isinstance(d, MessageEventDefinition) else "signal", d.name)
            for d in (getattr(definition, "event_definitions", None) or [definition])
            if isinstance(d, MessageEventDefinition | SignalEventDefinition)]


@dataclass(frozen=True)
class Snapshot:
    """The derived rows a workflow implies: ready human tasks, waiting timers (by task id) and service
    tasks waiting for their next attempt (by attempt key) — both kinds are rows the timer sweep fires —, and the
    message catch events it waits at (by task id: element, messages), which correlation looks up — with the
    event subprocesses a message or signal would start (`eventsubprocesses.handler_starts`)."""

    tasks: dict[str, Task]
    timers: dict[str, tuple[str, datetime]]
    retries: dict[str, tuple[str, datetime]] = field(default_factory=dict)
    messages: dict[str, tuple[Task, list[tuple[str, str]]]] = field(default_factory=dict)

    @classmethod
    def of(cls, workflow: BpmnWorkflow) -> Snapshot:
        """One walk of the task tree for all three (this runs twice on every step)."""
        tasks: dict[str, Task] = {}
        timers: dict[str, tuple[str, datetime]] = {}
        retries: dict[str, tuple[str, datetime]] = {}
        messages: dict[str, tuple[Task, list[tuple[str, str]]]] = {}
        for task in workflow.get_tasks(state=TaskState.READY | TaskState.WAITING | TaskState.STARTED):
            if task.state == TaskState.READY:
                if task.task_spec.manual:
                    tasks[str(task.id)] = task
            elif task.state == TaskState.STARTED:
                if (attempt := servicetask.waiting(task)) is not None:
                    retries[attempt[0]] = (element_of(task), attempt[1])
            else:
                if (due := _timer_due(task)) is not None:
                    timers[str(task.id)] = (element_of(task), due)
                if names := _awaited(task):
                    messages[str(task.id)] = (task, names)
        for key, handler_start in eventsubprocesses.handler_starts(workflow).items():  # what a message would start
            if names := _awaited(handler_start):  # type: ignore[arg-type]
                messages[key] = (handler_start, names)  # type: ignore[assignment]
        return cls(tasks, timers, retries, messages)


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
