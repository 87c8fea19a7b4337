"""The task inbox and the case list: filtered, scoped to the caller, keyset-paged.

The inbox query is a UNION of narrow branches — one per (role, organisation) the caller can
act for, plus "assigned to me" — each of which an index answers in order, so the first page
costs the same with a thousand open tasks or a million.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, Select, and_, select, true, tuple_, union
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from engine.base import paging
from engine.base.clock import now
from engine.base.vocabulary import HumanTaskState, InstanceStatus, SignerKind, SignerState
from engine.people.access import (
    Actor,
    Branch,
    instance_branches,
    may_claim,
    task_assigned,
    task_offered,
    task_signing,
)
from engine.runtime.tasknames import matching_names
from engine.runtime.urging import urge_counts
from engine.runtime.views import InstanceView, TaskView
from engine.store.db import Database
from engine.store.models import HumanTask, Instance, Organisation, ProcessVersion, TaskSigner, User


class Scope(StrEnum):
    """Which of the caller's tasks an inbox lists (the API's `scope`, the inbox page's tabs)."""

    ASSIGNED = "assigned"  # claimed by or delegated to the caller, or its turn to co-sign (加签)
    CANDIDATE = "candidate"  # offered to one of the caller's roles, nobody's yet
    ALL = "all"  # both


SORTS = ("created", "-created")
#: a case number or any piece of one (370202LYJJ-C20261201000001, LYJJ-C2026, 000001): letters, digits and hyphens
CASE_FRAGMENT = re.compile(r"(?=.*[0-9])[0-9A-Za-z-]+")


@dataclass(frozen=True)
class TaskFilter:
    scope: Scope = Scope.ALL
    process: str | None = None
    overdue: bool = False
    due_before: datetime | None = None
    q: str | None = None
    sort: str = "created"


def scope_branches(actor: Actor, scope: Scope) -> list[Branch]:
    """One index-friendly branch per way the actor can see a task (see `engine.people.access.Branch`)."""
    if actor.is_admin and scope == Scope.ALL:
        return [Branch(true())]
    turn = task_signing(actor, (SignerState.PENDING,))  # a co-signer's item: while it is its turn to sign
    if scope == Scope.ASSIGNED:
        return [task_assigned(actor), turn]
    if scope == Scope.CANDIDATE:
        return [replace(b, where=and_(b.where, HumanTask.assignee_id.is_(None))) for b in task_offered(actor)]
    return [task_assigned(actor), turn, *task_offered(actor)]


def _case_number_search(q: str) -> ColumnElement[bool] | None:
    """A case-number fragment (ASCII letters and digits, at least one digit) searches case numbers, by a
    trigram index on PostgreSQL; anything else is a task-name search (`engine.runtime.tasknames`)."""
    if not CASE_FRAGMENT.fullmatch(q):
        return None
    return Instance.case_number.like(f"%{q}%")


def list_tasks(db: Database, actor: Actor, flt: TaskFilter, cursor: str | None = None,
               limit: int | None = None) -> tuple[list[TaskView], str | None]:
    limit = paging.clamp(limit)
    descending = flt.sort.startswith("-")
    key = (HumanTask.created_at, HumanTask.id)
    common: list[ColumnElement[bool]] = [HumanTask.state == HumanTaskState.READY,
                                         Instance.status == InstanceStatus.RUNNING]
    if flt.process:
        common.append(HumanTask.process_key == flt.process)
    if flt.overdue:
        common.append(HumanTask.due_at < now())
    if flt.due_before:
        common.append(HumanTask.due_at < flt.due_before)
    q = (flt.q or "").strip() or None
    by_case = _case_number_search(q) if q else None
    if by_case is not None:
        common.append(by_case)
    if cursor:
        after = paging.decode(cursor, (datetime, str))
        common.append(tuple_(*key) < after if descending else tuple_(*key) > after)
    order = [c.desc() for c in key] if descending else list(key)

    def branch(b: Branch, *where: ColumnElement[bool]) -> Select[Any]:
        ordered = (select(HumanTask.id).join(Instance, Instance.id == HumanTask.instance_id)
                   .where(b.where, *where, *common)
                   .order_by(*(c.desc() if descending else c for c in b.fixed), *order)
                   .limit(limit + 1).subquery())
        return select(ordered.c.id)  # wrapped: SQLite allows no ORDER BY inside a UNION member

    branches = scope_branches(actor, flt.scope)
    with db.read() as session:
        if q and by_case is None:  # a name search: only branches holding a matching name take part
            names = matching_names(session.connection(), branches, q)
            parts = [branch(b, HumanTask.name.in_(n)) for b, n in zip(branches, names, strict=True) if n]
        else:
            parts = [branch(b) for b in branches]
        if not parts:
            return [], None
        ids = union(*parts).subquery()
        holder = aliased(User)
        query = (select(HumanTask, Instance.case_number, Instance.process_key, Organisation.code,
                        holder.display_name)
                 .join(ids, ids.c.id == HumanTask.id)
                 .join(Instance, Instance.id == HumanTask.instance_id)
                 .outerjoin(Organisation, Organisation.id == HumanTask.org_id)
                 .outerjoin(holder, holder.id == HumanTask.assignee_id)
                 .order_by(*order).limit(limit + 1))
        rows = session.execute(query).all()
        page = [t.id for t, *_ in rows[:limit]]
        urged = urge_counts(session.connection(), page)
        delegates = entrusted_by(session.connection(), page)
    views = [TaskView(t.id, t.instance_id, case, key_, t.element_id, t.name, t.role, org, t.form, t.state,
                      t.created_at, t.due_at, t.warn_at, t.supervised_at is not None, urged.get(t.id, 0),
                      holder_name, delegates.get(t.id), may_claim(actor, t.role, t.org_id, t.assignee_id))
             for t, case, key_, org, holder_name in rows[:limit]]
    more = len(rows) > limit
    return views, paging.encode((views[-1].created_at, views[-1].id)) if more else None


def entrusted_by(conn: Connection, task_ids: list[str]) -> dict[str, str]:
    """Task id → the display name of whoever entrusted it (委派, still open) to its assignee, the delegate, who gives
    it back to them (the page's tasks only: a few rows of task_signers by their task index)."""
    if not task_ids:
        return {}
    query = (select(TaskSigner.task_id, User.display_name).join(User, User.id == TaskSigner.added_by)
             .where(TaskSigner.task_id.in_(task_ids), TaskSigner.kind == SignerKind.DELEGATE,
                    TaskSigner.state == SignerState.PENDING))
    return {task_id: name for task_id, name in conn.execute(query)}


@dataclass(frozen=True)
class InstanceFilter:
    status: str | None = None
    outcome: str | None = None  # engine/base/vocabulary.py Outcome
    process: str | None = None
    case_number: str | None = None
    started_by_me: bool = False
    started_from: datetime | None = None
    started_to: datetime | None = None


def list_instances(db: Database, actor: Actor, flt: InstanceFilter, cursor: str | None = None,
                   limit: int | None = None) -> tuple[list[InstanceView], str | None]:
    """Cases the actor may see, newest first: the top of each `instance_branches` piece, merged."""
    limit = paging.clamp(limit)
    common: list[ColumnElement[bool]] = []
    if flt.status:
        common.append(Instance.status == flt.status)
    if flt.outcome:
        common.append(Instance.outcome == flt.outcome)
    if flt.process:
        common.append(Instance.process_key == flt.process)
    if flt.case_number:
        common.append(Instance.case_number == flt.case_number)
    if flt.started_by_me:
        common.append(Instance.started_by == actor.id)
    if flt.started_from:
        common.append(Instance.created_at >= flt.started_from)
    if flt.started_to:
        common.append(Instance.created_at < flt.started_to)
    (before,) = paging.decode(cursor, (int,)) if cursor else (None,)

    def branch(instance_id: ColumnElement[int], b: Branch) -> Select[Any]:
        # The cursor goes on the branch's own id column, so that it bounds that branch's index range;
        # the fixed columns are selected too, as PostgreSQL wants DISTINCT to cover the ORDER BY.
        query = (select(instance_id.label("id"), *b.fixed)
                 .where(b.where, *common, *([] if before is None else [instance_id < before]))
                 .order_by(*(c.desc() for c in b.fixed), instance_id.desc()).limit(limit + 1))
        if instance_id is not Instance.id:  # through tasks, several of which may lead to one case
            query = query.distinct()
            if common:
                query = query.join(Instance, Instance.id == instance_id)
        return select(query.subquery().c.id)

    ids = union(*(branch(*b) for b in instance_branches(actor))).subquery()
    query = (select(Instance.id, Instance.case_number, Instance.process_key, ProcessVersion.version,
                    Instance.status, Instance.error_message, Instance.error_element, Instance.outcome)
             .join(ids, ids.c.id == Instance.id)
             .join(ProcessVersion, ProcessVersion.id == Instance.version_id)
             .order_by(Instance.id.desc()).limit(limit + 1))
    with db.reading() as conn:
        rows = conn.execute(query).all()
    views = [InstanceView(*row[:-1], outcome=row.outcome) for row in rows[:limit]]
    return views, paging.encode((views[-1].id,)) if len(rows) > limit else None
