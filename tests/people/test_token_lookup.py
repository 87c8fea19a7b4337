"""A bearer token is checked on every API request: one statement, by the token's digest, never the password hash."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select, update

from engine.base.clock import now
from engine.base.errors import Unauthorized
from engine.definitions.catalogue import RoleCatalogue
from engine.people import accounts, auth
from engine.people.auth import authenticate, issue_token
from engine.runtime.runtime import Runtime
from engine.store.models import ApiToken, User, UserRole
from tests.support.repo import ROLES


def _digest_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _token(runtime: Runtime, username: str) -> str:
    with runtime.db.write() as session:
        user_id = session.scalar(select(User.id).where(User.username == username))
        return issue_token(session, user_id, now())[0]


def _statements(runtime: Runtime, token: str) -> tuple[Any, list[str]]:
    seen: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        return authenticate(runtime.db, token), seen
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)


def test_one_statement_and_no_password_hash(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token(runtime, "window")

    class NoHashing:
        def __getattr__(self, name: str) -> Any:
            raise AssertionError(f"a token check used the password hasher ({name})")

    def no_verifying(*_: Any) -> bool:
        raise AssertionError("a token check verified a password")

    for module in (accounts, auth):
        monkeypatch.setattr(module, "HASHER", NoHashing())
        monkeypatch.setattr(module, "verify_password", no_verifying)
    actor, statements = _statements(runtime, token)
    assert len(statements) == 1 and "token_hash" in statements[0]
    with runtime.db.read() as session:
        expected = set(session.scalars(select(UserRole.role).join(User).where(User.username == "window")))
    assert actor.username == "window" and actor.roles == expected and expected


def test_every_role_of_a_user_with_several_and_none_of_a_user_with_none(runtime: Runtime) -> None:
    catalogue = RoleCatalogue.from_yaml(ROLES)
    roles = sorted(catalogue.roles)[:3]
    with runtime.db.write() as session:
        accounts.add_user(session, catalogue, "many_roles", "xzsp", roles)
        accounts.add_user(session, catalogue, "no_roles", "xzsp", [])
    assert authenticate(runtime.db, _token(runtime, "many_roles")).roles == frozenset(roles)
    nobody = authenticate(runtime.db, _token(runtime, "no_roles"))
    assert nobody.username == "no_roles" and nobody.roles == frozenset()


def test_revoked_expired_unknown_and_disabled_are_refused_at_once(runtime: Runtime) -> None:
    revoked, expired, disabled = (_token(runtime, u) for u in ("window", "haiyun", "admin"))
    with runtime.db.write() as session:
        session.execute(update(ApiToken).where(ApiToken.token_hash == _digest_of(revoked)).values(revoked_at=now()))
        session.execute(update(ApiToken).where(ApiToken.token_hash == _digest_of(expired))
                        .values(expires_at=now() - timedelta(seconds=1)))
        session.execute(update(User).where(User.username == "admin").values(disabled=True))
    for token in (revoked, expired, disabled, "no-such-token", ""):
        with pytest.raises(Unauthorized):
            authenticate(runtime.db, token)
