"""The identity platform's side of accounts without HTTP: the claim mapping rule, its settings, linking users,
and what a login writes (the HTTP round trip against a real provider is tests/api/test_oidc.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from engine.base.errors import Conflict, Forbidden, NotFound, TongbanError
from engine.base.settings import OidcSettings, Settings, SettingsInvalid
from engine.cli.main import main
from engine.definitions.catalogue import RoleCatalogue
from engine.people import administration
from engine.people.auth import authenticate, login
from engine.people.federation import ClaimMapping, LoginRefused, federated_login
from engine.runtime.runtime import Runtime
from engine.store.db import Database
from engine.store.models import AuditEntry, FederatedIdentity, User
from tests.support.repo import ROLES

ISSUER = "https://tyrz.shinan.gov.cn"
RULES = """
rules:
  - when: {dept: [xzsp, xzsp-window], level: 3}
    org: xzsp
    roles: [window_clerk, window_clerk]
  - when: {groups: street-bdq}
    org: street_bdq
    roles: [street_staff]
"""


def test_the_first_matching_rule_decides() -> None:
    mapping = ClaimMapping.from_yaml(RULES)
    assert mapping.match({"dept": "xzsp-window", "level": 3}).org == "xzsp"
    assert mapping.match({"dept": "xzsp", "level": "3"}).roles == ("window_clerk",)  # a number read as text
    assert mapping.match({"dept": "xzsp", "level": 2}) is None  # every condition of a rule must hold
    assert mapping.match({"groups": ["union", "street-bdq"]}).org == "street_bdq"  # a list claim contains it
    assert mapping.match({"dept": "xzsp", "level": 3, "groups": ["street-bdq"]}).org == "xzsp"  # order


@pytest.mark.parametrize("claims", [{}, {"groups": "street-bdq-2"}, {"groups": {"street-bdq": True}},
                                    {"dept": ["xzsp"], "level": True}, {"groups": [["street-bdq"]]},
                                    {"groups": None}])
def test_claims_that_only_look_like_a_match_do_not(claims: dict[str, Any]) -> None:
    assert ClaimMapping.from_yaml(RULES).match(claims) is None


@pytest.mark.parametrize(("text", "where"), [
    ("rules: []", "/rules"),
    ("rules:\n  - {when: {}, org: xzsp, roles: [window_clerk]}", "/rules/0/when"),  # a rule for everyone
    ("rules:\n  - {when: {dept: xzsp}, org: xzsp, roles: []}", "/rules/0/roles"),
    ("rules:\n  - {when: {dept: {a: 1}}, org: xzsp, roles: [x]}", "/rules/0/when/dept"),
    ("rules:\n  - {when: {dept: xzsp}, roles: [x]}", "/rules/0"),
    ("provision: yes please\nrules:\n  - {when: {dept: xzsp}, org: xzsp, roles: [x]}", "/provision"),
    ("rule:\n  - {when: {dept: xzsp}, org: xzsp, roles: [x]}", "rule"),
    ("[not, a, mapping]", "not of type 'object'"),
    ("rules: [", "not valid YAML"),
])
def test_a_wrong_mapping_stops_start_up_naming_where(text: str, where: str) -> None:
    with pytest.raises(SettingsInvalid, match="映射规则") as raised:
        ClaimMapping.from_yaml(text)
    assert where in str(raised.value)


def test_a_missing_mapping_file_is_a_message(tmp_path: Path) -> None:
    with pytest.raises(SettingsInvalid, match="cannot read the claim mapping"):
        ClaimMapping.from_file(tmp_path / "absent.yaml")


def _env(**extra: str) -> dict[str, str]:
    return {"TONGBAN_OIDC_ISSUER": f"{ISSUER}/", "TONGBAN_OIDC_CLIENT_ID": "tongban",
            "TONGBAN_OIDC_CLIENT_SECRET": "s3cret", "TONGBAN_OIDC_MAPPING": "oidc.yaml", **extra}


def test_settings_from_the_environment() -> None:
    assert Settings.from_env({}).oidc is None
    oidc = Settings.from_env(_env()).oidc
    assert oidc.issuer == ISSUER  # a trailing slash dropped: ID tokens name the issuer exactly
    assert oidc.metadata_url == f"{ISSUER}/.well-known/openid-configuration"
    assert oidc.scopes == "openid profile email" and oidc.mapping_path.is_absolute() and not oidc.end_session
    assert OidcSettings.from_env(_env(TONGBAN_OIDC_END_SESSION="True")).end_session
    custom = OidcSettings.from_env(_env(TONGBAN_OIDC_DISCOVERY_URL="https://idp.internal/.well-known/x",
                                        TONGBAN_OIDC_SCOPES="openid  dept"))
    assert (custom.metadata_url, custom.scopes) == ("https://idp.internal/.well-known/x", "openid dept")


@pytest.mark.parametrize(("env", "message"), [
    (_env(TONGBAN_OIDC_CLIENT_SECRET=""), "TONGBAN_OIDC_CLIENT_SECRET must be set"),
    ({"TONGBAN_OIDC_ISSUER": ISSUER}, "TONGBAN_OIDC_CLIENT_ID, TONGBAN_OIDC_CLIENT_SECRET, TONGBAN_OIDC_MAPPING"),
    (_env(TONGBAN_OIDC_SCOPES="profile email"), "must include openid"),
    (_env(TONGBAN_OIDC_ISSUER="tyrz.shinan.gov.cn"), "TONGBAN_OIDC_ISSUER must be an http(s) address"),
    (_env(TONGBAN_OIDC_ISSUER="http://tyrz.shinan.gov.cn", TONGBAN_ENV="production"), "must be an https address"),
    (_env(TONGBAN_OIDC_DISCOVERY_URL="ftp://x/y"), "TONGBAN_OIDC_DISCOVERY_URL"),
    (_env(TONGBAN_OIDC_END_SESSION="yes"), "TONGBAN_OIDC_END_SESSION must be true or false"),
])
def test_unusable_settings_are_refused(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsInvalid) as raised:
        Settings.from_env(env)
    assert message in str(raised.value)


CATALOGUE = RoleCatalogue.from_yaml(ROLES)


def _login(db: Database, claims: dict[str, Any], mapping: str = RULES) -> Any:
    return federated_login(db, CATALOGUE, ClaimMapping.from_yaml(mapping), ISSUER, claims)


def test_a_login_writes_user_link_roles_and_token_together(runtime: Runtime) -> None:
    done = _login(runtime.db, {"sub": "p-1", "preferred_username": "ma.li", "dept": "xzsp", "level": 3,
                               "email": "not an address"})
    assert (done.created, done.username, done.org, done.roles) == (True, "ma.li", "xzsp", ("window_clerk",))
    actor = authenticate(runtime.db, done.token)
    assert (actor.username, actor.roles) == ("ma.li", frozenset({"window_clerk"}))
    with runtime.db.read() as session:
        assert session.scalar(select(User.email).where(User.username == "ma.li")) is None  # not stored
    again = _login(runtime.db, {"sub": "p-1", "preferred_username": "renamed", "groups": ["street-bdq"]})
    assert (again.created, again.username, again.previous_org, again.previous_roles) == (
        False, "ma.li", "xzsp", ("window_clerk",))  # the link decides who it is, not the username claim


@pytest.mark.parametrize(("claims", "reason"), [
    ({"preferred_username": "x", "dept": "xzsp", "level": 3}, "bad_claims"),
    ({"sub": "", "preferred_username": "x", "dept": "xzsp", "level": 3}, "bad_claims"),
    ({"sub": "p-2", "dept": "xzsp", "level": 3}, "bad_claims"),
    ({"sub": "p-2", "preferred_username": "a b", "dept": "xzsp", "level": 3}, "bad_claims"),
    ({"sub": "p-2", "preferred_username": "x" * 65, "dept": "xzsp", "level": 3}, "bad_claims"),
    ({"sub": "p-2", "preferred_username": "window\n", "dept": "xzsp", "level": 3}, "bad_claims"),
    ({"sub": "p-2", "preferred_username": "x" * 64 + "\n", "dept": "xzsp", "level": 3}, "bad_claims"),
    ({"sub": "p-2", "preferred_username": "admin", "dept": "xzsp", "level": 3}, "username_taken"),
    ({"sub": "p-2", "preferred_username": "nobody", "dept": "caizheng"}, "unmapped"),
])
def test_refusals_write_nothing(runtime: Runtime, claims: dict[str, Any], reason: str) -> None:
    with pytest.raises(LoginRefused) as raised:
        _login(runtime.db, claims)
    assert raised.value.reason == reason and isinstance(raised.value, Forbidden)
    with runtime.db.read() as session:
        assert session.scalars(select(FederatedIdentity)).all() == []


@pytest.mark.parametrize(("rule", "problem"), [
    ("{when: {dept: x}, org: nowhere, roles: [window_clerk]}", "no organisation 'nowhere'"),
    ("{when: {dept: x}, org: ent_haiyun, roles: [applicant]}", "is an enterprise"),
    ("{when: {dept: x}, org: xzsp, roles: [emperor]}", "unknown roles ['emperor']"),
    ("{when: {dept: x}, org: xzsp, roles: [street_staff]}", "do not belong to a department"),
])
def test_a_rule_naming_what_cannot_be_is_the_configurations_fault(runtime: Runtime, rule: str,
                                                                   problem: str) -> None:
    with pytest.raises(LoginRefused, match="mapping rule is wrong") as raised:
        _login(runtime.db, {"sub": "p-3", "preferred_username": "x3", "dept": "x"}, f"rules:\n  - {rule}")
    assert raised.value.reason == "misconfigured" and problem in raised.value.message


def test_linking_is_for_administrators_and_one_to_one(runtime: Runtime) -> None:
    admin = runtime.actor("admin")
    with pytest.raises(Forbidden):
        administration.link_identity(runtime.db, runtime.actor("window"), "window", ISSUER, "p-4")
    assert administration.link_identity(runtime.db, admin, "window", ISSUER, "p-4") is True
    assert administration.link_identity(runtime.db, admin, "window", ISSUER, "p-4") is False  # already so
    with pytest.raises(Conflict):
        administration.link_identity(runtime.db, admin, "street", ISSUER, "p-4")  # the person is taken
    with pytest.raises(Conflict):
        administration.link_identity(runtime.db, admin, "window", ISSUER, "p-5")  # the user is taken
    with pytest.raises(TongbanError, match="enterprise"):
        administration.link_identity(runtime.db, admin, "haiyun", ISSUER, "p-6")
    with pytest.raises(NotFound):
        administration.link_identity(runtime.db, admin, "ghost", ISSUER, "p-7")
    assert _login(runtime.db, {"sub": "p-4", "dept": "xzsp", "level": 3}).username == "window"


def test_unlinking_ends_the_platforms_sessions(runtime: Runtime) -> None:
    admin = runtime.actor("admin")
    administration.link_identity(runtime.db, admin, "window", ISSUER, "p-8")
    done = _login(runtime.db, {"sub": "p-8", "dept": "xzsp", "level": 3})
    assert administration.unlink_identity(runtime.db, admin, "window", ISSUER) is True
    assert administration.unlink_identity(runtime.db, admin, "window", ISSUER) is False
    with pytest.raises(TongbanError):
        authenticate(runtime.db, done.token)
    with pytest.raises(LoginRefused, match="username"):  # now an unlinked person named like a local account
        _login(runtime.db, {"sub": "p-8", "preferred_username": "window", "dept": "xzsp", "level": 3})


def test_platform_logins_are_audited(runtime: Runtime) -> None:
    _login(runtime.db, {"sub": "p-11", "preferred_username": "audited", "dept": "xzsp", "level": 3})
    with pytest.raises(LoginRefused):
        _login(runtime.db, {"sub": "p-12", "preferred_username": "outsider", "dept": "caizheng"})
    with runtime.db.read() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.subject.in_(["audited", "outsider"]))
                                  .order_by(AuditEntry.id)).all()
    [ok, refused] = entries
    assert (ok.action, ok.actor, ok.detail["method"], ok.detail["sub"], ok.detail["roles"], ok.detail["created"]) == (
        "login_succeeded", "audited", "oidc", "p-11", ["window_clerk"], True)
    assert (refused.action, refused.actor, refused.detail["reason"], refused.detail["issuer"]) == (
        "login_failed", None, "unmapped", ISSUER)


def test_a_provisioned_user_has_no_password_to_guess(runtime: Runtime) -> None:
    _login(runtime.db, {"sub": "p-9", "preferred_username": "no.pw", "dept": "xzsp", "level": 3})
    with pytest.raises(TongbanError, match="wrong username or password"):
        login(runtime.db, "no.pw", "")


def test_link_and_unlink_from_the_command_line(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    cli = CliRunner()
    missing = cli.invoke(main, ["users", "link", "window", "p-10"])
    assert missing.exit_code != 0 and "TONGBAN_OIDC_ISSUER" in missing.output and "Traceback" not in missing.output
    linked = cli.invoke(main, ["users", "link", "window", "p-10", "--issuer", ISSUER])
    assert linked.exit_code == 0 and "linked" in linked.output
    taken = cli.invoke(main, ["users", "link", "street", "p-10", "--issuer", ISSUER])
    assert taken.exit_code == 1 and "already linked" in taken.output and "Traceback" not in taken.output
    refused = cli.invoke(main, ["users", "unlink", "window", "--issuer", ISSUER, "--as", "window"])
    assert refused.exit_code == 1 and "administrators only" in refused.output
    assert "unlinked" in cli.invoke(main, ["users", "unlink", "window", "--issuer", ISSUER]).output
