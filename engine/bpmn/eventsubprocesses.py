"""Event subprocesses at any depth, interrupting or not, and signal end events — as BPMN runs them (§10.3.5).

SpiffWorkflow 3.2 parses event subprocesses but runs them only partly as the specification says:

* it starts one on a message or signal only from the *top-level* process's triggers
  (`EventManager.update_collaboration` reads `workflow.spec.start.trigger_specs`), so an event subprocess
  nested in a subprocess is never started by them;
* its start-event parser reads no error or escalation definition (the start becomes a none start and the
  handler runs as soon as its scope starts), and its end-event parser no signal definition (a signal end
  event throws nothing);
* it ignores `isInterrupting`: an interrupting handler runs beside the rest of its scope;
* a timer event subprocess starts with its scope and waits at its timer, so the scope cannot end before the
  timer fires — BPMN ends the scope, and the handler that never started with it, once the rest is done.

Here, on top of Spiff: parsers that read those definitions (`StartEventParser`, `EndEventParser`); a start
event spec that cancels the rest of its scope when an interrupting handler starts (`ScopedStartEvent`); an
event manager that offers every thrown event to the event subprocesses of the scopes it reaches
(`ScopedEventManager`: a signal or message reaches every running scope, an error or escalation the
thrower's scopes from the inmost out, each scope's waiting catch events before its handlers); and
`interrupts` / `close_idle`, which the stepping loop (engine/bpmn/stepping.py) calls; and
`handler_starts`, the message and signal starts of the handlers each running scope could start, for
which the runtime writes wait rows as for catch events — so a message (by its correlation key) or a
signal from outside the case starts them.  Timers stay Spiff's waiting tasks, so they get timer rows
and the sweep fires them like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import uuid5

from SpiffWorkflow.bpmn.parser.event_parsers import (
    CANCEL_EVENT_XPATH,
    CONDITIONAL_EVENT_XPATH,
    ERROR_EVENT_XPATH,
    ESCALATION_EVENT_XPATH,
    MESSAGE_EVENT_XPATH,
    SIGNAL_EVENT_XPATH,
    TERMINATION_EVENT_XPATH,
    TIMER_EVENT_XPATH,
)
from SpiffWorkflow.bpmn.specs.defaults import StartEvent
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import EventSubprocess
from SpiffWorkflow.bpmn.util.event import EventManager
from SpiffWorkflow.bpmn.util.subworkflow import BpmnSubWorkflow
from SpiffWorkflow.spiff.parser.event_parsers import SpiffEndEventParser, SpiffStartEventParser
from SpiffWorkflow.spiff.parser.process import SpiffProcessParser
from SpiffWorkflow.spiff.parser.task_spec import SubWorkflowParser
from SpiffWorkflow.task import Task, TaskState

BPMN = "{http://www.omg.org/spec/BPMN/20100524/MODEL}"
#: the tasks a scope is still busy with (predicted ones are not: Spiff drops or cancels them as it goes)
ACTIVE = TaskState.READY | TaskState.WAITING | TaskState.STARTED | TaskState.ERROR
#: on a scope's root task: the interrupting handler that took the scope over (it starts no other handler)
INTERRUPTED = "interrupted_by"


class ScopedStartEvent(StartEvent):
    """A start event; one of an interrupting event subprocess cancels everything else in the handler's scope
    when it fires — the rest of the subprocess (or case) it sits in, other handlers included (§10.3.5)."""

    interrupting = True

    def _on_complete_hook(self, my_task: Task) -> None:
        super()._on_complete_hook(my_task)
        handler = handler_of(my_task.workflow)
        if self.interrupting and handler is not None:
            scope = handler.workflow
            scope.task_tree._set_internal_data(**{INTERRUPTED: self.bpmn_id})
            for task in scope.get_tasks(state=TaskState.NOT_FINISHED_MASK, skip_subprocesses=True):
                if task is not handler and not task.is_descendant_of(handler) and task.state != TaskState.CANCELLED:
                    task.cancel()  # (one cancelled already went with an ancestor cancelled before it)


class ProcessParser(SpiffProcessParser):
    """Spiff's, with each event subprocess a message, signal, error or escalation starts wired as the timer ones
    are, but one way only: it flows to the end of its scope (a handler started while its scope runs is one more
    branch the scope ends with) and comes from the scope's start (Spiff checks a ready task has an input), but
    the start does not lead to it — the handler starts only when its event comes (`ScopedEventManager`)."""

    def add_tasks(self) -> None:
        super().add_tasks()
        for name in self.spec.start.trigger_specs:
            handler = self.spec.task_specs[name]
            if self.spec.end not in handler.outputs:
                handler.connect(self.spec.end)
            if self.spec.start not in handler.inputs:
                handler.inputs = [*handler.inputs, self.spec.start]


class SubprocessParser(SubWorkflowParser):
    """Spiff's, making an event subprocess an `EventSubprocess` task: Spiff looks for `triggeredByEvent` in the BPMN
    namespace, where no document puts it, so each one became a plain subprocess task."""

    def create_task(self) -> Any:
        if self.node.get("triggeredByEvent") == "true":
            self.spec_class = self.EVENT_SUBPROCESS_CLASS
        return super().create_task()


class StartEventParser(SpiffStartEventParser):
    """Spiff's, reading error and escalation definitions too on an event subprocess's start (the only start BPMN
    allows them on; engine/definitions/structure.py refuses them elsewhere), and its `isInterrupting`."""

    def create_task(self) -> ScopedStartEvent:
        kinds = [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, TIMER_EVENT_XPATH, CONDITIONAL_EVENT_XPATH]
        parent = self.node.getparent()
        if parent is not None and parent.tag == BPMN + "subProcess" and parent.get("triggeredByEvent") == "true":
            kinds += [ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH]
        task = self._create_task(self.get_event_definition(kinds))
        task.interrupting = self.node.get("isInterrupting", "true") != "false"
        self.spec.start.connect(task)
        return task


class EndEventParser(SpiffEndEventParser):
    """Spiff's, reading signal definitions too: a signal end event broadcasts its signal as it ends its path,
    within the case and, uncaught, to other cases (engine/runtime/routing.py), as an intermediate throw does."""

    def create_task(self) -> Any:
        task = self._create_task(self.get_event_definition(
            [MESSAGE_EVENT_XPATH, SIGNAL_EVENT_XPATH, CANCEL_EVENT_XPATH, ERROR_EVENT_XPATH, ESCALATION_EVENT_XPATH,
             TERMINATION_EVENT_XPATH]))
        task.connect(self.spec.end)
        return task


def handler_of(workflow: Any) -> Task | None:
    """The event subprocess task whose handler `workflow` is, or None (the case, or another subprocess)."""
    if not isinstance(workflow, BpmnSubWorkflow):
        return None
    task = workflow.top_workflow.get_task_from_id(workflow.parent_task_id)
    return task if task is not None and isinstance(task.task_spec, EventSubprocess) else None


def interrupts(task: Task) -> bool:
    """Whether the task is the ready start of an interrupting handler: it must run before anything else."""
    return (task.state == TaskState.READY and isinstance(task.task_spec, ScopedStartEvent)
            and task.task_spec.interrupting and handler_of(task.workflow) is not None)


class ScopedEventManager(EventManager):
    """Spiff's event manager, offering each thrown event to the event subprocesses of every scope it reaches."""

    def catch(self, event: Any, internal: bool = True) -> int:
        if event.target is not None:  # an error or escalation: its thrower's scopes, inmost first
            came_from, scope = None, event.target
            while scope is not None:
                tasks = [t for t in self.tasks.values()
                         if t.workflow is scope and t.task_spec.event_definition.catches(t, event)]
                if tasks:
                    return self._deliver(tasks, event)
                handler = handler_of(came_from)
                from_own_handler = handler is not None and handler.workflow is scope  # which it does not restart
                if not from_own_handler and (starts := self._start_handlers(scope, event)):
                    return self._deliver(starts, event)
                came_from, scope = scope, scope.parent_workflow
            event.target = None  # nobody in its scopes: Spiff's fallback, every waiting task that catches it
        else:  # a message or signal: every running scope's handlers for it, then every waiting task
            for scope in self._running_scopes():
                self._start_handlers(scope, event)
        tasks = [t for t in self.tasks.values() if t.task_spec.catches(t, event)]
        if not tasks and internal:
            self.workflow.bpmn_events.append(event)
        return self._deliver(tasks, event)

    @staticmethod
    def _deliver(tasks: list[Task], event: Any) -> int:
        for task in tasks:
            task.task_spec.catch(task, event)
            task.task_spec._update(task)
        return len(tasks)

    def _running_scopes(self) -> list[Any]:
        return running_scopes(self.workflow)

    def _start_handlers(self, scope: Any, event: Any) -> list[Task]:
        """Start the scope's event subprocesses whose start event catches `event` (none once an interrupting one
        has taken the scope over); their start events, waiting for the event."""
        if scope.task_tree._get_internal_data(INTERRUPTED) is not None:
            return []
        top, starts = self.workflow, []
        for name in scope.spec.start.trigger_specs:
            sp_spec = top.subprocess_specs.get(name)
            for start in sp_spec.bpmn_start_events if sp_spec is not None else ():
                if start.event_definition != event.event_definition:
                    continue
                waiting = self._waiting_start(scope, start.name)
                if waiting is None:
                    handler = _start(scope, name)
                    handler.correlations.update(event.correlations)
                    waiting = handler.get_next_task(state=TaskState.WAITING, spec_name=start.name)
                if waiting is not None:
                    starts.append(waiting)
        return starts

    def _waiting_start(self, scope: Any, spec_name: str) -> Task | None:
        """A handler of this scope already started and still waiting at its start event (Spiff reuses it)."""
        for sub in self.workflow.subprocesses.values():
            handler = handler_of(sub)
            if handler is not None and handler.workflow is scope and not sub.completed:
                waiting = sub.get_next_task(state=TaskState.WAITING, spec_name=spec_name)
                if waiting is not None:
                    return waiting
        return None


def running_scopes(top: Any) -> list[Any]:
    """The case and every subprocess that is running (its task started, not finished)."""
    scopes = [top] if not top.completed else []
    for sp_id, sub in list(top.subprocesses.items()):
        parent = top.get_task_from_id(sp_id)
        if not sub.completed and parent is not None and parent.state == TaskState.STARTED:
            scopes.append(sub)
    return scopes


@dataclass(frozen=True)
class HandlerStart:
    """The start event of an event subprocess its running scope has not started: a message or signal would.
    Shaped like the waiting task a catch event is (its spec, the data it sees — its scope's latest), so the same wait
    row is written for it and a message or signal from outside the case reaches it as it reaches a catch event."""

    task_spec: Any
    data: dict[str, Any]


def handler_starts(workflow: Any) -> dict[str, HandlerStart]:
    """Per running scope and start event of its event subprocesses, a key that stays the same while the scope
    runs (a wait row's task id) → the start; none for a scope an interrupting handler has taken over."""
    starts: dict[str, HandlerStart] = {}
    for scope in running_scopes(workflow):
        if not scope.spec.start.trigger_specs or scope.task_tree._get_internal_data(INTERRUPTED) is not None:
            continue
        for name in scope.spec.start.trigger_specs:
            sp_spec = workflow.subprocess_specs.get(name)
            for start in sp_spec.bpmn_start_events if sp_spec is not None else ():
                seen = scope.last_task or scope.task_tree  # the scope's data as its latest step left it
                starts[str(uuid5(scope.task_tree.id, start.name))] = HandlerStart(start, seen.data)
    return starts


def scope_events(workflow: Any) -> Any:
    """The workflow, its events caught by a `ScopedEventManager` (with the tasks already waiting carried over)."""
    manager = ScopedEventManager(workflow)
    manager.tasks = workflow.event_manager.tasks
    workflow.event_manager = manager
    return workflow


def _start(scope: Any, name: str) -> Any:
    """A handler of the scope, started: Spiff's `BpmnStartTask.trigger_wf`, without its connecting the scope's
    start to the handler in the (shared, cached) spec — which would make every later case start the handler
    with its scope and wait there — and with the handler's way on to the scope's end predicted."""
    child = scope.task_tree._add_child(scope.spec.task_specs[name], TaskState.FUTURE)
    child.triggered = True
    child.task_spec._predict(child, mask=TaskState.NOT_FINISHED_MASK)  # its way on to the scope's end
    child.task_spec._update(child)
    return scope.top_workflow.subprocesses[child.id]


def _idle(handler: Task) -> bool:
    """A handler with nothing running: all it does is wait at its start event (a timer not yet due, or a cycle
    between two firings, whose end waits for the start)."""
    sub = handler.workflow.top_workflow.subprocesses.get(handler.id)
    if sub is None:
        return False
    active = sub.get_tasks(state=ACTIVE)
    return any(isinstance(t.task_spec, StartEvent) for t in active) and all(
        t.workflow is sub and t.state == TaskState.WAITING and (isinstance(t.task_spec, StartEvent)
                                                                or t.task_spec is sub.spec.end) for t in active)


def _has_handlers(spec: Any) -> bool:
    """Whether a process or subprocess spec has event subprocesses (most have none: nothing to look at)."""
    return bool(spec.start.trigger_specs) or any(isinstance(o, EventSubprocess) for o in spec.start.outputs)


def close_idle(workflow: Any) -> bool:
    """Cancel the handlers that never started in every scope that has nothing else left to do, so the scope
    ends as BPMN ends it; whether any was (the scope's end then runs on the next engine step)."""
    closed = False
    for scope in [workflow, *workflow.subprocesses.values()]:
        if scope.completed or not _has_handlers(scope.spec):
            continue
        active = scope.get_tasks(state=ACTIVE, skip_subprocesses=True)
        idle = [t for t in active if isinstance(t.task_spec, EventSubprocess) and _idle(t)]
        ends = [t for t in active if t.task_spec is scope.spec.end]
        if not idle or len(active) > len(idle) + len(ends):
            continue
        for handler in idle:
            handler.cancel()
        for end in ends:
            end.task_spec._update(end)
        closed = True
    return closed
