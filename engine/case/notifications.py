"""In-app notifications: raised once per (user, kind, subject), listed and marked read by their owner only.

A notice addressed to a role is fanned out to the users holding it when raised (one row each, so
each reads it on their own); someone given the role later does not receive old notices.  A row
for a user with an e-mail address is also queued for mailing (engine/background/mail.py).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, bindparam, case, cast, func, literal, null, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.base import paging
from engine.base.clock import now
from engine.base.errors import NotFound
from engine.base.notice import Notice
from engine.base.vocabulary import MailState, NoticeKind
from engine.case.output import StepOutput
from engine.people.access import Actor, notification_visible
from engine.people.accounts import role_holders
from engine.store.db import Database
from engine.store.models import Notification, User
from engine.store.prepared import Prepared

KINDS = tuple(NoticeKind)


def holders(conn: Connection, role: str, org_id: int | None = None) -> list[int]:
    """Ids of the active users holding `role` (in `org_id`, when given)."""
    return list(conn.execute(role_holders(role, org_id, User.id).order_by(User.id)).scalars())


_INSERTS = {"postgresql": pg_insert, "sqlite": sqlite_insert}
#: one notice row, unless the user has it already (a notice is raised once per subject, kind and user); returns its
#: id, or no row when it was there
_INSERT_ONE = {name: Prepared(insert(Notification).on_conflict_do_nothing(index_elements=["subject", "kind", "user_id"])
                              .returning(Notification.id), keys=(
    "user_id", "role", "org_id", "kind", "subject", "instance_id", "task_id", "text_zh", "text_en", "created_at",
    "mail_state", "mail_next_at")) for name, insert in _INSERTS.items()}


#: what a role's notice gives each of its rows (`_fanned`), besides the holder, the role and the organisation
_NOTICE_KEYS = ("kind", "subject", "instance_id", "task_id", "text_zh", "text_en", "created_at")


def _fan_out(insert: Any, in_org: bool) -> Prepared:
    """A role's notice, one row per active holder (in the organisation `org`, when `in_org`) that does not have it
    yet, in one statement: who holds the role is not read first. A holder with an address gets the mail copy
    queued (mail_state pending, due at once). Returns the new rows' ids."""
    column = Notification.__table__.c
    mailed = User.email.is_not(None)
    role = bindparam("role", type_=column.role.type)
    org = bindparam("org", type_=column.org_id.type)
    given = {name: bindparam(name, type_=column[name].type) for name in _NOTICE_KEYS}
    holders = role_holders(
        role, org if in_org else None, User.id, role, org if in_org else cast(null(), column.org_id.type),
        *given.values(),
        case((mailed, literal(MailState.PENDING, column.mail_state.type))),
        case((mailed, given["created_at"]))).order_by(User.id)
    return Prepared(insert(Notification).from_select(
        ["user_id", "role", "org_id", *_NOTICE_KEYS, "mail_state", "mail_next_at"], holders)
        .on_conflict_do_nothing(index_elements=["subject", "kind", "user_id"]).returning(Notification.id))


#: by dialect: a role's notice to its holders everywhere, and to those in one organisation
_FAN_OUT = {name: _fan_out(insert, in_org=False) for name, insert in _INSERTS.items()}
_FAN_OUT_IN = {name: _fan_out(insert, in_org=True) for name, insert in _INSERTS.items()}


def raise_notice(conn: Connection, notice: Notice, user_ids: list[int], role: str | None = None,
                 org_id: int | None = None) -> int:
    """Insert the notice for each user that does not have it yet; returns how many rows were new."""
    if not user_ids:
        return 0
    # a user with an address gets an e-mail copy too: queued here, in the same transaction (engine/background/mail.py)
    mailed = set(conn.execute(select(User.id).where(User.id.in_(set(user_ids)), User.email.is_not(None))).scalars())
    return _insert(conn, notice, user_ids, mailed, role, org_id)


def raise_role_notice(conn: Connection, notice: Notice, role: str, org_id: int | None = None) -> int:
    """`raise_notice` to the active holders of `role` (in `org_id`, when given), found by the INSERT itself;
    returns how many rows were new."""
    return len(_fan_out_of(conn, org_id).all(conn, _fanned(notice, role, org_id)))


def send_role_notice(conn: Connection, notice: Notice, role: str, org_id: int | None = None) -> None:
    """`raise_role_notice` for a step's side products, which need not know how many were new: in a pipelined
    transaction (engine/store/pipeline.py) nothing waits for it."""
    _fan_out_of(conn, org_id).execute(conn, _fanned(notice, role, org_id))


def _fan_out_of(conn: Connection, org_id: int | None) -> Prepared:
    return (_FAN_OUT_IN if org_id is not None else _FAN_OUT)[conn.dialect.name]


def _fanned(notice: Notice, role: str, org_id: int | None) -> dict[str, Any]:
    return {"role": role, "org": org_id, "kind": notice.kind, "subject": notice.subject,
            "instance_id": notice.instance_id, "task_id": notice.task_id, "text_zh": notice.text_zh,
            "text_en": notice.text_en, "created_at": now()}


def _insert(conn: Connection, notice: Notice, user_ids: list[int], mailed: set[int], role: str | None,
            org_id: int | None) -> int:
    if not user_ids:
        return 0
    dialect_insert = _INSERTS[conn.dialect.name]
    at = now()
    rows = [{"user_id": u, "role": role, "org_id": org_id, "kind": notice.kind, "subject": notice.subject,
             "instance_id": notice.instance_id, "task_id": notice.task_id, "text_zh": notice.text_zh,
             "text_en": notice.text_en, "created_at": at, "mail_state": MailState.PENDING if u in mailed else None,
             "mail_next_at": at if u in mailed else None} for u in sorted(set(user_ids))]
    if len(rows) == 1:  # the usual case (one applicant, one holder): a statement prepared once
        return int(_INSERT_ONE[conn.dialect.name].first(conn, rows[0]) is not None)
    inserted = conn.execute(dialect_insert(Notification).values(rows).on_conflict_do_nothing(
        index_elements=["subject", "kind", "user_id"]).returning(Notification.id))  # rowcount is -1 on psycopg
    return len(inserted.all())


def raise_requested(conn: Connection, out: StepOutput) -> None:
    """The notices the step's service tasks asked for (`notify`), to the holders of each role (a side product)."""
    for asked in out.step.notices:
        org_id = out.org_id(conn, asked.org_code) if asked.org_code else None
        send_role_notice(conn, asked.notice(out.instance_id), asked.role, org_id)


def _view(n: Notification) -> dict[str, Any]:
    return {"id": n.id, "kind": n.kind, "instance_id": n.instance_id, "task_id": n.task_id, "role": n.role,
            "text": {"zh": n.text_zh, "en": n.text_en}, "created_at": n.created_at, "read_at": n.read_at}


def list_notifications(db: Database, actor: Actor, unread: bool = False, cursor: str | None = None,
                       limit: int | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The caller's own notices, newest first, keyset-paged by id."""
    limit = paging.clamp(limit)
    query = select(Notification).where(notification_visible(actor))
    if unread:
        query = query.where(Notification.read_at.is_(None))
    if cursor:
        (before,) = paging.decode(cursor, (int,))
        query = query.where(Notification.id < before)
    with db.read() as session:
        rows = session.scalars(query.order_by(Notification.id.desc()).limit(limit + 1)).all()
        items = [_view(n) for n in rows[:limit]]
    return items, paging.encode((items[-1]["id"],)) if len(rows) > limit else None


def mark_read(db: Database, notification_id: int, actor: Actor) -> dict[str, Any]:
    """Mark one of the caller's notices read (again is harmless); anyone else's is "not found"."""
    with db.write() as session:
        mine = (Notification.id == notification_id, notification_visible(actor))
        session.execute(update(Notification).where(*mine, Notification.read_at.is_(None)).values(read_at=now()))
        row = session.scalar(select(Notification).where(*mine))
        if row is None:
            raise NotFound(f"通知不存在 (no notification {notification_id})")
        return _view(row)


#: the header shows up to this many unread notices ("99+" beyond): the count stops there, whatever the backlog
UNREAD_SHOWN = 99


def unread_count(db: Database, actor: Actor) -> int:
    """How many of the caller's notices are unread, up to UNREAD_SHOWN + 1 (every page's header asks: the
    partial index on unread rows answers it without reading the notices)."""
    mine = select(Notification.id).where(notification_visible(actor), Notification.read_at.is_(None))
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(mine.limit(UNREAD_SHOWN + 1).subquery())) or 0
