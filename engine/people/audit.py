"""The audit log of accounts: logins (each method, success and failure), logouts, users created, disabled and
enabled, their roles, organisation and notice e-mail changed, passwords changed and reset, tokens revoked — and the
administrators' other changes: organisations created or synced, a year's working-day table loaded.

`record` adds a row to the caller's session, so an entry commits with the change it describes or not at all
(a failed log-in, which changes nothing, commits its entry alone). Rows are never updated or deleted (the
database's triggers refuse it, migration 0016). Reading them is for administrators only (`entries`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from engine.base import paging
from engine.base.clock import now
from engine.base.errors import Forbidden, FormInvalid
from engine.people.access import Actor, may_administer
from engine.store.db import Database
from engine.store.models import AuditEntry

#: the longest subject kept (an attempted username is whatever a caller typed)
MAX_SUBJECT = 200
MAX_PAGE = 500


class AuditAction(StrEnum):
    LOGIN_SUCCEEDED = "login_succeeded"
    LOGIN_FAILED = "login_failed"
    LOGOUT = "logout"
    USER_CREATED = "user_created"
    USER_DISABLED = "user_disabled"
    USER_ENABLED = "user_enabled"
    ROLES_CHANGED = "roles_changed"
    ORGANISATION_CHANGED = "organisation_changed"
    PASSWORD_CHANGED = "password_changed"
    PASSWORD_RESET = "password_reset"
    TOKEN_REVOKED = "token_revoked"
    EMAIL_CHANGED = "email_changed"
    ORGANISATION_CREATED = "organisation_created"
    ORGANISATIONS_SYNCED = "organisations_synced"
    CALENDAR_LOADED = "calendar_loaded"


ACTIONS = tuple(a.value for a in AuditAction)


def record(session: Session, action: AuditAction | str, actor: Actor | None, subject: str | None,
           ip: str | None = None, detail: Mapping[str, Any] | None = None) -> None:
    """Append one entry in the caller's transaction. `actor` None is an anonymous caller (a failed log-in);
    the system actor (id 0, the CLI without `--as`) is kept by name with no id."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    session.add(AuditEntry(
        at=now(), action=str(action), actor_id=actor.id if actor and actor.id else None,
        actor=actor.username if actor else None, subject=subject[:MAX_SUBJECT] if subject else None,
        ip=(ip or None) and ip[:45], detail=dict(detail) if detail else None))


@dataclass(frozen=True)
class AuditFilter:
    """What an administrator asks for: a time range (`since` inclusive, `until` exclusive), one action, one
    user (as actor or as subject)."""

    since: datetime | None = None
    until: datetime | None = None
    action: str | None = None
    user: str | None = None

    def __post_init__(self) -> None:
        if self.action is not None and self.action not in ACTIONS:
            raise FormInvalid("未知的审计动作 (unknown audit action)",
                              {"/action": [f"one of {', '.join(ACTIONS)}"]})
        if self.since and self.until and self.since >= self.until:
            raise FormInvalid("起始时间须早于截止时间 (since must be before until)", {"/until": ["not after since"]})


def _query(where: AuditFilter) -> Any:
    query = select(AuditEntry)
    if where.since:
        query = query.where(AuditEntry.at >= where.since)
    if where.until:
        query = query.where(AuditEntry.at < where.until)
    if where.action:
        query = query.where(AuditEntry.action == where.action)
    if where.user:
        query = query.where(or_(AuditEntry.actor == where.user, AuditEntry.subject == where.user))
    return query


def as_dict(entry: AuditEntry) -> dict[str, Any]:
    return {"id": entry.id, "at": entry.at, "action": entry.action, "actor": entry.actor, "subject": entry.subject,
            "ip": entry.ip, "detail": entry.detail or {}}


def entries(db: Database, actor: Actor, where: AuditFilter, limit: int = 100,
            cursor: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """One page, newest first, keyset-paged on (at, id): administrators only; the next cursor or None."""
    _require_administrator(actor)
    limit = max(1, min(limit, MAX_PAGE))
    query = _query(where)
    if cursor:
        at, last_id = paging.decode(cursor, (datetime, int))
        query = query.where(or_(AuditEntry.at < at, (AuditEntry.at == at) & (AuditEntry.id < last_id)))
    with db.read() as session:
        rows = list(session.scalars(query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc()).limit(limit + 1)))
    page = [as_dict(r) for r in rows[:limit]]
    more = len(rows) > limit
    return page, paging.encode((rows[limit - 1].at, rows[limit - 1].id)) if more else None


def export(db: Database, actor: Actor, where: AuditFilter, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every matching entry, oldest first, read in keyset batches (an export of years stays in small memory)."""
    _require_administrator(actor)
    last: tuple[datetime, int] | None = None
    while True:
        query = _query(where)
        if last:
            query = query.where(or_(AuditEntry.at > last[0], (AuditEntry.at == last[0]) & (AuditEntry.id > last[1])))
        with db.read() as session:
            rows = list(session.scalars(query.order_by(AuditEntry.at, AuditEntry.id).limit(batch)))
        yield from (as_dict(r) for r in rows)
        if len(rows) < batch:
            return
        last = rows[-1].at, rows[-1].id


def _require_administrator(actor: Actor) -> None:
    if not may_administer(actor):
        raise Forbidden("仅管理员可查看审计日志 (administrators only)")
