"""Workflow state ⇄ bytes, *without* the process spec, plus the in-process spec cache.

SpiffWorkflow's serializer writes the whole parsed spec into every workflow it saves and
re-parses it on every load.  The spec never changes for a deployed version, so tongban keeps
it out of the stored state and re-attaches the one cached, already-parsed spec on load.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime, tzinfo
from threading import Lock
from typing import Any, Generic, Protocol, TypeVar
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions import timer
from SpiffWorkflow.spiff.serializer.config import SPIFF_CONFIG

from engine.base import clock
from engine.bpmn.eventsubprocesses import scope_events
from engine.bpmn.scripting import script_engine


class _ClockDatetime(datetime):
    """SpiffWorkflow's timer events read `datetime.now(timezone.utc)` themselves: pointing that module's `datetime`
    here makes them ask the current runtime's clock, so a timer due after a `travel()` fires on the next advance,
    exactly as it would after waiting."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
        current = clock.now()
        return current.astimezone(tz) if tz is not None else current.astimezone().replace(tzinfo=None)


timer.datetime = _ClockDatetime


class Specs(Protocol):
    """What restoring a workflow needs of a compiled process (engine/definitions/compiler.py)."""

    spec: Any
    subprocess_specs: dict[str, Any]


S = TypeVar("S", bound=Specs)


class _SpeclessWorkflowConverter(BpmnWorkflowConverter):
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], compiled: Specs | None = None) -> BpmnWorkflow:
        if compiled is None:
            raise ValueError("a spec-less workflow can only be restored with its compiled process")
        workflow = self.target_class(compiled.spec, compiled.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = dict(SPIFF_CONFIG)
_CONFIG[BpmnWorkflow] = _SpeclessWorkflowConverter
_SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG))
_ENGINE = script_engine()


def new_workflow(compiled: Specs) -> BpmnWorkflow:
    return scope_events(BpmnWorkflow(compiled.spec, compiled.subprocess_specs, script_engine=_ENGINE))


def dumps(workflow: BpmnWorkflow) -> bytes:
    return _SERIALIZER.serialize_json(workflow).encode()


def loads(blob: bytes, compiled: Specs) -> BpmnWorkflow:
    dct = json.loads(blob)
    _SERIALIZER.migrate(dct)
    workflow = _SERIALIZER.registry.restore(dct, compiled=compiled)
    workflow.script_engine = _ENGINE
    return scope_events(workflow)


class SpecCache(Generic[S]):
    """Compiled processes by content hash, bounded LRU; compiling happens outside the lock's fast path."""

    def __init__(self, size: int = 64) -> None:
        self._size = size
        self._items: OrderedDict[str, S] = OrderedDict()
        self._lock = Lock()

    def get(self, content_hash: str, build: Callable[[], S]) -> S:
        with self._lock:
            hit = self._items.get(content_hash)
            if hit is not None:
                self._items.move_to_end(content_hash)
                return hit
        compiled = build()
        with self._lock:
            self._items[content_hash] = compiled
            while len(self._items) > self._size:
                self._items.popitem(last=False)
        return compiled


class WorkflowCache:
    """Live workflows of recently stepped instances, keyed by instance id *and* version counter.

    Deserializing a workflow is a large share of a step.  After a step commits, the workflow object
    it produced is exactly what the stored state says (version n+1), so the next step in this
    process can start from it.  `take` removes the entry — the caller owns the object while it
    mutates it — and a version mismatch (another process stepped the instance) means a miss.
    Only committed workflows are put back, so a failed or conflicting step can never leak in.
    """

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._items: OrderedDict[int, tuple[int, BpmnWorkflow]] = OrderedDict()
        self._lock = Lock()

    def take(self, instance_id: int, version: int) -> BpmnWorkflow | None:
        with self._lock:
            hit = self._items.pop(instance_id, None)
        return hit[1] if hit is not None and hit[0] == version else None

    def put(self, instance_id: int, version: int, workflow: BpmnWorkflow) -> None:
        if self._size <= 0:
            return
        with self._lock:
            self._items[instance_id] = (version, workflow)
            self._items.move_to_end(instance_id)
            while len(self._items) > self._size:
                self._items.popitem(last=False)
