"""Password log-in (argon2, throttled) and expiring, revocable bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine.base.clock import now
from engine.base.errors import TooManyAttempts, Unauthorized
from engine.people.access import Actor
from engine.people.accounts import HASHER, verify_password
from engine.store.db import Database
from engine.store.models import ApiToken, Organisation, User, UserRole

TOKEN_TTL = timedelta(hours=8)
FREE_FAILURES = 5  # consecutive failures before each further one locks the account for a while
LOCK_BASE = timedelta(seconds=30)
LOCK_MAX = timedelta(minutes=15)
_BAD_LOGIN = "用户名或口令错误 (wrong username or password)"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _lock_for(failures: int) -> timedelta:
    """30 s after the 5th consecutive failure, doubling each time, never more than 15 minutes."""
    return min(LOCK_BASE * 2 ** max(0, failures - FREE_FAILURES), LOCK_MAX)


def login(db: Database, username: str, password: str) -> tuple[str, datetime]:
    """A new bearer token and its expiry, or Unauthorized / TooManyAttempts (failures are recorded)."""
    at = now()
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        if user is not None and user.locked_until is not None and user.locked_until > at:
            wait = int((user.locked_until - at).total_seconds()) + 1
            raise TooManyAttempts(f"尝试次数过多，请 {wait} 秒后再试 (too many attempts; retry in {wait} s)", wait)
        valid = verify_password(user.password_hash if user else None, password)  # same work for unknown users
        if user is None or user.disabled or not valid:
            if user is not None:
                user.failed_logins += 1
                if user.failed_logins >= FREE_FAILURES:
                    user.locked_until = at + _lock_for(user.failed_logins)
            failed = True
        else:
            failed = False
            user.failed_logins, user.locked_until = 0, None
            if HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = HASHER.hash(password)
            token = secrets.token_urlsafe(32)
            expires = at + TOKEN_TTL
            session.add(ApiToken(user_id=user.id, token_hash=_digest(token), created_at=at, expires_at=expires))
    if failed:  # raised after the commit, so the failure count sticks
        raise Unauthorized(_BAD_LOGIN)
    return token, expires


_TOKEN_OWNER = (
    select(User.id, User.username, User.org_id, Organisation.kind)
    .join(ApiToken, ApiToken.user_id == User.id).join(Organisation, Organisation.id == User.org_id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None),
           ApiToken.expires_at > bindparam("now"), User.disabled.is_(False))
)
_ROLES = select(UserRole.role).where(UserRole.user_id == bindparam("user_id"))


def authenticate(db: Database, token: str) -> Actor:
    """The actor behind a live token; expired, revoked or unknown tokens and disabled users are refused.

    Runs on every API request: two indexed lookups on one connection, nothing cached, so a revoked
    token or a disabled user is refused from the very next request.
    """
    with db.reading() as conn:
        owner = conn.execute(_TOKEN_OWNER, {"digest": _digest(token), "now": now()}).first()
        if owner is None:
            raise Unauthorized("令牌无效或已过期，请重新登录 (token invalid or expired; log in again)")
        roles = frozenset(conn.execute(_ROLES, {"user_id": owner.id}).scalars())
    return Actor(id=owner.id, username=owner.username, org_id=owner.org_id, org_kind=owner.kind, roles=roles)


def revoke(db: Database, token: str) -> None:
    with db.write() as session:
        session.execute(update(ApiToken).where(ApiToken.token_hash == _digest(token), ApiToken.revoked_at.is_(None))
                        .values(revoked_at=now()))


def revoke_tokens(session: Session, user_id: int) -> None:
    """On password change or disabling: every token of the user stops working at once.

    Runs in the caller's transaction, so the change that calls for it and the revocation commit together
    (see engine.people.administration)."""
    session.execute(update(ApiToken).where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
                    .values(revoked_at=now()))
