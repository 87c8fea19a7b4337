"""The lists beside the inbox: 已办 (tasks I completed), 我发起的 (cases I started), 抄送我的 (cases copied to me).

Each is one person's rows, read along one index in its own order — (completed_by, completed_at, id),
(started_by, id), (user_id, id) — with the filters applied on the way and a keyset cursor, so a page costs
the same whether the person has ten rows or a million, and however many rows everybody else has. They are
scoped by construction: each holds only what the caller did, started or was sent, and 我发起的 of an
enterprise user only its own enterprise's cases (someone who moved to another enterprise loses the old ones).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, func, select, tuple_, union
from sqlalchemy.sql.elements import ColumnElement

from engine.base import paging
from engine.base.vocabulary import HumanTaskState, InstanceStatus, OrgKind
from engine.case.casesummary import open_steps
from engine.people.access import Actor, branch_ids, copied_to, started_by
from engine.runtime.inbox import CASE_FRAGMENT, Scope, scope_branches
from engine.store.db import Database
from engine.store.models import CarbonCopy, HumanTask, Instance, User

#: counts above this are shown as "999+": a tab's number must not cost a scan of someone's whole history
COUNT_CAP = 1000


class WorkList(StrEnum):
    """The inbox page's tabs besides the inbox itself."""

    DONE = "done"  # 已办
    STARTED = "started"  # 我发起的
    COPIED = "copied"  # 抄送我的


@dataclass(frozen=True)
class ListFilter:
    process: str | None = None
    status: str | None = None  # the case's status now (engine/base/vocabulary.py InstanceStatus)
    since: datetime | None = None  # the period: when the task was done, the case started, the copy made
    until: datetime | None = None
    q: str | None = None  # a case-number fragment (and, in 已办, a fragment of the step's name)
    unread: bool = False  # 抄送我的 only: copies not read yet


@dataclass
class CaseState:
    """Where a listed case stands now: its status, outcome and the steps open in it."""

    instance_id: int
    case_number: str
    process_key: str
    status: str
    outcome: str | None
    current_steps: list[str]


@dataclass
class WorkItem:
    """One row of a work list: the case as it stands, and what the list is about (a task done, a copy)."""

    case: CaseState
    at: datetime  # when the task was done, the case started or the copy made
    task_id: str | None = None  # 已办: the task completed, and its step's name
    task_name: str | None = None
    by: str | None = None  # 抄送我的: who copied it (None: the process's own `cc`)
    reason: str | None = None
    read_at: datetime | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _case_filters(flt: ListFilter, process: Any = Instance.process_key) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if flt.process:
        where.append(process == flt.process)
    if flt.status:
        where.append(Instance.status == flt.status)
    if flt.q and CASE_FRAGMENT.fullmatch(flt.q):
        where.append(Instance.case_number.like(f"%{flt.q}%"))
    return where


def _period(column: Any, flt: ListFilter) -> list[ColumnElement[bool]]:
    return [*([column >= flt.since] if flt.since else []), *([column < flt.until] if flt.until else [])]


def _done(actor: Actor, flt: ListFilter) -> tuple[Select[Any], tuple[Any, ...], tuple[type, ...]]:
    where = [HumanTask.completed_by == actor.id, HumanTask.state == HumanTaskState.COMPLETED,
             *_case_filters(flt, HumanTask.process_key), *_period(HumanTask.completed_at, flt)]
    if flt.q and not CASE_FRAGMENT.fullmatch(flt.q):
        where.append(HumanTask.name.like(f"%{flt.q}%"))
    query = (select(Instance.id, HumanTask.completed_at.label("at"), HumanTask.id.label("task_id"),
                    HumanTask.name.label("task_name"))
             .join(Instance, Instance.id == HumanTask.instance_id).where(*where))
    return query, (HumanTask.completed_at, HumanTask.id), (datetime, str)


def _started(actor: Actor, flt: ListFilter) -> tuple[Select[Any], tuple[Any, ...], tuple[type, ...]]:
    where = [started_by(actor).where, *_case_filters(flt), *_period(Instance.created_at, flt)]
    if actor.org_kind == OrgKind.ENTERPRISE:
        where.append(Instance.enterprise_id == actor.org_id)
    return select(Instance.id, Instance.created_at.label("at")).where(*where), (Instance.id,), (int,)


def _copied(actor: Actor, flt: ListFilter) -> tuple[Select[Any], tuple[Any, ...], tuple[type, ...]]:
    where = [copied_to(actor).where, *_case_filters(flt), *_period(CarbonCopy.at, flt)]
    if flt.unread:
        where.append(CarbonCopy.read_at.is_(None))
    query = (select(Instance.id, CarbonCopy.at, User.username.label("by"), CarbonCopy.reason, CarbonCopy.read_at)
             .join(Instance, Instance.id == CarbonCopy.instance_id)
             .outerjoin(User, User.id == CarbonCopy.by_user_id).where(*where))
    return query, (CarbonCopy.id,), (int,)


_QUERIES = {WorkList.DONE: _done, WorkList.STARTED: _started, WorkList.COPIED: _copied}


def work_list(db: Database, actor: Actor, which: WorkList, flt: ListFilter, cursor: str | None = None,
              limit: int | None = None) -> tuple[list[WorkItem], str | None]:
    """One page of a work list, newest first, and the cursor of the next page (None on the last)."""
    limit = paging.clamp(limit)
    query, key, kinds = _QUERIES[which](actor, flt)
    if cursor:
        query = query.where(tuple_(*key) < paging.decode(cursor, kinds))
    query = query.add_columns(*(k.label(f"key{i}") for i, k in enumerate(key)))
    query = query.add_columns(Instance.case_number, Instance.process_key, Instance.status, Instance.outcome)
    with db.reading() as conn:
        rows = conn.execute(query.order_by(*(k.desc() for k in key)).limit(limit + 1)).all()
    steps = open_steps(db, {r.id for r in rows[:limit]})
    items = []
    for r in rows[:limit]:
        extra = {k: getattr(r, k) for k in ("task_id", "task_name", "by", "reason", "read_at") if k in r._fields}
        items.append(WorkItem(CaseState(r.id, r.case_number, r.process_key, r.status, r.outcome,
                                        [name for name, _ in steps.get(r.id, [])]), r.at, **extra))
    last = rows[limit - 1] if len(rows) > limit else None
    return items, paging.encode(tuple(getattr(last, f"key{i}") for i in range(len(key)))) if last else None


def _capped(query: Select[Any], conn: Any) -> int:
    return conn.execute(select(func.count()).select_from(query.limit(COUNT_CAP).subquery())).scalar_one()


def counts(db: Database, actor: Actor) -> dict[str, int]:
    """The number on each tab of the inbox page (each at most COUNT_CAP): open tasks, done, started, copies
    and unread copies."""
    empty = ListFilter()
    branches = [select(HumanTask.id).join(Instance, Instance.id == HumanTask.instance_id)
                .where(b.where, HumanTask.state == HumanTaskState.READY, Instance.status == InstanceStatus.RUNNING)
                .limit(COUNT_CAP) for b in scope_branches(actor, Scope.ALL)]
    with db.reading() as conn:
        found = {which.value: _capped(_QUERIES[which](actor, empty)[0], conn) for which in WorkList}
        found["copied_unread"] = _capped(_copied(actor, ListFilter(unread=True))[0], conn)
        inbox = union(*(branch_ids(b, HumanTask.id.type) for b in branches)).subquery()
        found["inbox"] = _capped(select(inbox.c.id), conn)
    return found
