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
from functools import lru_cache
from typing import Any

from sqlalchemy import Select, String, and_, bindparam, func, select, true, tuple_, union
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from engine.base import paging
from engine.base.clock import now
from engine.base.vocabulary import HumanTaskState, InstanceStatus, SignerKind, SignerState
from engine.people.access import (
    Actor,
    Branch,
    branch_ids,
    instance_branches,
    may_claim,
    task_assigned,
    task_offered,
    task_signing,
)
from engine.runtime.tasknames import matching_names
from engine.runtime.views import InstanceView, TaskView
from engine.store.db import Database
from engine.store.models import HumanTask, Instance, Organisation, ProcessVersion, TaskSigner, Urge, User


class Scope(StrEnum):
    """Which of the caller's tasks an inbox lists (the API's `scope`, the inbox page's tabs)."""

    ASSIGNED = "assigned"  # claimed by or delegated to the caller, or its turn to co-sign (加签)
    CANDIDATE = "candidate"  # offered to one of the caller's roles, nobody's yet
    ALL = "all"  # both


SORTS = ("created", "-created")
#: the human_tasks columns a page's TaskView is made of
PAGE_COLUMNS = ("id", "instance_id", "element_id", "name", "role", "org_id", "form", "state", "created_at", "due_at",
                "warn_at", "supervised_at", "assignee_id")
#: a case number or any piece of one (370202LYJJ-C20261201000001, LYJJ-C2026, 000001): letters, digits and hyphens
CASE_FRAGMENT = re.compile(r"(?=.*[0-9])[0-9A-Za-z-]+")
#: page statements kept built (`_statement`): one per user and filter shape in use
STATEMENTS = 512


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


def _case_fragment(q: str | None) -> str | None:
    """A case-number fragment (ASCII letters, digits and hyphens, at least one digit) searches case numbers, by a
    trigram index on PostgreSQL; anything else is a task-name search (`engine.runtime.tasknames`)."""
    return q if q and CASE_FRAGMENT.fullmatch(q) else None


@dataclass(frozen=True)
class _Shape:
    """Everything a page's statement is built from except the values bound into it: the same shape, the same
    statement, built once (`_statement`).  The actor is part of it — its id, organisation and roles decide the
    branches — so a cached statement never serves anyone else."""

    actor: Actor
    scope: Scope
    descending: bool
    process: bool
    overdue: bool
    due_before: bool
    by_case: bool
    cursor: bool
    limit: int


def list_tasks(db: Database, actor: Actor, flt: TaskFilter, cursor: str | None = None,
               limit: int | None = None) -> tuple[list[TaskView], str | None]:
    limit = paging.clamp(limit)
    q = (flt.q or "").strip() or None
    fragment = _case_fragment(q)
    values: dict[str, Any] = {"process": flt.process, "due_before": flt.due_before}
    if flt.overdue:
        values["now"] = now()
    if fragment:
        values["fragment"] = f"%{fragment}%"  # the fragment's characters are no LIKE wildcards
    if cursor:
        values["after_at"], values["after_id"] = paging.decode(cursor, (datetime, str))
    shape = _Shape(actor, flt.scope, flt.sort.startswith("-"), bool(flt.process), flt.overdue,
                   flt.due_before is not None, fragment is not None, cursor is not None, limit)
    with db.reading() as conn:  # plain reads, no transaction: no BEGIN and ROLLBACK round trips on PostgreSQL
        if q and fragment is None:  # a name search: only branches holding a matching name take part (not cached)
            names = matching_names(conn, scope_branches(actor, flt.scope), q)
            statement = _build(shape, names)
        else:
            statement = _statement(shape)
        rows = [] if statement is None else conn.execute(statement, values).all()
    views = [TaskView(r.id, r.instance_id, r.case_number, r.process_key, r.element_id, r.name, r.role, r.org, r.form,
                      r.state, r.created_at, r.due_at, r.warn_at, r.supervised_at is not None, r.urges,
                      r.holder, r.entrusted_by, may_claim(actor, r.role, r.org_id, r.assignee_id))
             for r in rows[:limit]]
    more = len(rows) > limit
    return views, paging.encode((views[-1].created_at, views[-1].id)) if more else None


@lru_cache(maxsize=STATEMENTS)
def _statement(shape: _Shape) -> Select[Any] | None:
    """The page statement of a shape, built once: building one costs as much Python as running it (5 ms)."""
    return _build(shape)


def _build(shape: _Shape, names: list[list[str]] | None = None) -> Select[Any] | None:
    """The page statement: per branch the first limit + 1 matching tasks by its index, their union cut to the
    page, then the page's rows (`_page`); None when a name search leaves no branch.  Values are bound by name."""
    key = (HumanTask.created_at, HumanTask.id)
    descending = shape.descending
    common: list[ColumnElement[bool]] = [HumanTask.state == HumanTaskState.READY,
                                         Instance.status == InstanceStatus.RUNNING]
    if shape.process:
        common.append(HumanTask.process_key == bindparam("process"))
    if shape.overdue:
        common.append(HumanTask.due_at < bindparam("now", type_=HumanTask.due_at.type))
    if shape.due_before:
        common.append(HumanTask.due_at < bindparam("due_before", type_=HumanTask.due_at.type))
    if shape.by_case:  # the matching cases found once (a CTE read once), not again in every branch
        cases = (select(Instance.id).where(Instance.case_number.like(bindparam("fragment")),
                                           Instance.status == InstanceStatus.RUNNING).cte("searched"))
        common.append(HumanTask.instance_id.in_(select(cases.c.id)))
    if shape.cursor:
        after = tuple_(bindparam("after_at", type_=HumanTask.created_at.type), bindparam("after_id", type_=String()))
        common.append(tuple_(*key) < after if descending else tuple_(*key) > after)
    order = [c.desc() for c in key] if descending else list(key)

    def branch(b: Branch, *where: ColumnElement[bool]) -> Select[Any]:
        ordered = (select(*key).join(Instance, Instance.id == HumanTask.instance_id)
                   .where(b.where, *where, *common)
                   .order_by(*(c.desc() if descending else c for c in b.fixed), *order)
                   .limit(shape.limit + 1).subquery())
        return select(ordered.c.created_at, ordered.c.id)  # wrapped: SQLite allows no ORDER BY in a UNION member

    branches = scope_branches(shape.actor, shape.scope)
    if names is None:
        parts = [branch(b) for b in branches]
    else:
        parts = [branch(b, HumanTask.name.in_(n)) for b, n in zip(branches, names, strict=True) if n]
    if not parts:
        return None
    merged = union(*parts).subquery()
    top = select(merged.c.id).order_by(*(c.desc() if descending else c for c in merged.c)).limit(shape.limit + 1)
    return _page(top.subquery(), order, shape.limit)


def _page(ids: Any, order: list[ColumnElement[Any]], limit: int) -> Select[Any]:
    """The page's rows (`ids`: the page's task ids, already cut to the page from the branches' union, so only they
    are joined) with what the inbox shows of each, in one statement: its case, organisation, holder, how often it
    was urged (催办) and who entrusted it (委派, while open), the last two by their task indexes.  Plain columns,
    not ORM objects: a page is read, never changed."""
    tasks, holder, entruster = HumanTask.__table__, aliased(User), aliased(User)
    urges = select(func.count()).where(Urge.task_id == tasks.c.id).scalar_subquery()
    entrusted = (select(entruster.display_name).join(TaskSigner, TaskSigner.added_by == entruster.id)
                 .where(TaskSigner.task_id == tasks.c.id, TaskSigner.kind == SignerKind.DELEGATE,
                        TaskSigner.state == SignerState.PENDING)
                 .order_by(TaskSigner.id.desc()).limit(1).scalar_subquery())
    return (select(*(tasks.c[c] for c in PAGE_COLUMNS), Instance.case_number, Instance.process_key,
                   Organisation.code.label("org"), holder.display_name.label("holder"), urges.label("urges"),
                   entrusted.label("entrusted_by"))
            .join(ids, ids.c.id == tasks.c.id)
            .join(Instance, Instance.id == tasks.c.instance_id)
            .outerjoin(Organisation, Organisation.id == tasks.c.org_id)
            .outerjoin(holder, holder.id == tasks.c.assignee_id)
            .order_by(*order).limit(limit + 1))


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
        return branch_ids(query, Instance.id.type)

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
