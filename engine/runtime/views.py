"""What the runtime hands back to its callers (CLI, API, workers): plain data, no ORM objects."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from engine.base.clock import now

DUE_SOON = timedelta(days=1)  # without a `warnAt`, a task is due soon in its last day


@dataclass
class TaskView:
    id: str
    instance_id: int
    case_number: str
    process_key: str
    element_id: str
    name: str
    role: str | None
    org: str | None
    form: str | None
    state: str
    created_at: datetime
    due_at: datetime | None = None  # the task's deadline (`dueDate`) and SLA warning time (`warnAt`)
    warn_at: datetime | None = None
    supervised: bool = False  # 督办: the SLA sweep marked it when it went overdue
    urges: int = 0  # 催办: how many times the applicant or a supervisor urged it (engine/runtime/urging.py)
    assignee: str | None = None  # who holds it (claimed or 转办), by display name; None while nobody does
    entrusted_by: str | None = None  # 委派: who entrusted it to its assignee, while the delegation is open
    claimable: bool = False  # the caller may claim it (engine/people/access.py `may_claim`): the inbox's bulk claim

    @property
    def overdue(self) -> bool:
        return self.due_at is not None and self.due_at < now()

    @property
    def due_soon(self) -> bool:
        """Not overdue yet, but past its warning time (or within its last day when it has none)."""
        if self.due_at is None or self.overdue:
            return False
        return now() >= (self.warn_at or self.due_at - DUE_SOON)

    def to_dict(self) -> dict[str, Any]:
        times = {k: getattr(self, k) for k in ("created_at", "due_at", "warn_at")}
        return {**asdict(self), **{k: v.isoformat() if v else None for k, v in times.items()},
                "overdue": self.overdue, "due_soon": self.due_soon}


@dataclass
class InstanceView:
    id: int
    case_number: str
    process_key: str
    version: int
    status: str
    error: str | None = None
    error_element: str | None = None
    open_tasks: list[TaskView] = field(default_factory=list)
    data: dict[str, Any] | None = None
    events: list[dict[str, Any]] | None = None
    diagram: dict[str, list[str]] | None = None  # BPMN element ids: completed and active
    documents: list[dict[str, Any]] | None = None  # issued documents: name, seq, title, issued_at
    history: list[dict[str, Any]] | None = None  # every field change: at, path, field, old, new, user, element
    outcome: str | None = None  # engine/base/vocabulary.py Outcome: approved, refused, … (None until decided)
    withdrawal: dict[str, Any] | None = None  # 撤回: what the viewer may do, the pending request (in detail)
    opinions: list[dict[str, Any]] | None = None  # the 审批流水 the caller may read (engine/case/opinions.py)
    due_at: datetime | None = None  # the nearest deadline of its open steps, whoever holds them (the SLA countdown)
    waiting_until: datetime | None = None  # the last of its waiting timers: a decided case's validity (in detail)

    def to_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if v is not None and k != "open_tasks"}
        out["open_tasks"] = [t.to_dict() for t in self.open_tasks]
        if self.documents is not None:
            out["documents"] = [{**d, "issued_at": d["issued_at"].isoformat()} for d in self.documents]
        for moment in ("due_at", "waiting_until"):
            if getattr(self, moment) is not None:
                out[moment] = getattr(self, moment).isoformat()
        if self.opinions is not None:
            out["opinions"] = [{**o, "at": o["at"].isoformat()} for o in self.opinions]
        return out
