"""A notice before it is addressed: what to say, about what.

Raised by background work (SLA warnings), by service tasks (`notify`) and by the runtime; fanned out to its
recipients and stored by engine/case/notifications.py.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Notice:
    """What to say, about what: one notice before it is fanned out to its recipients."""

    kind: str
    subject: str
    text_zh: str
    text_en: str
    instance_id: int | None = None
    task_id: str | None = None
