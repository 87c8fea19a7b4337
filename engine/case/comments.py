"""Comments on a case (optionally on one of its tasks).

Every read and write goes through `visible_instance`, the same scope as the case list, so a
comment on another enterprise's case is simply not found.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from engine.base.clock import now
from engine.base.errors import FormInvalid, NotFound
from engine.base.vocabulary import EventKind
from engine.people.access import Actor, scope_instances
from engine.store.db import Database
from engine.store.models import Comment, Event, HumanTask, Instance, User

MAX_COMMENT = 2000


def visible_instance(session: Session, instance_id: int, actor: Actor) -> Instance:
    """The case, if the actor sees it; without its workflow state (tens of KB nobody here reads: a page showing the
    case's comments and files has read it once already)."""
    query = select(Instance).options(defer(Instance.state)).where(Instance.id == instance_id)
    instance = session.scalar(scope_instances(query, actor))
    if instance is None:
        raise NotFound(f"办件不存在 (no case {instance_id})")
    return instance


def task_of(session: Session, instance_id: int, task_id: str | None) -> str | None:
    if task_id is not None and session.scalar(select(HumanTask.id).where(
            HumanTask.id == task_id, HumanTask.instance_id == instance_id)) is None:
        raise NotFound(f"任务不存在 (no task {task_id} in this case)", {"task_id": ["not in this case"]})
    return task_id


@dataclass
class CommentView:
    id: int
    instance_id: int
    task_id: str | None
    author: str
    body: str
    created_at: datetime

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "created_at": self.created_at.isoformat()}


def add_comment(db: Database, instance_id: int, body: str, actor: Actor, task_id: str | None = None) -> CommentView:
    text = (body or "").strip()
    if not text or len(text) > MAX_COMMENT:
        raise FormInvalid("意见内容须为 1 到 2000 个字符 (a comment must have 1 to 2000 characters)",
                          {"/body": ["length must be 1..2000"]})
    with db.write() as session:
        visible_instance(session, instance_id, actor)
        comment = Comment(instance_id=instance_id, task_id=task_of(session, instance_id, task_id),
                          user_id=actor.id, body=text, created_at=now())
        session.add(comment)
        session.flush()
        session.add(Event(instance_id=instance_id, at=comment.created_at, kind=EventKind.COMMENTED, task_id=task_id,
                          user_id=actor.id, detail={"comment_id": comment.id}))
    return CommentView(comment.id, instance_id, task_id, actor.username, text, comment.created_at)


def list_comments(db: Database, instance_id: int, actor: Actor) -> list[CommentView]:
    with db.read() as session:
        visible_instance(session, instance_id, actor)
        rows = session.execute(select(Comment, User.username).join(User, User.id == Comment.user_id)
                               .where(Comment.instance_id == instance_id).order_by(Comment.id)).all()
    return [CommentView(c.id, c.instance_id, c.task_id, name, c.body, c.created_at) for c, name in rows]
