"""What the job tests look at: everything a job could write, and commands run on the test's clock."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.runtime.runtime import Runtime
from engine.store.models import Event, HumanTask, Instance, Timer


def written(runtime: Runtime) -> tuple[Any, ...]:
    """Everything a job could write: instance versions and states, events, task and timer rows."""
    with runtime.db.read() as s:
        return (s.execute(select(Instance.id, Instance.version, Instance.status, Instance.state)).all(),
                s.execute(select(Event.id, Event.kind, Event.task_id)).all(),
                s.execute(select(HumanTask.id, HumanTask.state)).all(),
                s.execute(select(Timer.id, Timer.state, Timer.claimed_until)).all())


def sharing_clock(init: Any, runtime: Runtime) -> Any:
    """Runtime.__init__ for the runtimes a command builds: they read `runtime`'s (travelled) clock."""

    def shared(self: Runtime, *args: Any, **kwargs: Any) -> None:
        init(self, *args, **kwargs)
        self.context.clock = runtime.context.clock

    return shared
