"""What administrators do to accounts and the calendar, one use-case per function, each in one transaction.

The administrators' pages (api/pages/admin.py) and the `tongban orgs|users|roles|demo` commands
(engine/cli/accounts.py) call these and nothing below them: both ask the same question of
`engine.people.access` (`may_administer`) about the acting user, and a change that calls for its
consequence — disabling a user, a new password — commits together with it (the user's tokens are
revoked in the same transaction, so a failure leaves both as they were).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import select

from engine.base import workdays
from engine.base.errors import Forbidden
from engine.base.workdays import YearTable
from engine.definitions.catalogue import Role, RoleCatalogue
from engine.people.access import Actor, may_administer
from engine.people.accounts import (
    add_user,
    disable_user,
    ensure_org,
    list_orgs,
    list_users,
    set_email,
    set_password,
)
from engine.people.auth import revoke_tokens
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


def directory(db: Database, actor: Actor) -> Directory:
    """Users and organisations, read together (the users page needs both, the commands one of them)."""
    require_administrator(actor)
    with db.read() as session:
        return Directory(list_users(session), list_orgs(session))


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
                email: str | None = None) -> str:
    """A new account; returns its password (generated when none is given, for the caller to show once)."""
    require_administrator(actor)
    password = password or new_password()
    with db.write() as session:
        add_user(session, catalogue, username, org_code, list(roles), display_name, password, email)
    return password


def disable(db: Database, actor: Actor, username: str) -> None:
    """Disable the account and revoke every token it holds, together: it is refused from the next request."""
    require_administrator(actor)
    with db.write() as session:
        revoke_tokens(session, disable_user(session, username))


def reset_password(db: Database, actor: Actor, username: str, password: str | None = None) -> str:
    """A new password (generated when none is given), the lock-out cleared and every old token revoked,
    together; returns the password for the caller to show once."""
    require_administrator(actor)
    password = password or new_password()
    with db.write() as session:
        revoke_tokens(session, set_password(session, username, password))
    return password


def change_email(db: Database, actor: Actor, username: str, address: str | None) -> str | None:
    """Where copies of the user's notices are mailed (returned as stored); no address stops them."""
    require_administrator(actor)
    with db.write() as session:
        return set_email(session, username, address)


def ensure_organisation(db: Database, actor: Actor, code: str, name: str, kind: str,
                        credit_code: str | None = None) -> None:
    """The organisation `code`, created unless it exists (an existing one is left as it is)."""
    require_administrator(actor)
    with db.write() as session:
        ensure_org(session, code, name, kind, credit_code)


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
                add_user(session, catalogue, username, org, roles, password=password)
                created.append((username, org, roles, password))
    return created


def calendar_years(db: Database, actor: Actor) -> list[CalendarYear]:
    """The working-day tables administrators have loaded, by year."""
    require_administrator(actor)
    with db.read() as session:
        return list(session.scalars(select(CalendarYear).order_by(CalendarYear.year)))


def load_calendar_year(db: Database, actor: Actor, table: YearTable) -> None:
    """Store (or replace) one year's working-day table, recorded as loaded by the actor; after the commit the
    calendar of the runtime whose code runs now reads it at once (other processes within their cache's ttl)."""
    require_administrator(actor)
    with db.write() as session:
        load_year(session, table, actor.username)
    workdays.refresh()
