"""What a case list shows beside each case: its current steps and their due dates."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select

from engine.base.vocabulary import HumanTaskState
from engine.store.db import Database
from engine.store.models import HumanTask


def open_steps(db: Database, instance_ids: Iterable[int]) -> dict[int, list[tuple[str, datetime | None]]]:
    """(step name, due) of the ready tasks of cases the caller already got from a scoped list."""
    ids = list(instance_ids)
    steps: dict[int, list[tuple[str, datetime | None]]] = defaultdict(list)
    if not ids:
        return steps
    query = (select(HumanTask.instance_id, HumanTask.name, HumanTask.due_at)
             .where(HumanTask.instance_id.in_(ids), HumanTask.state == HumanTaskState.READY)
             .order_by(HumanTask.created_at))
    with db.reading() as conn:
        for instance_id, name, due in conn.execute(query):
            steps[instance_id].append((name, due))
    return steps
