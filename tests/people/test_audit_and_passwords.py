"""The audit log (every account change and log-in, in the change's own transaction, append-only, for
administrators, exportable) and the one password policy every path applies."""

from __future__ import annotations

import csv
import io
import json

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from sqlalchemy import text

from engine.base.errors import Forbidden, FormInvalid, Unauthorized
from engine.cli.main import main
from engine.definitions.catalogue import RoleCatalogue
from engine.people import administration, audit, passwords
from engine.people.auth import login, revoke
from engine.runtime.runtime import SYSTEM, Runtime
from tests.support.http import PASSWORD, bearer
from tests.support.repo import ROLES

GOOD = "correct horse 电池 staple"


@pytest.mark.parametrize(("password", "reason"), [
    ("aaaa", "shorter"), ("short1!", "shorter"), ("aaaaaaaaaaaa", "repeated"), ("1111111111", "repeated"),
    ("password123", "common"), ("Password!!!", "common"), ("woaini1314520", "common"), ("1qaz2wsx3edc", "run"),
    ("qwertyuiop", "common"), ("abcdefghijk", "run"), ("9876543210", "run"), ("zyxwvutsrqp", "run"),
    ("haiyun2026!!", "username"), ("x" * 129 + "y", "longer")])
def test_the_policy_refuses(password: str, reason: str) -> None:
    assert reason in (passwords.problem(password, "haiyun") or "")


@pytest.mark.parametrize("password", [GOOD, "电池马订书钉正确无误", "8473920156", "tr0ub4dor&3-x", "a" * 9 + "b"])
def test_the_policy_accepts(password: str) -> None:
    assert passwords.problem(password, "haiyun") is None


def test_every_path_applies_the_policy(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    catalogue = RoleCatalogue.from_yaml(ROLES)
    with pytest.raises(FormInvalid) as refused:
        administration.create_user(runtime.db, SYSTEM, catalogue, "newbie", "xzsp", ["window_clerk"], password="aaaa")
    assert refused.value.fields == {"/password": ["shorter than 10 characters"]}
    with pytest.raises(FormInvalid):
        administration.reset_password(runtime.db, SYSTEM, "window", "window12345")
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    cli = CliRunner()
    added = cli.invoke(main, ["users", "add", "newbie", "--org", "xzsp", "--role", "window_clerk",
                              "--password", "aaaa"])
    assert added.exit_code == 1 and passwords.POLICY in added.stderr and "/password" in added.stderr
    assert cli.invoke(main, ["users", "passwd", "window", "--password", "password1"]).exit_code == 1
    generated = administration.reset_password(runtime.db, SYSTEM, "window")  # generated ones meet it too
    assert passwords.problem(generated, "window") is None


def _actions(runtime: Runtime, **where: str) -> list[tuple[str, str | None, str | None]]:
    rows, _ = audit.entries(runtime.db, SYSTEM, audit.AuditFilter(**where), limit=500)
    return [(r["action"], r["actor"], r["subject"]) for r in reversed(rows)]


def test_account_changes_and_logins_are_audited(runtime: Runtime) -> None:
    catalogue = RoleCatalogue.from_yaml(ROLES)
    admin = runtime.actor("admin")
    administration.create_user(runtime.db, admin, catalogue, "newbie", "xzsp", ["window_clerk"], password=GOOD,
                               ip="10.1.2.3")
    token, _ = login(runtime.db, "newbie", GOOD, ip="10.9.9.9")
    with pytest.raises(Unauthorized):
        login(runtime.db, "newbie", "wrong one", ip="10.6.6.6")
    with pytest.raises(Unauthorized):
        login(runtime.db, "no-such-user", "wrong one")
    administration.change_access(runtime.db, admin, catalogue, "newbie", roles=["window_clerk", "street_staff"])
    administration.change_access(runtime.db, admin, catalogue, "newbie", org_code="street_bdq", roles=["window_clerk",
                                                                                                     "street_staff"])
    administration.reset_password(runtime.db, admin, "newbie")
    administration.disable(runtime.db, admin, "newbie")
    administration.enable(runtime.db, admin, "newbie")
    revoke(runtime.db, token)  # already revoked by the reset: nothing happens, nothing recorded
    assert _actions(runtime, user="newbie") == [  # the second change of access left the roles as they were
        ("user_created", "admin", "newbie"), ("login_succeeded", "newbie", "newbie"), ("login_failed", None, "newbie"),
        ("roles_changed", "admin", "newbie"), ("organisation_changed", "admin", "newbie"),
        ("password_reset", "admin", "newbie"), ("token_revoked", "admin", "newbie"),
        ("user_disabled", "admin", "newbie"), ("user_enabled", "admin", "newbie")]
    rows, _ = audit.entries(runtime.db, SYSTEM, audit.AuditFilter(user="newbie"), limit=500)
    by_action = {r["action"]: r for r in rows}
    assert by_action["user_created"]["ip"] == "10.1.2.3"
    assert by_action["login_succeeded"]["detail"] == {"method": "password", "via": "api"}
    assert by_action["login_failed"]["ip"] == "10.6.6.6"
    assert by_action["roles_changed"]["detail"] == {"before": ["window_clerk"],
                                                    "after": ["street_staff", "window_clerk"]}
    assert by_action["organisation_changed"]["detail"] == {"before": "xzsp", "after": "street_bdq"}
    assert by_action["token_revoked"]["detail"] == {"tokens": 1}
    assert _actions(runtime, user="no-such-user") == [("login_failed", None, "no-such-user")]


def test_a_change_that_fails_leaves_no_entry(runtime: Runtime) -> None:
    with pytest.raises(FormInvalid):
        administration.reset_password(runtime.db, SYSTEM, "window", "aaaa")
    assert _actions(runtime, user="window") == []


def test_the_log_is_append_only(runtime: Runtime) -> None:
    with pytest.raises(Unauthorized):
        login(runtime.db, "window", "wrong")
    for statement in ("UPDATE audit_log SET actor = 'someone'", "DELETE FROM audit_log"):
        with pytest.raises(Exception, match="append-only"), runtime.db.write() as session:
            session.execute(text(statement))
    assert _actions(runtime) == [("login_failed", None, "window")]


def test_only_administrators_read_it(runtime: Runtime) -> None:
    with pytest.raises(Forbidden):
        audit.entries(runtime.db, runtime.actor("window"), audit.AuditFilter())
    with pytest.raises(Forbidden):
        list(audit.export(runtime.db, runtime.actor("window"), audit.AuditFilter()))


def test_the_api_filters_and_pages(client: FlaskClient) -> None:
    for _ in range(3):
        client.post("/api/v1/auth/token", json={"username": "fushan", "password": "wrong"})
    admin = bearer(client, "admin")
    assert client.get("/api/v1/audit", headers=bearer(client, "window")).status_code == 403
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/audit?action=login_failed&limit=2" + (f"&cursor={cursor}" if cursor else ""),
                          headers=admin)
        assert page.status_code == 200
        seen += page.json["items"]
        if not (cursor := page.json["next_cursor"]):
            break
    assert [e["subject"] for e in seen] == ["fushan"] * 3 and len({e["id"] for e in seen}) == 3
    assert all(e["ip"] == "127.0.0.1" for e in seen)
    wins = client.get("/api/v1/audit?action=login_succeeded&user=admin", headers=admin).json["items"]
    assert {e["detail"]["via"] for e in wins} == {"api"}
    bad = client.get("/api/v1/audit?action=drop_tables&since=yesterday", headers=admin)
    assert bad.status_code == 422 and set(bad.json["fields"]) == {"/action", "/since"}
    logout = client.delete("/api/v1/auth/token", headers=admin)
    assert logout.status_code == 204


def test_export_as_csv_and_json(runtime: Runtime, monkeypatch: pytest.MonkeyPatch, client: FlaskClient) -> None:
    client.post("/api/v1/auth/token", json={"username": "=HYPERLINK(\"x\")", "password": "wrong"})
    client.post("/api/v1/auth/token", json={"username": "window", "password": PASSWORD})
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    cli = CliRunner()
    as_csv = cli.invoke(main, ["audit", "export", "--since", "2000-01-01", "--format", "csv"])
    assert as_csv.exit_code == 0, as_csv.output
    rows = list(csv.DictReader(io.StringIO(as_csv.stdout)))
    assert [r["action"] for r in rows] == ["login_failed", "login_succeeded"]
    assert rows[0]["subject"].startswith("'=")  # a spreadsheet shows it, never runs it
    as_json = cli.invoke(main, ["audit", "export", "--format", "json", "--action", "login_succeeded"])
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    assert [(e["subject"], e["detail"]["via"]) for e in lines] == [("window", "api")]
    assert cli.invoke(main, ["audit", "export", "--as", "window"]).exit_code == 1
    assert cli.invoke(main, ["audit", "export", "--since", "soon"]).exit_code == 1
