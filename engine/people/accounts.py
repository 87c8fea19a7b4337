"""Organisations, users and their roles (passwords hashed with argon2)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from marshmallow import ValidationError
from marshmallow.validate import Email
from sqlalchemy import Connection, Select, delete, or_, select
from sqlalchemy.orm import Session

from engine.base.clock import now
from engine.base.errors import FormInvalid, NotFound, TongbanError
from engine.base.identity import IdentityInvalid, check_uscc
from engine.base.vocabulary import OrgKind
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.organisations import OrganisationList
from engine.people import passwords
from engine.people.access import Actor
from engine.store.models import Organisation, User, UserRole

#: the organisation kinds as plain strings (click.Choice and the admin page list them)
ORG_KINDS = tuple(k.value for k in OrgKind)
HASHER = PasswordHasher()
_DUMMY_HASH = HASHER.hash("timing equaliser: unknown users cost as much as known ones")


def hash_password(password: str) -> str:
    return HASHER.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user has a password, so timing does not reveal who exists."""
    try:
        return HASHER.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def ensure_org(session: Session, code: str, name: str, kind: str, credit_code: str | None = None) -> Organisation:
    """The organisation `code`, created unless it exists; a new enterprise's credit code must be a valid one."""
    if kind not in ORG_KINDS:
        raise TongbanError(f"组织类型须为 {ORG_KINDS} 之一 (unknown organisation kind {kind!r})")
    org = session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        if credit_code:
            try:
                check_uscc(credit_code)
            except IdentityInvalid as exc:
                raise FormInvalid(f"统一社会信用代码无效 (invalid credit code): {exc}",
                                  {"/credit_code": [str(exc)]}) from None
        org = Organisation(code=code, name=name, kind=kind, credit_code=credit_code)
        session.add(org)
        session.flush()
    return org


@dataclass(frozen=True)
class OrgSync:
    """What `sync_orgs` did: codes created, codes whose name or kind it changed, codes already as listed."""

    created: list[str]
    updated: list[str]
    unchanged: list[str]


def sync_orgs(session: Session, organisations: OrganisationList) -> OrgSync:
    """Make the database's organisations match the district's list (processes/organisations.yaml): create the
    missing ones, correct names and kinds; nothing is deleted (users and cases hold them). Idempotent."""
    existing = {o.code: o for o in session.scalars(select(Organisation).where(
        Organisation.code.in_([o.code for o in organisations])))}
    done = OrgSync([], [], [])
    for listed in organisations:
        org = existing.get(listed.code)
        if org is None:
            session.add(Organisation(code=listed.code, name=listed.zh, kind=listed.kind, credit_code=None))
            done.created.append(listed.code)
        elif (org.name, org.kind) != (listed.zh, listed.kind):
            org.name, org.kind = listed.zh, listed.kind
            done.updated.append(listed.code)
        else:
            done.unchanged.append(listed.code)
    session.flush()
    return done


def add_user(session: Session, catalogue: RoleCatalogue, username: str, org_code: str, roles: list[str],
             display_name: str | None = None, password: str | None = None, email: str | None = None) -> User:
    unknown = [r for r in roles if r not in catalogue]
    if unknown:
        raise TongbanError(f"未知角色 (unknown roles) {unknown}; known: {sorted(catalogue.roles)}")
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise NotFound(f"组织不存在 (no organisation {org_code!r})")
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise TongbanError(f"用户名已存在 (username {username!r} is taken)")
    if password is not None:
        passwords.check(password, username)
    user = User(username=username, display_name=display_name or username, org_id=org.id,
                password_hash=hash_password(password) if password else None, disabled=False, created_at=now(),
                email=checked_email(email))
    session.add(user)
    session.flush()
    session.add_all(UserRole(user_id=user.id, role=r) for r in sorted(set(roles)))
    return user


def load_actor(session: Session, username: str) -> Actor:
    row = session.execute(
        select(User, Organisation.kind).join(Organisation, Organisation.id == User.org_id)
        .where(User.username == username)
    ).first()
    if row is None or row[0].disabled:
        raise NotFound(f"用户不存在或已停用 (no active user {username!r})")
    user, kind = row
    roles = session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)).all()
    return Actor(id=user.id, username=user.username, org_id=user.org_id, org_kind=kind, roles=frozenset(roles))


def _user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFound(f"用户不存在 (no user {username!r})")
    return user


def list_users(session: Session, search: str | None = None, role: str | None = None,
               disabled: bool | None = None) -> list[dict[str, object]]:
    """Users with their organisation (code and name) and roles (for administrators): every one, or those whose
    username, name or organisation (code or name) contains `search`, holding `role`, active or disabled."""
    query = select(User, Organisation.code, Organisation.name).join(Organisation).order_by(User.username)
    if search:
        query = query.where(or_(*(c.icontains(search, autoescape=True)
                                  for c in (User.username, User.display_name, Organisation.code, Organisation.name))))
    if role:
        query = query.where(User.id.in_(select(UserRole.user_id).where(UserRole.role == role)))
    if disabled is not None:
        query = query.where(User.disabled == disabled)
    rows = session.execute(query).all()
    roles: dict[int, list[str]] = {}
    role_rows = select(UserRole.user_id, UserRole.role)
    if search or role or disabled is not None:
        role_rows = role_rows.where(UserRole.user_id.in_([u.id for u, *_ in rows]))
    for user_id, role in session.execute(role_rows):
        roles.setdefault(user_id, []).append(role)
    return [{"username": u.username, "display_name": u.display_name, "org": org, "org_name": org_name,
             "roles": sorted(roles.get(u.id, [])), "disabled": u.disabled, "email": u.email}
            for u, org, org_name in rows]


def list_orgs(session: Session) -> list[Organisation]:
    return list(session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.code)))


def disable_user(session: Session, username: str) -> User:
    """Disable the account; returns it, for the same transaction to revoke its tokens
    (engine.people.administration.disable does both)."""
    user = _user(session, username)
    user.disabled = True
    return user


def enable_user(session: Session, username: str) -> User:
    """Let a disabled account log in again (its old tokens stay revoked)."""
    user = _user(session, username)
    user.disabled = False
    return user


def set_roles(session: Session, catalogue: RoleCatalogue, username: str, roles: Iterable[str]) -> list[str]:
    """Replace the user's roles with `roles` (known to the catalogue); returns the roles it had."""
    wanted = sorted(set(roles))
    unknown = [r for r in wanted if r not in catalogue]
    if unknown:
        raise FormInvalid(f"未知角色 (unknown roles) {unknown}", {"/roles": [f"unknown: {', '.join(unknown)}"]})
    user = _user(session, username)
    before = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
    session.execute(delete(UserRole).where(UserRole.user_id == user.id))
    session.add_all(UserRole(user_id=user.id, role=r) for r in wanted)
    return before


def move_user(session: Session, username: str, org_code: str) -> str:
    """Move the user to another organisation; returns the code of the one it was in."""
    org = session.scalar(select(Organisation).where(Organisation.code == org_code))
    if org is None:
        raise NotFound(f"组织不存在 (no organisation {org_code!r})")
    user = _user(session, username)
    before = session.scalar(select(Organisation.code).where(Organisation.id == user.org_id)) or ""
    user.org_id = org.id
    return before


def checked_email(address: str | None) -> str | None:
    """A usable address (surrounding spaces dropped), None for none; FormInvalid naming `/email` otherwise."""
    address = (address or "").strip()
    if not address:
        return None
    try:
        return Email()(address)
    except ValidationError:
        raise FormInvalid(f"电子邮件地址无效 (not an e-mail address: {address!r})",
                          {"/email": ["not an e-mail address"]}) from None


def set_email(session: Session, username: str, address: str | None) -> str | None:
    """Where copies of the user's notices are mailed (returned as stored); None stops them."""
    user = _user(session, username)
    user.email = checked_email(address)
    return user.email


def set_password(session: Session, username: str, password: str) -> User:
    """A new password, if the policy allows it (engine.people.passwords); returns the user whose old tokens
    must be revoked."""
    user = _user(session, username)
    passwords.check(password, username)
    user.password_hash = hash_password(password)
    return user


def role_holders(role: str, org_id: int | None, *columns: Any) -> Select[Any]:
    """Active users holding `role` (in `org_id`, when given): who gets a role's notices, who can take a task."""
    query = (select(*columns).join(UserRole, UserRole.user_id == User.id)
             .where(UserRole.role == role, User.disabled.is_(False)))
    return query if org_id is None else query.where(User.org_id == org_id)


@dataclass(frozen=True)
class Acting:
    """Who acted in a case's history, as people name them: the login, the person's name and their office."""

    username: str
    name: str
    office: str | None


def actors_of(conn: Connection, events: Iterable[dict[str, Any]]) -> dict[int, Acting]:
    """id → who acted in these events (for histories people read), in one query."""
    ids = {e["user_id"] for e in events if e.get("user_id")}
    if not ids:
        return {}
    query = (select(User.id, User.username, User.display_name, Organisation.name)
             .outerjoin(Organisation, Organisation.id == User.org_id).where(User.id.in_(ids)))
    return {user_id: Acting(username, name or username, office)
            for user_id, username, name, office in conn.execute(query)}
