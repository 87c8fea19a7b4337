"""Moving a running workflow onto another version's spec, in memory (engine/runtime/migration.py writes it).

SpiffWorkflow aligns two specs by task spec name (`SpiffWorkflow.bpmn.util.diff`) and re-predicts every ready
and waiting branch, which drops a waiting task's internal data — a timer's due time with it — and copies the
parent's data over the task's. Here the alignment is the administrator's mapping (same ids by default); every
task keeps its id, state, data and internal data (so a timer keeps the due time the case was told, a ready
task its row, its assignee and its SLA clock), and only what the waiting tasks have not reached yet — their
predicted children — is worked out again from the new version's flows. What cannot be moved that way is a
problem with its element id, and `plan` finds every one before `move` changes anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState

from engine.bpmn.state import Specs

#: the states of a task the case waits at (a ready user task, a waiting event or join, a running subprocess)
WAITING = TaskState.READY | TaskState.WAITING | TaskState.STARTED
#: what a waiting task has not reached yet: predicted again from the new version's flows
AHEAD = TaskState.FUTURE | TaskState.PREDICTED_MASK

_STATE = {TaskState.READY: "ready", TaskState.WAITING: "waiting", TaskState.STARTED: "started"}


@dataclass(frozen=True)
class Move:
    """One element a case waits at and where it goes in the new version."""

    element: str
    to: str
    kind: str
    state: str

    def to_dict(self) -> dict[str, str]:
        return {"element": self.element, "to": self.to, "kind": self.kind, "state": self.state}


def kind(spec: Any) -> str:
    """What an element is, for "maps to an element of the same kind": its spec class and its event definition
    (a timer catch event is not a message catch event)."""
    definition = getattr(spec, "event_definition", None)
    return type(spec).__name__ + (f":{type(definition).__name__}" if definition is not None else "")


def element_kinds(compiled: Specs) -> dict[str, str]:
    """Every BPMN element of a version (its process and subprocesses) with its kind."""
    out: dict[str, str] = {}
    for spec in (compiled.spec, *compiled.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            if (element := getattr(task_spec, "bpmn_id", None)) is not None:
                out.setdefault(element, kind(task_spec))
    return out


def _target_name(name: str, element: str | None, mapping: dict[str, str]) -> str:
    """A task spec's name in the new version: its element mapped, and Spiff's derived names with it
    (`X [child]` of a multi-instance, `X.BoundaryEventSplit` of a task with boundary events)."""
    if element is None:
        head, dot, tail = name.partition(".")
        return mapping[head] + dot + tail if dot and head in mapping else name
    target = mapping.get(element, element)
    return target + name[len(element):] if name.startswith(element) else name


class _Plan:
    """The target spec of every task of a workflow, worked out once for `plan` and `move`."""

    def __init__(self, workflow: BpmnWorkflow, new: Specs, mapping: dict[str, str]) -> None:
        self.targets: dict[Any, Any] = {}  # task id -> new task spec (None: the new version lacks it)
        self.sub_specs: dict[Any, Any] = {}  # subworkflow -> its new spec (None: lacks it)
        self.moves: list[Move] = []
        self.problems: list[str] = []
        self._top(workflow, new, mapping)

    def _top(self, workflow: BpmnWorkflow, new: Specs, mapping: dict[str, str]) -> None:
        self._align(workflow, new.spec, mapping)
        for sp_id, sub in workflow.subprocesses.items():
            parent = workflow.get_task_from_id(sp_id)
            target = self.targets.get(parent.id) if parent is not None else None
            name = getattr(target, "spec", None)
            spec = new.subprocess_specs.get(name) if isinstance(name, str) else None
            self.sub_specs[sub] = spec
            if spec is None:
                if target is not None:  # else the subprocess task's own problem says it
                    self.problems.append(f"子流程 {sub.spec.name} 在新版本中不存在 (the subprocess {sub.spec.name} "
                                         "is not in the new version)")
                continue
            self._align(sub, spec, mapping)

    def _align(self, workflow: Any, spec: Any, mapping: dict[str, str]) -> None:
        for task in workflow.get_tasks(skip_subprocesses=True):
            old = task.task_spec
            element = getattr(old, "bpmn_id", None)
            target = spec.task_specs.get(_target_name(old.name, element, mapping))
            self.targets[task.id] = target
            if task.state & AHEAD:
                continue  # predicted again (under a waiting task) or dropped: nothing of it is kept
            shown = element or old.name.partition(".")[0]
            waiting = bool(task.state & WAITING)
            if target is None:
                self.problems.append(
                    f"办件停在 {shown}，新版本没有对应环节，请在映射中指定 (the case waits at {shown}, which the new "
                    "version lacks: map it)" if waiting else
                    f"办件已经过的 {shown} 在新版本中不存在，请在映射中指定同类环节 (the case passed {shown}, which "
                    "the new version lacks: map it to an element of the same kind)")
                continue
            if kind(target) != kind(old):
                self.problems.append(f"{shown} 是 {kind(old)}，新版本的 {target.name} 是 {kind(target)} "
                                     f"({shown} is a {kind(old)}; {target.name} in the new version is a "
                                     f"{kind(target)})")
                continue
            if waiting:
                self._placed(task, target, spec, shown)

    def _placed(self, task: Task, target: Any, spec: Any, shown: str) -> None:
        """A waiting task must sit in the wrapper its new spec sits in: Spiff puts a task with boundary events
        under a `<id>.BoundaryEventSplit`, so a task that gained boundary events would wait without them (and
        one that lost them is a wrapper without its spec, refused as missing)."""
        split = spec.task_specs.get(f"{target.name}.BoundaryEventSplit")
        parent = task.parent
        if split is not None and (parent is None or self.targets.get(parent.id) is not split):
            self.problems.append(f"{shown} 在新版本中增加了边界事件，不能迁移停在此处的办件 (a boundary event was "
                                 f"added to {shown} in the new version: a case waiting there cannot be moved)")
            return
        element = getattr(task.task_spec, "bpmn_id", None)
        if element is not None and task.task_spec.name == element:  # Spiff's own wrappers are not shown
            self.moves.append(Move(element, getattr(target, "bpmn_id", None) or target.name, kind(target),
                                   _STATE.get(task.state, str(task.state))))


def plan(workflow: BpmnWorkflow, new: Specs, mapping: dict[str, str]) -> tuple[list[Move], list[str]]:
    """What moving the workflow would do (the elements it waits at and where they go) and every problem that
    refuses it — nothing changed."""
    found = _Plan(workflow, new, mapping)
    return found.moves, found.problems


def move(workflow: BpmnWorkflow, new: Specs, mapping: dict[str, str]) -> list[Move]:
    """Put the workflow on the new version's spec (ValueError listing the problems, untouched, if `plan` has any)."""
    found = _Plan(workflow, new, mapping)
    if found.problems:
        raise ValueError("; ".join(found.problems))
    waiting = [t for t in workflow.get_tasks() if t.state & WAITING]
    for task in waiting:  # what they have not reached is predicted again below
        for child in list(task.children):
            if child.state & AHEAD and not child.triggered and child.id in child.workflow.tasks:
                child.workflow._remove_task(child.id)
    workflow.spec = new.spec
    workflow.subprocess_specs = new.subprocess_specs
    for sub, spec in found.sub_specs.items():
        sub.spec = spec
    for task in workflow.get_tasks():
        if task.id not in task.workflow.tasks:
            continue  # removed with an orphaned prediction below
        if found.targets[task.id] is None:  # a prediction outside the waiting branches, of an element gone
            task.workflow._remove_task(task.id)
            continue
        task.task_spec = found.targets[task.id]
    for task in waiting:
        task.task_spec._predict(task, mask=TaskState.PREDICTED_MASK | TaskState.FUTURE | task.state)
    return found.moves
