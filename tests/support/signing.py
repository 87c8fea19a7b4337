"""加签 tests' pieces: the approval a co-signed task is completed with, and a user's inbox by element."""

from __future__ import annotations

from engine.runtime.inbox import Scope, TaskFilter, list_tasks
from engine.runtime.runtime import Runtime

APPROVE = {"decision": "approved", "comment": "材料齐全，同意"}


def _inbox(runtime: Runtime, username: str) -> list[str]:
    return [t.id for t in list_tasks(runtime.db, runtime.actor(username), TaskFilter(scope=Scope.ASSIGNED))[0]]

