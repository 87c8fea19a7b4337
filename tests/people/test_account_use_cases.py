"""Account use-cases (engine.people.administration): one transaction each, administrators only, and the very
functions both the administrators' pages and the `tongban users|orgs|roles` commands call."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from engine.base.errors import Forbidden, NotFound, Unauthorized
from engine.base.workdays import YearTable
from engine.cli.main import main
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.organisations import load_organisations
from engine.people import administration
from engine.people.access import Actor
from engine.people.auth import authenticate, login
from engine.runtime.runtime import SYSTEM, Runtime
from engine.store.db import Database
from tests.support.http import csrf_of, log_in
from tests.support.repo import REPO, ROLES

NEW_PASSWORD = "新口令 long enough"


class Boom(RuntimeError):
    """Stands for anything failing half-way through a use-case (a lost connection, a bug)."""


def _raise(*_args: Any, **_kwargs: Any) -> None:
    raise Boom("revocation failed")


def _token_of(db: Database, username: str) -> str:
    administration.reset_password(db, SYSTEM, username, NEW_PASSWORD)
    return login(db, username, NEW_PASSWORD)[0]


def _is_enabled(db: Database, username: str) -> bool:
    users = administration.directory(db, SYSTEM).users
    return not next(u for u in users if u["username"] == username)["disabled"]


def test_disabling_a_user_revokes_its_tokens(runtime: Runtime) -> None:
    token = _token_of(runtime.db, "window")
    administration.disable(runtime.db, runtime.actor("admin"), "window")
    assert not _is_enabled(runtime.db, "window")
    with pytest.raises(Unauthorized):
        authenticate(runtime.db, token)


def test_a_failure_while_revoking_leaves_the_user_enabled_and_its_tokens_valid(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token_of(runtime.db, "window")
    monkeypatch.setattr(administration, "revoke_tokens", _raise)
    with pytest.raises(Boom):
        administration.disable(runtime.db, runtime.actor("admin"), "window")
    assert _is_enabled(runtime.db, "window")  # the disabling was rolled back with the revocation
    assert authenticate(runtime.db, token).username == "window"
    monkeypatch.undo()
    administration.disable(runtime.db, runtime.actor("admin"), "window")  # and the whole of it works afterwards
    with pytest.raises(Unauthorized):
        authenticate(runtime.db, token)


def test_a_new_password_revokes_old_tokens_and_a_failure_keeps_the_old_password(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    token = _token_of(runtime.db, "window")
    monkeypatch.setattr(administration, "revoke_tokens", _raise)
    with pytest.raises(Boom):
        administration.reset_password(runtime.db, runtime.actor("admin"), "window")
    assert login(runtime.db, "window", NEW_PASSWORD)  # the old password still opens the account
    assert authenticate(runtime.db, token).username == "window"
    monkeypatch.undo()
    generated = administration.reset_password(runtime.db, runtime.actor("admin"), "window")
    assert generated != NEW_PASSWORD and len(generated) >= 12
    with pytest.raises(Unauthorized):
        authenticate(runtime.db, token)
    with pytest.raises(Unauthorized):
        login(runtime.db, "window", NEW_PASSWORD)
    assert login(runtime.db, "window", generated)


def test_an_unknown_user_is_not_found(runtime: Runtime) -> None:
    admin = runtime.actor("admin")
    for use_case in (administration.disable, administration.reset_password):
        with pytest.raises(NotFound):
            use_case(runtime.db, admin, "nobody")


def _use_cases(catalogue: RoleCatalogue) -> dict[str, Callable[[Database, Actor], object]]:
    table = YearTable.from_yaml("year: 2099\nholidays: [2099-01-01]\nworkdays: [2099-01-03]\n")
    return {
        "directory": administration.directory,
        "organisations": administration.organisations,
        "role_list": lambda _db, who: administration.role_list(who, catalogue),
        "create_user": lambda db, who: administration.create_user(db, who, catalogue, "zhou", "zhujian",
                                                                  ["reviewer_zhujian"]),
        "disable": lambda db, who: administration.disable(db, who, "zhujian"),
        "reset_password": lambda db, who: administration.reset_password(db, who, "zhujian"),
        "change_email": lambda db, who: administration.change_email(db, who, "zhujian", "z@shinan.gov.cn"),
        "ensure_organisation": lambda db, who: administration.ensure_organisation(db, who, "street_xg", "香港中路街道",
                                                                                  "office"),
        "seed_accounts": lambda db, who: administration.seed_accounts(
            db, who, catalogue, [("street_xg", "香港中路街道", "office", None)], [("zhou", "zhujian", ["handler"])]),
        "sync_organisations": lambda db, who: administration.sync_organisations(
            db, who, load_organisations("organisations: {street_xg: {zh: 香港中路, en: X, kind: office}}".encode())),
        "calendar_years": administration.calendar_years,
        "load_calendar_year": lambda db, who: administration.load_calendar_year(db, who, table),
    }


USE_CASES = sorted(_use_cases(RoleCatalogue.from_yaml(ROLES)))


@pytest.mark.parametrize("name", USE_CASES)
@pytest.mark.parametrize("username", ["haiyun", "window", "dispatcher", "inspector", "designer"])
def test_only_administrators_may(runtime: Runtime, name: str, username: str) -> None:
    use_case = _use_cases(RoleCatalogue.from_yaml(ROLES))[name]
    before = administration.directory(runtime.db, SYSTEM)
    with pytest.raises(Forbidden) as refused:
        use_case(runtime.db, runtime.actor(username))
    assert refused.value.status == 403 and "administrators only" in refused.value.message
    after = administration.directory(runtime.db, SYSTEM)
    assert after.users == before.users and [o.code for o in after.orgs] == [o.code for o in before.orgs]
    assert administration.calendar_years(runtime.db, SYSTEM) == []


@pytest.mark.parametrize("name", USE_CASES)
@pytest.mark.parametrize("username", ["admin", "system"])
def test_administrators_and_the_system_may(runtime: Runtime, name: str, username: str) -> None:
    who = SYSTEM if username == "system" else runtime.actor(username)
    _use_cases(RoleCatalogue.from_yaml(ROLES))[name](runtime.db, who)


def test_seeding_creates_only_the_missing_accounts_in_one_go(runtime: Runtime) -> None:
    catalogue = RoleCatalogue.from_yaml(ROLES)
    orgs = [("street_xg", "香港中路街道", "office", None)]
    users = [("window", "xzsp", ["window_clerk"]), ("zhou", "street_xg", ["street_staff"])]
    created = administration.seed_accounts(runtime.db, SYSTEM, catalogue, orgs, users)
    assert [(u, o, r) for u, o, r, _pw in created] == [("zhou", "street_xg", ["street_staff"])]
    assert login(runtime.db, "zhou", created[0][3])
    with pytest.raises(Exception, match="unknown roles"):  # one bad user: nothing of the batch is stored
        administration.seed_accounts(runtime.db, SYSTEM, catalogue, [("street_yy", "延安路街道", "office", None)],
                                     [("qian", "street_yy", ["street_staff"]), ("sun", "street_yy", ["no_such_role"])])
    assert "street_yy" not in [o.code for o in administration.organisations(runtime.db, SYSTEM)]


# --- the command line and the pages call the same functions -------------------------------------------------


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    monkeypatch.setenv("TONGBAN_PROCESSES", str(REPO / "processes"))
    return CliRunner()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every administration use-case called from here on, as (function, acting username); each still runs."""
    seen: list[tuple[str, str]] = []
    for name in USE_CASES:
        real = getattr(administration, name)

        def recording(*args: Any, _real: Callable[..., Any] = real, _name: str = name, **kwargs: Any) -> Any:
            who = next(a for a in args if isinstance(a, Actor))
            seen.append((_name, who.username))
            return _real(*args, **kwargs)

        monkeypatch.setattr(administration, name, recording)
    return seen


def test_the_command_line_acts_as_the_system_or_the_named_administrator(
        cli: CliRunner, runtime: Runtime, calls: list[tuple[str, str]]) -> None:
    token = _token_of(runtime.db, "window")
    calls.clear()
    assert cli.invoke(main, ["users", "disable", "window"]).exit_code == 0
    with pytest.raises(Unauthorized):
        authenticate(runtime.db, token)
    assert cli.invoke(main, ["users", "passwd", "zhujian", "--password", NEW_PASSWORD, "--as", "admin"]).exit_code == 0
    assert cli.invoke(main, ["users", "email", "zhujian", "z@shinan.gov.cn"]).exit_code == 0
    assert cli.invoke(main, ["orgs", "add", "street_xg", "香港中路街道", "--kind", "office"]).exit_code == 0
    added = cli.invoke(main, ["users", "add", "zhou", "--org", "street_xg", "--role", "street_staff"])
    assert added.exit_code == 0, added.output
    assert "口令 (password): " in added.output
    for listing in (["users", "list"], ["orgs", "list"], ["roles"]):
        assert cli.invoke(main, [*listing, "--json"]).exit_code == 0
    assert calls == [("disable", "system"), ("reset_password", "admin"), ("change_email", "system"),
                     ("ensure_organisation", "system"), ("create_user", "system"), ("directory", "system"),
                     ("organisations", "system"), ("role_list", "system")]


def test_the_command_line_refuses_a_non_administrator(cli: CliRunner, runtime: Runtime) -> None:
    result = cli.invoke(main, ["users", "disable", "zhujian", "--as", "window"])
    assert result.exit_code == 1 and "仅管理员可执行此操作 (administrators only)" in result.stderr
    assert _is_enabled(runtime.db, "zhujian")
    listed = cli.invoke(main, ["users", "list", "--as", "window", "--json"])
    assert listed.exit_code == 1 and json.loads(listed.stdout)["error"] == "forbidden"


def test_the_pages_call_the_same_functions_as_the_logged_in_administrator(
        admin_client: FlaskClient, calls: list[tuple[str, str]]) -> None:
    csrf = log_in(admin_client, "admin")
    calls.clear()
    for page in ("/admin/users", "/admin/orgs", "/admin/roles", "/admin/calendar"):
        assert admin_client.get(page).status_code == 200, page
    posts = {
        "/admin/users": {"username": "zhou", "org": "zhujian", "roles": ["reviewer_zhujian"]},
        "/admin/users/zhou/email": {"email": "zhou@shinan.gov.cn"},
        "/admin/users/zhou/password": {"confirmed": "1"},
        "/admin/users/zhou/disable": {"confirmed": "1"},
        "/admin/orgs": {"code": "street_xg", "name": "香港中路街道", "kind": "office"},
    }
    for path, form in posts.items():
        assert admin_client.post(path, data={**form, "csrf_token": csrf}).status_code == 302, path
    table = (io.BytesIO(b"year: 2099\nholidays: [2099-01-01]\nworkdays: [2099-01-03]\n"), "2099.yaml")
    assert admin_client.post("/admin/calendar", data={"csrf_token": csrf, "table": table}).status_code == 302
    assert calls == [("directory", "admin"), ("role_list", "admin"), ("organisations", "admin"), ("role_list", "admin"),
                     ("organisations", "admin"), ("calendar_years", "admin"), ("create_user", "admin"),
                     ("change_email", "admin"), ("reset_password", "admin"), ("disable", "admin"),
                     ("ensure_organisation", "admin"), ("load_calendar_year", "admin")]
    assert "已停用" in admin_client.get("/admin/users").get_data(as_text=True)
    assert csrf_of(admin_client.get("/admin/users").get_data(as_text=True))

