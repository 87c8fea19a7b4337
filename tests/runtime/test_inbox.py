"""The inbox and the case list are UNIONs of per-branch index reads: they must return exactly what the
plain scoped query (`scope_tasks` / `scope_instances`, one OR-ed condition) returns, page after page."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from engine.base.clock import now
from engine.people.access import Actor, scope_instances, scope_tasks
from engine.runtime.inbox import InstanceFilter, TaskFilter, list_instances, list_tasks
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, Instance

USERS = ("haiyun", "fushan", "window", "zhujian", "admin", "inspector")
SAMPLE, OTHER = "sample_approval", "other_process"


def _matrix(runtime: Runtime) -> tuple[list[Actor], list[int]]:
    """Three running cases (two enterprises) and one ended, with tasks in (almost) every (role, org, assignee,
    state) combination, created out of order, so ordering and scoping mistakes show."""
    actors = [runtime.actor(u) for u in USERS]
    starts = [("haiyun", "甲申请"), ("fushan", "乙申请"), ("haiyun", "丙申请"), ("fushan", "丁申请")]
    ids = [runtime.start(SAMPLE, {"title": title, "amount": 1}, runtime.actor(who)).id
           for who, title in starts]
    org_ids = [*sorted({a.org_id for a in actors}), None]
    combos = itertools.product(ids, ["applicant", "window_clerk", "reviewer_zhujian", None], org_ids,
                               [None, actors[0].id, actors[2].id], ["ready", "completed"])
    base = now()
    rows = [HumanTask(id=f"m{n:05d}", instance_id=iid, process_id="p", process_key=OTHER if iid == ids[2] else SAMPLE,
                      element_id="e", name=("窗口受理", "住建审查")[n % 3 == 0], role=role, org_id=org_id, form=None,
                      state=state, assignee_id=assignee, created_at=base - timedelta(minutes=(n * 37) % 500),
                      due_at=base + timedelta(hours=(n % 5) - 2))
            for n, (iid, role, org_id, assignee, state) in enumerate(combos)
            if iid != ids[1] or role is None]  # the second case is visible to staff only as assignees
    with runtime.db.write() as session:
        session.add_all(rows)
        session.execute(update(Instance).where(Instance.id == ids[3]).values(status="completed"))
        # a second process: the case and all its tasks, the runtime's own included
        session.execute(update(Instance).where(Instance.id == ids[2]).values(process_key=OTHER))
        session.execute(update(HumanTask).where(HumanTask.instance_id == ids[2]).values(process_key=OTHER))
    return actors, ids


def _all_pages(fetch: Any, limit: int) -> list[Any]:
    seen, cursor = [], None
    while True:
        items, cursor = fetch(cursor, limit)
        seen.extend(items)
        if cursor is None:
            return seen


def _expected_tasks(runtime: Runtime, actor: Actor, flt: TaskFilter) -> list[str]:
    query = (select(HumanTask.id).join(Instance, Instance.id == HumanTask.instance_id)
             .where(HumanTask.state == "ready", Instance.status == "running"))
    if flt.process:
        query = query.where(Instance.process_key == flt.process)  # the copied column must say the same
    if flt.scope == "assigned":
        query = query.where(HumanTask.assignee_id == actor.id)
    elif flt.scope == "candidate":
        query = query.where(HumanTask.assignee_id.is_(None), HumanTask.role.in_(actor.roles))
    if flt.overdue:
        query = query.where(HumanTask.due_at < now())
    if flt.due_before:
        query = query.where(HumanTask.due_at < flt.due_before)
    if flt.q:
        query = query.where(HumanTask.name.contains(flt.q) | Instance.case_number.contains(flt.q))
    key = (HumanTask.created_at, HumanTask.id)
    query = scope_tasks(query, actor).order_by(*(c.desc() for c in key) if flt.sort == "-created" else key)
    with runtime.db.read() as session:
        return list(session.scalars(query))


@pytest.mark.parametrize("limit", [1, 7, 50])
def test_the_task_inbox_pages_through_exactly_what_the_plain_scoped_query_finds(runtime: Runtime, limit: int) -> None:
    actors, _ = _matrix(runtime)
    filters = [TaskFilter(), TaskFilter(sort="-created"), TaskFilter(process=OTHER),
               TaskFilter(process=SAMPLE, sort="-created"), TaskFilter(scope="assigned"),
               TaskFilter(scope="candidate"), TaskFilter(overdue=True), TaskFilter(q="住建"),
               TaskFilter(due_before=now() + timedelta(minutes=30), sort="-created")]
    for actor, flt in itertools.product(actors, filters):
        got = _all_pages(lambda cursor, n, a=actor, f=flt: list_tasks(runtime.db, a, f, cursor, n), limit)
        expected = _expected_tasks(runtime, actor, flt)
        assert [t.id for t in got] == expected, (actor.username, flt)
    assert any(_expected_tasks(runtime, a, TaskFilter(process=OTHER)) for a in actors)  # not vacuous
    soon = filters[-1]
    assert any(0 < len(_expected_tasks(runtime, a, soon)) < len(_expected_tasks(runtime, a, TaskFilter()))
               for a in actors)  # the due-before filter keeps some tasks and leaves others


def test_q_searches_case_numbers_by_fragment_and_task_names_by_text(runtime: Runtime) -> None:
    actors, ids = _matrix(runtime)
    window = actors[2]
    with runtime.db.read() as session:
        case = session.scalar(select(Instance.case_number).where(Instance.id == ids[1]))
    found = list_tasks(runtime.db, window, TaskFilter(q=case[-8:]), None, 200)[0]
    assert found and {t.case_number for t in found} == {case}
    assert [t.id for t in found] == _expected_tasks(runtime, window, TaskFilter(q=case[-8:]))
    by_name = list_tasks(runtime.db, window, TaskFilter(q="受理"), None, 200)[0]
    assert by_name and {t.name for t in by_name} == {"窗口受理"}


@pytest.mark.parametrize("limit", [1, 2, 50])
def test_the_case_list_pages_through_exactly_what_scope_instances_finds(runtime: Runtime, limit: int) -> None:
    actors, _ = _matrix(runtime)
    filters = [InstanceFilter(), InstanceFilter(status="running"), InstanceFilter(status="completed"),
               InstanceFilter(process=OTHER)]
    for actor, flt in itertools.product(actors, filters):
        got = _all_pages(lambda cursor, n, a=actor, f=flt: list_instances(runtime.db, a, f, cursor, n), limit)
        query = select(Instance.id).order_by(Instance.id.desc())
        if flt.status:
            query = query.where(Instance.status == flt.status)
        if flt.process:
            query = query.where(Instance.process_key == flt.process)
        with runtime.db.read() as session:
            expected = list(session.scalars(scope_instances(query, actor)))
        assert [v.id for v in got] == expected, (actor.username, flt)
    assert list_instances(runtime.db, actors[-1], InstanceFilter())[0] == []  # the inspector has no tasks here


def test_the_runtime_copies_the_process_key_onto_each_task(runtime: Runtime) -> None:
    haiyun = runtime.actor("haiyun")
    view = runtime.start(SAMPLE, {"title": "流程键", "amount": 1}, haiyun)
    with runtime.db.read() as session:
        keys = set(session.scalars(select(HumanTask.process_key).where(HumanTask.instance_id == view.id)))
    assert keys == {SAMPLE}
    assert [t.id for t in list_tasks(runtime.db, haiyun, TaskFilter(process=SAMPLE))[0]] == [view.open_tasks[0].id]
    assert list_tasks(runtime.db, haiyun, TaskFilter(process=OTHER))[0] == []
