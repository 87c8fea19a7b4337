"""What administrators do to accounts and the calendar, one use-case per function, each in one transaction.

The administrators' pages (api/pages/admin.py) and the `tongban orgs|users|roles|demo` commands
(engine/cli/accounts.py) call these and nothing below them: both ask the same question of
`engine.people.access` (`may_administer`) about the acting user, and a change that calls for its
consequence — disabling a user, a new password — commits together with it (the user's tokens are
revoked in the same transaction, so a failure leaves both as they were), and so does its audit entry
(engine.people.audit). `ip` is where the request came from, for that entry (None from the command line).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from engine.base import workdays
from engine.base.errors import Conflict, Forbidden
from engine.base.workdays import YearTable
from engine.definitions.catalogue import Role, RoleCatalogue
from engine.definitions.organisations import OrganisationList
from engine.people import audit
from engine.people.access import Actor, may_administer
from engine.people.accounts import (
    OrgSync,
    add_user,
    disable_user,
    enable_user,
    ensure_org,
    list_orgs,
    list_users,
    move_user,
    set_email,
    set_password,
    set_roles,
    sync_orgs,
)
from engine.people.audit import AuditAction
from engine.people.auth import revoke_tokens
from engine.people.federation import link_user, unlink_user
from engine.store.calendars import load_year
from engine.store.db import Database
from engine.store.models import CalendarYear, Organisation, User

#: Generated passwords: shown once to whoever set them, changed by their holder.
PASSWORD_BYTES = 12


def new_password(nbytes: int = PASSWORD_BYTES) -> str:
    return secrets.token_urlsafe(nbytes)


def require_administrator(actor: Actor) -> None:
    if not may_administer(actor):
        raise Forbidden("仅管理员可执行此操作 (administrators only)")


@dataclass(frozen=True)
class Directory:
    """Every user (username, display name, organisation code, roles, disabled, e-mail) and organisation."""

    users: list[dict[str, object]]
    orgs: list[Organisation]


def directory(db: Database, actor: Actor, search: str | None = None, role: str | None = None,
              disabled: bool | None = None) -> Directory:
    """Users (all, or those `search`, `role` and `disabled` pick: `accounts.list_users`) and every organisation,
    read together (the users page needs both, the commands one of them)."""
    require_administrator(actor)
    with db.read() as session:
        return Directory(list_users(session, search, role, disabled), list_orgs(session))


def organisations(db: Database, actor: Actor) -> list[Organisation]:
    """Every organisation, by kind and code."""
    require_administrator(actor)
    with db.read() as session:
        return list_orgs(session)


def role_list(actor: Actor, catalogue: RoleCatalogue) -> list[Role]:
    """The role catalogue, in its file's order."""
    require_administrator(actor)
    return list(catalogue.roles.values())


def create_user(db: Database, actor: Actor, catalogue: RoleCatalogue, username: str, org_code: str,
                roles: Sequence[str], display_name: str | None = None, password: str | None = None,
                email: str | None = None, ip: str | None = None) -> str:
    """A new account; returns its password (generated when none is given, for the caller to show once)."""
    require_administrator(actor)
    password = password or new_password()
    with db.write() as session:
        _created(session, actor, add_user(session, catalogue, username, org_code, list(roles), display_name,
                                          password, email), org_code, roles, ip)
    return password


def _created(session: Session, actor: Actor, user: User, org_code: str, roles: Iterable[str],
             ip: str | None) -> None:
    audit.record(session, AuditAction.USER_CREATED, actor, user.username, ip,
                 {"org": org_code, "roles": sorted(set(roles))})


def disable(db: Database, actor: Actor, username: str, ip: str | None = None) -> None:
    """Disable the account and revoke every token it holds, together: it is refused from the next request. An
    administrator never disables itself (the last one would lock everybody out of these pages)."""
    require_administrator(actor)
    if username == actor.username:
        raise Conflict("不能停用自己的账号 (you cannot disable your own account)", {"/username": ["yourself"]})
    with db.write() as session:
        user = disable_user(session, username)
        audit.record(session, AuditAction.USER_DISABLED, actor, username, ip)
        revoke_tokens(session, user, actor, ip)


def enable(db: Database, actor: Actor, username: str, ip: str | None = None) -> None:
    """Let a disabled account log in again."""
    require_administrator(actor)
    with db.write() as session:
        enable_user(session, username)
        audit.record(session, AuditAction.USER_ENABLED, actor, username, ip)


def change_access(db: Database, actor: Actor, catalogue: RoleCatalogue, username: str, *,
                  org_code: str | None = None, roles: Sequence[str] | None = None, ip: str | None = None) -> None:
    """Move the user to another organisation and/or replace its roles, together in one transaction; each
    that changes is audited with before and after. The user's next request already runs with them (access
    reads the organisation and roles per token)."""
    require_administrator(actor)
    with db.write() as session:
        if org_code is not None:
            org_before = move_user(session, username, org_code)
            if org_before != org_code:
                audit.record(session, AuditAction.ORGANISATION_CHANGED, actor, username, ip,
                             {"before": org_before, "after": org_code})
        if roles is not None:
            roles_before = set_roles(session, catalogue, username, roles)
            if roles_before != sorted(set(roles)):
                audit.record(session, AuditAction.ROLES_CHANGED, actor, username, ip,
                             {"before": roles_before, "after": sorted(set(roles))})


def reset_password(db: Database, actor: Actor, username: str, password: str | None = None,
                   ip: str | None = None) -> str:
    """A new password (generated when none is given, else checked by the policy) and every old token revoked,
    together; returns the password for the caller to show once."""
    require_administrator(actor)
    generated = password is None
    password = password or new_password()
    with db.write() as session:
        user = set_password(session, username, password)
        audit.record(session, AuditAction.PASSWORD_RESET if generated else AuditAction.PASSWORD_CHANGED, actor,
                     username, ip, {"generated": generated})
        revoke_tokens(session, user, actor, ip)
    return password


def change_email(db: Database, actor: Actor, username: str, address: str | None,
                 ip: str | None = None) -> str | None:
    """Where copies of the user's notices are mailed (returned as stored); no address stops them. A change is
    audited with before and after (the address is where a user's case notices go)."""
    require_administrator(actor)
    with db.write() as session:
        before = session.scalar(select(User.email).where(User.username == username))
        stored = set_email(session, username, address)
        if stored != before:
            audit.record(session, AuditAction.EMAIL_CHANGED, actor, username, ip, {"before": before, "after": stored})
        return stored


def ensure_organisation(db: Database, actor: Actor, code: str, name: str, kind: str,
                        credit_code: str | None = None, ip: str | None = None) -> None:
    """The organisation `code`, created unless it exists (an existing one is left as it is); a creation is audited."""
    require_administrator(actor)
    with db.write() as session:
        existed = session.scalar(select(Organisation.id).where(Organisation.code == code)) is not None
        ensure_org(session, code, name, kind, credit_code)
        if not existed:
            audit.record(session, AuditAction.ORGANISATION_CREATED, actor, code, ip, {"name": name, "kind": kind})


def sync_organisations(db: Database, actor: Actor, organisations: OrganisationList, ip: str | None = None) -> OrgSync:
    """The district's organisation list into the database, in one transaction (`tongban orgs sync`, the demo);
    audited when it created or corrected any."""
    require_administrator(actor)
    with db.write() as session:
        done = sync_orgs(session, organisations)
        if done.created or done.updated:
            audit.record(session, AuditAction.ORGANISATIONS_SYNCED, actor, None, ip,
                         {"created": done.created, "updated": done.updated})
        return done


def seed_accounts(db: Database, actor: Actor, catalogue: RoleCatalogue,
                  orgs: Iterable[tuple[str, str, str, str | None]], users: Iterable[tuple[str, str, list[str]]],
                  password_bytes: int = 9) -> list[tuple[str, str, list[str], str]]:
    """Organisations `(code, name, kind, credit code)` and users `(username, org code, roles)` that do not exist
    yet, in one transaction; returns `(username, org, roles, password)` of each user created (the demo's)."""
    require_administrator(actor)
    created = []
    with db.write() as session:
        for code, name, kind, credit in orgs:
            ensure_org(session, code, name, kind, credit)
        for username, org, roles in users:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                password = new_password(password_bytes)
                _created(session, actor, add_user(session, catalogue, username, org, roles, password=password),
                         org, roles, None)
                created.append((username, org, roles, password))
    return created


def calendar_years(db: Database, actor: Actor) -> list[CalendarYear]:
    """The working-day tables administrators have loaded, by year."""
    require_administrator(actor)
    with db.read() as session:
        return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year)))


def load_calendar_year(db: Database, actor: Actor, table: YearTable, ip: str | None = None) -> None:
    """Store (or replace) one year's working-day table, recorded as loaded by the actor (and audited: it moves
    every deadline of that year); after the commit the calendar of the runtime whose code runs now reads it at
    once (other processes within their cache's ttl)."""
    require_administrator(actor)
    with db.write() as session:
        load_year(session, table, actor.username)
        audit.record(session, AuditAction.CALENDAR_LOADED, actor, str(table.year), ip,
                     {"holidays": len(table.holidays), "workdays": len(table.workdays)})
    workdays.refresh()


def link_identity(db: Database, actor: Actor, username: str, issuer: str, subject: str) -> bool:
    """The identity platform's person `subject` may log in as `username` from now on (False: already so)."""
    require_administrator(actor)
    with db.write() as session:
        return link_user(session, username, issuer, subject)


def unlink_identity(db: Database, actor: Actor, username: str, issuer: str) -> bool:
    """`username` no longer logs in through the platform (False: it did not), and its tokens are revoked with
    the link: a session the platform opened ends with it."""
    require_administrator(actor)
    with db.write() as session:
        if unlinked := unlink_user(session, username, issuer):
            revoke_tokens(session, session.scalar(select(User).where(User.username == username)), actor)
        return unlinked
