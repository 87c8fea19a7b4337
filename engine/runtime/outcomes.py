"""What the district's cases came to, per process: approved, refused, not accepted, lapsed, … (issue 12).

One GROUP BY over `instances.outcome` (indexed with the id), so the supervision dashboard can show, beside the
135 figures, how each service's cases ended without opening a workflow. Cases whose outcome is not decided yet
(still running, or ended by a version that predates outcomes) are counted apart as `undecided`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import tzinfo

from sqlalchemy import func, select

from engine.base.errors import Forbidden
from engine.base.vocabulary import Outcome
from engine.people.access import Actor, may_supervise
from engine.runtime.supervision import Period
from engine.store.db import Database
from engine.store.models import Instance


@dataclass
class ProcessOutcomes:
    """One process's cases by outcome; `undecided` are those no element has decided yet."""

    process_key: str
    counts: dict[Outcome, int] = field(default_factory=dict)
    undecided: int = 0

    @property
    def total(self) -> int:
        return sum(self.counts.values()) + self.undecided

    def share(self, outcome: Outcome) -> float | None:
        """The outcome's share of the decided cases (None before any is decided)."""
        decided = sum(self.counts.values())
        return self.counts.get(outcome, 0) / decided if decided else None


def outcome_counts(db: Database, actor: Actor, period: Period | None = None, tz: tzinfo | None = None,
                   process: str | None = None) -> list[ProcessOutcomes]:
    """Cases started in `period` (all, without one) by process and outcome, processes in key order; every
    outcome appears in `counts`, zero included, so a table has the same columns for every process."""
    if not may_supervise(actor):
        raise Forbidden("仅企业服务中心、督查室和管理员可查看办件结果统计 (supervisors only)")
    query = select(Instance.process_key, Instance.outcome, func.count()).group_by(Instance.process_key,
                                                                                 Instance.outcome)
    if period is not None:
        if tz is None:
            raise ValueError("a period needs the district's time zone")
        start, end = period.bounds(tz)
        query = query.where(Instance.created_at >= start, Instance.created_at < end)
    if process is not None:
        query = query.where(Instance.process_key == process)
    rows: dict[str, ProcessOutcomes] = {}
    with db.reading() as conn:
        for key, outcome, count in conn.execute(query):
            row = rows.setdefault(key, ProcessOutcomes(key, dict.fromkeys(Outcome, 0)))
            if outcome in Outcome.__members__.values():
                row.counts[Outcome(outcome)] += count
            else:
                row.undecided += count
    return [rows[key] for key in sorted(rows)]
