"""Claiming, releasing and delegating a human task — task rows only, the workflow is untouched.

Each change is one conditional UPDATE (`… WHERE assignee_id IS NULL`), so two clerks who claim
the same task at the same moment cannot both win; the loser gets a conflict.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound, TongbanError
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus, SignerKind, SignerState
from engine.people.access import Actor, can_see_task, may_claim, may_do_task, may_hand_over, may_release
from engine.people.accounts import load_actor, role_holders
from engine.store.db import Database
from engine.store.models import Event, HumanTask, Instance, TaskSigner, User


def _task(session: Session, task_id: str, actor: Actor) -> HumanTask:
    task = session.get(HumanTask, task_id)
    if task is None or not can_see_task(actor, task.role, task.org_id, task.assignee_id):
        raise NotFound(f"任务不存在 (no task {task_id})")
    status = session.scalar(select(Instance.status).where(Instance.id == task.instance_id))
    if task.state != HumanTaskState.READY or status != InstanceStatus.RUNNING:
        raise Conflict("任务已不可办理 (task is no longer open)")
    return task


def _not_entrusted(session: Session, task: HumanTask) -> None:
    """While a 委派 is open (engine/runtime/signers.py) the task goes back to its delegator: releasing it or handing
    it on would lose the way back."""
    open_delegation = select(TaskSigner.id).where(TaskSigner.task_id == task.id, TaskSigner.kind == SignerKind.DELEGATE,
                                                  TaskSigner.state == SignerState.PENDING)
    if session.scalar(open_delegation) is not None:
        raise Conflict("任务已委派，须由受托人交回 (the task is entrusted: the delegate gives it back first)")


def _assign(session: Session, task: HumanTask, expected: int | None, new: int | None, actor: Actor,
            kind: str, detail: dict[str, object] | None = None) -> None:
    guard = HumanTask.assignee_id.is_(None) if expected is None else HumanTask.assignee_id == expected
    ready = HumanTask.state == HumanTaskState.READY
    done = session.execute(update(HumanTask).where(HumanTask.id == task.id, ready, guard).values(assignee_id=new))
    if done.rowcount != 1:
        raise Conflict("任务已被他人认领 (the task was claimed by someone else; reload)")
    session.execute(insert(Event).values(instance_id=task.instance_id, at=now(), kind=kind, task_id=task.id,
                                         element_id=task.element_id, user_id=actor.id, detail=detail))


def claim(db: Database, task_id: str, actor: Actor) -> None:
    with db.write() as session:
        task = _task(session, task_id, actor)
        if task.assignee_id == actor.id:
            return  # claiming what one holds changes nothing
        if task.assignee_id is not None:
            raise Conflict("任务已被他人认领 (the task is claimed by someone else)")
        if not may_claim(actor, task.role, task.org_id, None):
            raise Forbidden(f"该任务需要角色 {task.role} (task needs the role {task.role} in its organisation)")
        _assign(session, task, None, actor.id, actor, EventKind.TASK_CLAIMED)


def unclaim(db: Database, task_id: str, actor: Actor) -> None:
    with db.write() as session:
        task = _task(session, task_id, actor)
        if task.assignee_id is None:
            return
        if not may_release(actor, task.assignee_id):
            raise Forbidden("只能退回自己认领的任务 (only the assignee or an administrator may release it)")
        _not_entrusted(session, task)
        _assign(session, task, task.assignee_id, None, actor, EventKind.TASK_UNCLAIMED)


def delegate(db: Database, task_id: str, username: str, actor: Actor) -> None:
    """Hand a task to a colleague who could do it: same role, same organisation."""
    with db.write() as session:
        task = _task(session, task_id, actor)
        if not may_hand_over(actor, task.role, task.org_id, task.assignee_id):
            raise Forbidden("只能转交自己认领或可认领的任务 (only your own or claimable tasks can be delegated)")
        _not_entrusted(session, task)
        try:
            target = load_actor(session, username)
        except NotFound:
            raise NotFound(f"用户不存在 (no active user {username!r})", {"user": ["unknown user"]}) from None
        if not may_do_task(target, task.role, task.org_id, None):
            raise Forbidden(f"{username} 不具备该任务的角色 (user lacks the role {task.role} in the organisation)",
                            {"user": ["cannot do this task"]})
        _assign(session, task, task.assignee_id, target.id, actor, EventKind.TASK_DELEGATED, {"to": username})


def colleagues(db: Database, task_id: str, actor: Actor) -> list[dict[str, str]]:
    """Who this task could be delegated to: active users with its role in its organisation, not the caller."""
    with db.read() as session:
        task = _task(session, task_id, actor)
        query = (role_holders(task.role, task.org_id, User.username, User.display_name)
                 .where(User.id != actor.id).order_by(User.username))
        return [{"username": u, "display_name": d} for u, d in session.execute(query)]


#: the most tasks one bulk claim takes (an inbox page holds 20)
MAX_BULK_CLAIM = 50


@dataclass(frozen=True)
class Claimed:
    """One task of a bulk claim: its case number and name (None for a task the caller may not see), and the
    error that kept it from being claimed (None: claimed)."""

    task_id: str
    case_number: str | None
    name: str | None
    error: TongbanError | None


def claim_many(db: Database, task_ids: list[str], actor: Actor) -> list[Claimed]:
    """批量认领: each task claimed on its own (`claim`, its own checks and transaction), so one that someone else
    took meanwhile, or that the caller may not claim, fails alone and the others are still claimed."""
    if not task_ids or len(task_ids) > MAX_BULK_CLAIM:
        raise FormInvalid(f"请选择 1 到 {MAX_BULK_CLAIM} 个任务 (select 1 to {MAX_BULK_CLAIM} tasks)",
                          {"/tasks": [f"1..{MAX_BULK_CLAIM} task ids"]})
    errors: dict[str, TongbanError | None] = {}
    for task_id in dict.fromkeys(task_ids):
        try:
            claim(db, task_id, actor)
            errors[task_id] = None
        except TongbanError as exc:
            errors[task_id] = exc
    seen = [t for t, e in errors.items() if not isinstance(e, NotFound)]  # what the caller may know the names of
    with db.read() as session:
        names = {i: (c, n) for i, c, n in session.execute(
            select(HumanTask.id, Instance.case_number, HumanTask.name)
            .join(Instance, Instance.id == HumanTask.instance_id).where(HumanTask.id.in_(seen)))}
    return [Claimed(t, *names.get(t, (None, None)), e) for t, e in errors.items()]
