"""What a step changed in a case's data: each path with its old and new value, and who changed it.

An approval record is only worth something if every change to it can be shown afterwards, so each
step records its changes with the event that made them: a person's submission with the
`started`/`task_completed` event (the user), and every element that ran automatically — script,
decision table, service call, message — as a `data_changed` event naming the element.  A missing
`old` (or `new`) means the field did not exist before (or was removed).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.specs.mixins.subworkflow_task import SubWorkflowTask
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import Task, TaskState

from engine.base.jsonvalues import escape
from engine.base.vocabulary import EventKind

_ABSENT: Any = object()


def submission(stored: Mapping[str, Any], submitted: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The changes a person's submission makes: each field sent, against what the case held."""
    return [c for key, value in submitted.items()
            for c in diff(stored.get(key, _ABSENT), value, f"/{escape(key)}")]


def preset(values: Mapping[str, Any], element: str | None) -> list[dict[str, Any]]:
    """A `data_changed` event for the values a form sets itself (read-only defaults), by its element."""
    if not values:
        return []
    return [{"kind": EventKind.DATA_CHANGED, "element_id": element, "user_id": None,
             "detail": {"changes": submission({}, values)}}]


def diff(old: Any, new: Any, path: str = "") -> list[dict[str, Any]]:
    """Changed leaves between two JSON-like values; objects are compared field by field, lists whole."""
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [*new, *(k for k in old if k not in new)]
        return [c for k in keys for c in diff(old.get(k, _ABSENT), new.get(k, _ABSENT), f"{path}/{escape(str(k))}")]
    if old is not _ABSENT and new is not _ABSENT and type(old) is type(new) and old == new:
        return []  # by type too: True → 1 is a change, though Python calls them equal
    change: dict[str, Any] = {"path": path or "/"}
    if old is not _ABSENT:
        change["old"] = _plain(old)
    if new is not _ABSENT:
        change["new"] = _plain(new)
    return [change]


def automatic(workflow: BpmnWorkflow, since: float) -> Iterator[dict[str, Any]]:
    """A `data_changed` event for each task completed since `since` that changed its data.

    A task starts from its parent's data, so what it changed is the difference between the two.
    Joins merge their branches' data and a call activity receives what its subprocess's own tasks
    already recorded: both are passed over, so each change is told once, by the element that made it.
    """
    # asked for waiting tasks too, so the walk goes below them: the branches a cycle timer (a non-interrupting
    # boundary or event subprocess start) starts hang under the timer, which waits for its next repetition
    ran = [t for t in workflow.get_tasks(state=TaskState.COMPLETED | TaskState.WAITING)
           if t.state == TaskState.COMPLETED and t.last_state_change >= since and t.parent is not None
           and not isinstance(t.task_spec, Join | SubWorkflowTask)]
    for task in sorted(ran, key=lambda t: t.last_state_change):
        changes = diff(task.parent.data, task.data)
        if changes:
            yield {"kind": EventKind.DATA_CHANGED, "task_id": str(task.id), "element_id": _element(task),
                   "user_id": None, "detail": {"changes": changes}}


def _element(task: Task) -> str:
    return getattr(task.task_spec, "bpmn_id", None) or task.task_spec.name


def _plain(value: Any) -> Any:
    """As the event log's JSON column can hold it (decimals and times as text, as the case view shows them)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return json.loads(json.dumps(value, default=str))
