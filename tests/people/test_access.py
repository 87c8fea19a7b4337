"""The visibility rule has one SQL form (for lists) and one in-memory form (for the hot path): they agree."""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import select

from engine.base.clock import now
from engine.base.errors import Forbidden
from engine.people.access import Actor, can_see_task, scope_tasks
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask


def test_sql_and_in_memory_visibility_agree(runtime: Runtime) -> None:
    view = runtime.start("sample_approval", {"title": "可见性", "amount": 1}, runtime.actor("haiyun"))
    actors = [runtime.actor(u) for u in ("haiyun", "fushan", "window", "zhujian", "admin")]
    org_ids = [*sorted({a.org_id for a in actors}), None]
    roles = ["applicant", "window_clerk", "reviewer_zhujian", None]
    assignees = [None, actors[0].id, actors[2].id]
    rows = []
    for n, (role, org_id, assignee) in enumerate(itertools.product(roles, org_ids, assignees)):
        rows.append(HumanTask(id=f"t{n:04d}", instance_id=view.id, process_id="p", element_id="e", name="n",
                              role=role, org_id=org_id, form=None, state="ready", assignee_id=assignee,
                              created_at=now()))
    with runtime.db.write() as session:
        session.add_all(rows)
    for actor in actors:
        with runtime.db.read() as session:
            in_sql = set(session.scalars(scope_tasks(select(HumanTask.id).where(HumanTask.id.like("t%")), actor)))
        in_memory = {r.id for r in rows if can_see_task(actor, r.role, r.org_id, r.assignee_id)}
        assert in_sql == in_memory, actor.username
        assert in_sql, actor.username  # every actor sees something in this matrix: the check is not vacuous


def test_an_administrator_sees_everything_but_only_does_its_own_roles_work(runtime: Runtime) -> None:
    admin: Actor = runtime.actor("admin")
    view = runtime.start("sample_approval", {"title": "管理员", "amount": 1}, runtime.actor("haiyun"))
    [task] = runtime.tasks(admin)
    assert task.id == view.open_tasks[0].id
    with pytest.raises(Forbidden, match="applicant"):
        runtime.complete(task.id, {}, admin)
