"""Password log-in (argon2, audited) and expiring, revocable bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from engine.base.clock import now
from engine.base.errors import Unauthorized
from engine.people import audit
from engine.people.access import Actor
from engine.people.accounts import HASHER, verify_password
from engine.people.audit import AuditAction
from engine.store.db import Database
from engine.store.models import ApiToken, Organisation, User, UserRole
from engine.store.prepared import Prepared

TOKEN_TTL = timedelta(hours=8)
_BAD_LOGIN = "用户名或口令错误 (wrong username or password)"


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(db: Database, username: str, password: str, ip: str | None = None,
          via: str = "api") -> tuple[str, datetime]:
    """A new bearer token and its expiry, or Unauthorized; either way an audit entry (method `password`).

    An unknown user, a disabled one and a wrong password cost the same argon2 verification and get the same
    answer, so neither the text nor the time tells who exists. Guessing is throttled in front of this, per IP
    and per (user, IP), by the web app's rate limiter (api/limits.py): no account state records failures,
    so nobody can lock another person out of their account from elsewhere.
    """
    at = now()
    detail = {"method": "password", "via": via}
    with db.write() as session:
        user = session.scalar(select(User).where(User.username == username))
        valid = verify_password(user.password_hash if user else None, password)  # same work for unknown users
        if user is None or user.disabled or not valid:
            audit.record(session, AuditAction.LOGIN_FAILED, None, username, ip, detail)
            token = None
        else:
            if HASHER.check_needs_rehash(user.password_hash):
                user.password_hash = HASHER.hash(password)
            token, expires = issue_token(session, user.id, at)
            audit.record(session, AuditAction.LOGIN_SUCCEEDED, as_actor(session, user), username, ip, detail)
    if token is None:  # raised after the commit, so the failure's entry sticks
        raise Unauthorized(_BAD_LOGIN)
    return token, expires


def issue_token(session: Session, user_id: int, at: datetime) -> tuple[str, datetime]:
    """A new bearer token for `user_id`, in the caller's transaction: password and identity-platform log-ins
    alike end in one of these, revocable the same way."""
    token = secrets.token_urlsafe(32)
    expires = at + TOKEN_TTL
    session.add(ApiToken(user_id=user_id, token_hash=_digest(token), created_at=at, expires_at=expires))
    return token, expires


def as_actor(session: Session, user: User) -> Actor:
    """The user as the audit log names an actor (roles do not matter there)."""
    kind = session.scalar(select(Organisation.kind).where(Organisation.id == user.org_id))
    return Actor(id=user.id, username=user.username, org_id=user.org_id, org_kind=kind or "", roles=frozenset())


#: The token's owner with each of their roles, one row a role (one row with no role for a user who has none):
#: the token's unique index, then the user's and organisation's primary keys and the roles' key prefix.  Prepared:
#: it runs on every request, and SQLAlchemy's per-call work (cache key, execution context, result metadata) cost
#: more CPU than the statement itself.
_TOKEN_OWNER = Prepared(
    select(User.id, User.username, User.org_id, Organisation.kind, UserRole.role)
    .join(ApiToken, ApiToken.user_id == User.id).join(Organisation, Organisation.id == User.org_id)
    .outerjoin(UserRole, UserRole.user_id == User.id)
    .where(ApiToken.token_hash == bindparam("digest"), ApiToken.revoked_at.is_(None),
           ApiToken.expires_at > bindparam("now"), User.disabled.is_(False))
)


def authenticate(db: Database, token: str) -> Actor:
    """The actor behind a live token; expired, revoked or unknown tokens and disabled users are refused.

    Runs on every API request: one statement looked up by the token's digest (a SHA-256 of a random token, so
    no password hash is involved), nothing cached, so a revoked token or a disabled user is refused from the
    very next request.
    """
    with db.reading() as conn:
        rows = _TOKEN_OWNER.all(conn, {"digest": _digest(token), "now": now()})
    if not rows:
        raise Unauthorized("令牌无效或已过期，请重新登录 (token invalid or expired; log in again)")
    owner = rows[0]
    roles = frozenset(r.role for r in rows if r.role is not None)
    return Actor(id=owner.id, username=owner.username, org_id=owner.org_id, org_kind=owner.kind, roles=roles)


def revoke(db: Database, token: str, ip: str | None = None) -> None:
    """Log out: the token stops working; the logout is audited under the token's owner (an unknown or already
    revoked token changes nothing and records nothing)."""
    with db.write() as session:
        owner = session.scalar(update(ApiToken).where(ApiToken.token_hash == _digest(token),
                                                      ApiToken.revoked_at.is_(None))
                               .values(revoked_at=now()).returning(ApiToken.user_id))
        user = session.get(User, owner) if owner is not None else None
        if user is not None:
            audit.record(session, AuditAction.LOGOUT, as_actor(session, user), user.username, ip)


def revoke_tokens(session: Session, user: User, actor: Actor, ip: str | None = None) -> None:
    """On password change or disabling: every token of the user stops working at once (audited with their count).

    Runs in the caller's transaction, so the change that calls for it, the revocation and their audit entries
    commit together (see engine.people.administration)."""
    revoked = session.execute(update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                              .values(revoked_at=now())).rowcount
    if revoked:
        audit.record(session, AuditAction.TOKEN_REVOKED, actor, user.username, ip, {"tokens": revoked})
