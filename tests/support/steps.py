"""Deploy a test process and drive its cases through the runtime, step by step, as its users."""

from __future__ import annotations

from typing import Any

import pytest

from engine.base.errors import DefinitionInvalid
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView, TaskView
from tests.support.workspaces import workspace


def put(runtime: Runtime, key: str, files: dict[str, str], forms: dict[str, Any],
        extra: dict[str, bytes] | None = None) -> None:
    """Deploy one process folder (printing the problems when it is refused, to make failures readable)."""
    ws = workspace(files, forms, key=key, extra=extra)
    try:
        deploy(runtime.db, ws, by="tests")
    except DefinitionInvalid as exc:
        pytest.fail(f"not deployed: {[str(p) for p in exc.problems]}")


def begin(runtime: Runtime, key: str, data: dict[str, Any] | None = None) -> InstanceView:
    return runtime.start(key, data or {}, runtime.actor("haiyun"))


def inbox(runtime: Runtime, username: str, instance: int) -> list[TaskView]:
    return [t for t in runtime.tasks(runtime.actor(username)) if t.instance_id == instance]


def only_task(runtime: Runtime, username: str, instance: int) -> TaskView:
    [task] = inbox(runtime, username, instance)
    return task


def do(runtime: Runtime, username: str, instance: int, element: str, data: dict[str, Any]) -> InstanceView:
    """The user completes the one task of `element` in their inbox for this instance."""
    [task] = [t for t in inbox(runtime, username, instance) if t.element_id == element]
    return runtime.complete(task.id, data, runtime.actor(username))
