"""Staff log-in through the district's identity platform, against a real OIDC provider (oidc-provider-mock in a
thread) over a real redirect chain: button → platform → callback → an ordinary tongban session."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient
from joserfc.jwk import RSAKey
from sqlalchemy import select

from api import create_app
from api.cli import main as serve_command
from api.pages import oidc as oidc_pages
from engine.base.settings import OidcSettings
from engine.people import administration
from engine.runtime.runtime import Runtime
from engine.store.models import ApiToken, FederatedIdentity, Organisation, User, UserRole
from tests.support.http import csrf_of, log_in
from tests.support.oidc import MockProvider, come_back, running_provider, sso, start_sso
from tests.support.repo import REPO

MAPPING = """
username_claim: preferred_username
rules:
  - when: {dept: xzsp}
    org: xzsp
    roles: [window_clerk]
  - when: {groups: street-bdq-staff}
    org: street_bdq
    roles: [street_staff]
  - when: {dept: haiyun}
    org: ent_haiyun
    roles: [applicant]
"""


@pytest.fixture(scope="module")
def provider() -> Iterator[MockProvider]:
    with running_provider() as running:
        yield running


@pytest.fixture(autouse=True)
def _honest_provider(provider: MockProvider) -> Iterator[None]:
    provider.doctor = provider.discovery = None
    yield
    provider.doctor = provider.discovery = None


def _sso_app(runtime: Runtime, tmp_path: Path, issuer: str, mapping: str = MAPPING, **oidc: Any) -> FlaskClient:
    (tmp_path / "oidc.yaml").write_text(mapping)
    settings = dataclasses.replace(
        runtime.settings, processes_dir=REPO / "processes", forms_dir=REPO / "forms",
        oidc=OidcSettings(issuer=issuer, client_id="tongban", client_secret="s3cret",
                          mapping_path=tmp_path / "oidc.yaml", **oidc))
    return create_app(settings, Runtime(runtime.db, settings)).test_client()


@pytest.fixture
def sso_client(client: FlaskClient, runtime: Runtime, tmp_path: Path, provider: MockProvider) -> FlaskClient:
    """The app with the platform configured (`client` first: every local user has the password PASSWORD)."""
    return _sso_app(runtime, tmp_path, provider.url)


def _user(runtime: Runtime, username: str) -> tuple[User, str, list[str]]:
    with runtime.db.read() as session:
        user = session.scalar(select(User).where(User.username == username))
        assert user is not None
        org = session.scalar(select(Organisation.code).where(Organisation.id == user.org_id))
        roles = sorted(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id)))
        return user, org, roles


def _session_token(client: FlaskClient) -> str | None:
    with client.session_transaction() as session:
        return session.get("token")


def test_the_button_is_offered_only_when_a_platform_is_configured(client: FlaskClient,
                                                                  sso_client: FlaskClient) -> None:
    assert "统一身份认证登录" not in client.get("/login").get_data(as_text=True)
    assert client.get("/login/oidc").status_code == 404
    assert client.get("/login/oidc/callback?code=x&state=y").status_code == 404
    page = sso_client.get("/login").get_data(as_text=True)
    assert "统一身份认证登录" in page and 'name="password"' in page  # beside the local log-in, not instead
    assert "Sign in with the district identity platform" in sso_client.get("/login?lang=en").get_data(as_text=True)


def test_forms_may_lead_to_the_platform_and_nowhere_else(client: FlaskClient, sso_client: FlaskClient,
                                                         provider: MockProvider) -> None:
    """The logout form ends at the platform's end-session page: `form-action` lets that through, nothing more."""
    assert "form-action 'self';" in client.get("/login").headers["Content-Security-Policy"]
    assert f"form-action 'self' {provider.url};" in sso_client.get("/login").headers["Content-Security-Policy"]


def test_first_login_creates_the_mapped_user_with_an_ordinary_session(
        sso_client: FlaskClient, provider: MockProvider, runtime: Runtime) -> None:
    sub = provider.person("tyrz-0001", preferred_username="zhang.wei", name="张伟", email="zw@shinan.gov.cn",
                          dept="xzsp")
    authorize = start_sso(sso_client, "/inbox")
    reply = come_back(sso_client, provider.sign_in(authorize, sub))
    assert reply.status_code == 302 and reply.headers["Location"] == "/inbox"
    sent = provider.authorizations[-1]
    assert sent["code_challenge_method"] == "S256" and len(sent["code_challenge"]) >= 43
    assert sent["nonce"] and sent["state"] and sent["client_id"] == "tongban"
    assert sent["redirect_uri"] == "http://127.0.0.1:5000/login/oidc/callback"  # TONGBAN_PUBLIC_URL's, not Host's
    user, org, roles = _user(runtime, "zhang.wei")
    assert (org, roles, user.display_name, user.email) == ("xzsp", ["window_clerk"], "张伟", "zw@shinan.gov.cn")
    assert user.password_hash is None  # only the platform lets this user in
    with runtime.db.read() as session:
        link = session.scalar(select(FederatedIdentity).where(FederatedIdentity.user_id == user.id))
        assert (link.issuer, link.subject, link.last_org, link.last_roles) == (
            provider.url, sub, "xzsp", ["window_clerk"])
    page = sso_client.get("/inbox")
    assert page.status_code == 200 and "zhang.wei" in page.get_data(as_text=True)
    # the same revocable token the password log-in makes: it works as a bearer token too
    token = _session_token(sso_client)
    assert sso_client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_each_login_applies_the_rule_again(sso_client: FlaskClient, provider: MockProvider,
                                           runtime: Runtime) -> None:
    sub = provider.person("tyrz-0002", preferred_username="li.na", dept="xzsp")
    assert sso(sso_client, provider, sub).status_code == 302
    assert _user(runtime, "li.na")[1:] == ("xzsp", ["window_clerk"])
    provider.person(sub, preferred_username="li.na", dept="moved", groups=["street-bdq-staff", "union"])
    assert sso(sso_client, provider, sub).status_code == 302
    assert _user(runtime, "li.na")[1:] == ("street_bdq", ["street_staff"])  # the window role is gone
    with runtime.db.read() as session:
        link = session.scalar(select(FederatedIdentity).where(FederatedIdentity.subject == sub))
        assert (link.last_org, link.last_roles) == ("street_bdq", ["street_staff"])
        assert session.scalar(select(User.username).where(User.id == link.user_id)) == "li.na"


def test_a_person_the_rule_does_not_map_is_refused(sso_client: FlaskClient, provider: MockProvider,
                                                   runtime: Runtime) -> None:
    sub = provider.person("tyrz-0003", preferred_username="wang.qiang", dept="caizheng", groups=["union"])
    reply = sso(sso_client, provider, sub)
    assert reply.status_code == 403
    text = reply.get_data(as_text=True)
    assert "统一身份认证未授予您本系统的岗位" in text and "统一身份认证登录未成功" in text
    assert _session_token(sso_client) is None
    with runtime.db.read() as session:
        assert session.scalar(select(User).where(User.username == "wang.qiang")) is None
        assert session.scalar(select(FederatedIdentity).where(FederatedIdentity.subject == sub)) is None


def test_a_linked_user_the_rule_no_longer_maps_is_refused(sso_client: FlaskClient, provider: MockProvider,
                                                          runtime: Runtime) -> None:
    sub = provider.person("tyrz-0004", preferred_username="zhao.lei", dept="xzsp")
    assert sso(sso_client, provider, sub).status_code == 302
    sso_client.post("/logout", data={"csrf_token": csrf_of(sso_client.get("/login").get_data(as_text=True))})
    provider.person(sub, preferred_username="zhao.lei", dept="retired")
    assert sso(sso_client, provider, sub).status_code == 403
    assert _session_token(sso_client) is None


def test_a_state_that_is_not_ours_is_refused(sso_client: FlaskClient, provider: MockProvider,
                                             runtime: Runtime) -> None:
    sub = provider.person("tyrz-0005", preferred_username="sun.li", dept="xzsp")
    callback = provider.sign_in(start_sso(sso_client), sub)
    reply = come_back(sso_client, callback, state="forged-state")
    assert reply.status_code == 400 and "登录请求已失效" in reply.get_data(as_text=True)
    assert _session_token(sso_client) is None
    # a callback delivered to a browser that never started the log-in (login CSRF) is refused alike
    stranger = _sso_app(runtime, Path(runtime.settings.instance_dir), provider.url)
    assert come_back(stranger, callback).status_code == 400
    with runtime.db.read() as session:
        assert session.scalar(select(User).where(User.username == "sun.li")) is None


def test_a_callback_is_good_once(sso_client: FlaskClient, provider: MockProvider) -> None:
    sub = provider.person("tyrz-0006", preferred_username="zhou.min", dept="xzsp")
    callback = provider.sign_in(start_sso(sso_client), sub)
    assert come_back(sso_client, callback).status_code == 302
    assert come_back(sso_client, callback).status_code == 400  # state used up


def test_a_code_from_someone_elses_login_is_refused(sso_client: FlaskClient, provider: MockProvider,
                                                    runtime: Runtime) -> None:
    """Code injection: an attacker signs in themselves and slips their code into the victim's callback (with the
    victim's own state).  The ID token then carries the attacker's nonce, not the one in the victim's session."""
    attacker = _sso_app(runtime, Path(runtime.settings.instance_dir), provider.url)
    mallory = provider.person("tyrz-mallory", preferred_username="mallory", dept="xzsp")
    stolen = provider.sign_in(start_sso(attacker), mallory)
    victim_state = parse_qs(urlsplit(start_sso(sso_client)).query)["state"][0]
    reply = come_back(sso_client, stolen, state=victim_state)
    assert reply.status_code == 400 and "身份凭证未通过校验" in reply.get_data(as_text=True)
    assert _session_token(sso_client) is None


def test_a_used_code_is_refused_by_the_platform(sso_client: FlaskClient, provider: MockProvider) -> None:
    sub = provider.person("tyrz-0014", preferred_username="yang.fan", dept="xzsp")
    first = provider.sign_in(start_sso(sso_client), sub)
    assert come_back(sso_client, first).status_code == 302
    fresh_state = parse_qs(urlsplit(start_sso(sso_client)).query)["state"][0]
    reply = come_back(sso_client, first, state=fresh_state)  # the old code under a state that is ours
    assert reply.status_code == 400 and "未完成登录" in reply.get_data(as_text=True)


def _foreign_key(claims: dict[str, Any]) -> RSAKey:
    return RSAKey.generate_key(2048, private=True)


def _wrong_audience(claims: dict[str, Any]) -> None:
    claims["aud"] = "another-system"


def _audience_list_without_us(claims: dict[str, Any]) -> None:
    claims["aud"], claims["azp"] = ["another-system", "third"], "tongban"


def _wrong_issuer(claims: dict[str, Any]) -> None:
    claims["iss"] = "https://evil.example"


def _expired(claims: dict[str, Any]) -> None:  # beyond the 60 s leeway, by one second
    claims["iat"], claims["exp"] = int(time.time()) - 3600, int(time.time()) - 61


def _replayed_nonce(claims: dict[str, Any]) -> None:
    claims["nonce"] = "from-another-login"


def _no_subject(claims: dict[str, Any]) -> None:
    del claims["sub"]


@pytest.mark.parametrize("doctor", [_foreign_key, _wrong_audience, _audience_list_without_us, _wrong_issuer,
                                    _expired, _replayed_nonce, _no_subject])
def test_an_id_token_that_fails_verification_is_refused(sso_client: FlaskClient, provider: MockProvider,
                                                        runtime: Runtime, doctor: Any) -> None:
    sub = provider.person(f"tyrz-bad-{doctor.__name__}", preferred_username=f"bad{doctor.__name__}", dept="xzsp")
    provider.doctor = doctor
    reply = sso(sso_client, provider, sub)
    assert reply.status_code == 400 and "身份凭证未通过校验" in reply.get_data(as_text=True)
    assert _session_token(sso_client) is None
    with runtime.db.read() as session:
        assert session.scalar(select(FederatedIdentity).where(FederatedIdentity.subject == sub)) is None


def test_an_id_token_just_inside_the_leeway_is_accepted(sso_client: FlaskClient, provider: MockProvider) -> None:
    sub = provider.person("tyrz-0007", preferred_username="qian.yu", dept="xzsp")

    def _nearly_expired(claims: dict[str, Any]) -> None:
        claims["exp"] = int(time.time()) - 50

    provider.doctor = _nearly_expired
    assert sso(sso_client, provider, sub).status_code == 302


def test_a_discovery_document_naming_another_issuer_is_refused(runtime: Runtime, tmp_path: Path,
                                                               provider: MockProvider) -> None:
    # the mock names itself after the host it was asked on: asked as localhost, it says it is localhost
    port = provider.url.rsplit(":", 1)[1]
    client = _sso_app(runtime, tmp_path, f"http://127.0.0.1:{port}",
                      discovery_url=f"{provider.url}/.well-known/openid-configuration")
    reply = client.get("/login/oidc")
    assert reply.status_code == 502 and "配置与本系统不符" in reply.get_data(as_text=True)


def test_a_discovery_document_without_the_keys_address_is_refused(runtime: Runtime, tmp_path: Path,
                                                                  provider: MockProvider) -> None:
    client = _sso_app(runtime, tmp_path, provider.url)
    provider.discovery = lambda document: document.pop("jwks_uri")
    assert client.get("/login/oidc").status_code == 502
    provider.discovery = None  # fixed at the platform: the next attempt reads the document again
    assert client.get("/login/oidc").status_code == 302


def test_an_unreachable_platform_is_a_page_not_a_500(runtime: Runtime, tmp_path: Path) -> None:
    client = _sso_app(runtime, tmp_path, "http://127.0.0.1:9")
    reply = client.get("/login/oidc")
    assert reply.status_code == 502 and "暂时无法连接统一身份认证平台" in reply.get_data(as_text=True)


def test_a_platform_that_never_answers_is_given_up_on(runtime: Runtime, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(oidc_pages, "PLATFORM_TIMEOUT", 1)
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never says a word
        client = _sso_app(runtime, tmp_path, f"http://127.0.0.1:{silent.getsockname()[1]}")
        began = time.monotonic()
        reply = client.get("/login/oidc")
    assert reply.status_code == 502 and time.monotonic() - began < 5


def test_a_person_who_refuses_at_the_platform_gets_a_page(sso_client: FlaskClient, provider: MockProvider) -> None:
    callback = provider.sign_in(start_sso(sso_client), "", deny=True)
    reply = come_back(sso_client, callback)
    assert reply.status_code == 400 and "未完成登录" in reply.get_data(as_text=True)
    assert _session_token(sso_client) is None


def test_a_disabled_user_cannot_log_in_through_the_platform(sso_client: FlaskClient, provider: MockProvider,
                                                            runtime: Runtime) -> None:
    sub = provider.person("tyrz-0008", preferred_username="wu.gang", dept="xzsp")
    assert sso(sso_client, provider, sub).status_code == 302
    first = _session_token(sso_client)
    administration.disable(runtime.db, runtime.actor("admin"), "wu.gang")
    assert sso_client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {first}"}).status_code == 401
    reply = sso(sso_client, provider, sub)
    assert reply.status_code == 403 and "该账号已停用" in reply.get_data(as_text=True)
    assert _session_token(sso_client) is None
    with runtime.db.read() as session:
        user = session.scalar(select(User).where(User.username == "wu.gang"))
        live = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                      ApiToken.revoked_at.is_(None))).all()
        assert user.disabled and live == []


def test_a_platform_login_never_takes_over_a_local_account(sso_client: FlaskClient, provider: MockProvider,
                                                           runtime: Runtime) -> None:
    before = _user(runtime, "window")
    sub = provider.person("tyrz-0009", preferred_username="window", groups=["street-bdq-staff"])
    reply = sso(sso_client, provider, sub)
    assert reply.status_code == 403 and "已被本系统账号使用" in reply.get_data(as_text=True)
    assert _user(runtime, "window")[1:] == before[1:] == ("xzsp", ["window_clerk"])
    # once an administrator links the platform's person to it, that person logs in as `window`
    administration.link_identity(runtime.db, runtime.actor("admin"), "window", provider.url, sub)
    assert sso(sso_client, provider, sub).status_code == 302
    assert _user(runtime, "window")[1:] == ("street_bdq", ["street_staff"])  # and the rule applies from now on


def test_an_enterprise_is_not_the_platforms_to_map(sso_client: FlaskClient, provider: MockProvider,
                                                   runtime: Runtime) -> None:
    sub = provider.person("tyrz-0010", preferred_username="haiyun.staff", dept="haiyun")
    reply = sso(sso_client, provider, sub)
    assert reply.status_code == 403 and "is an enterprise" in reply.get_data(as_text=True)
    with runtime.db.read() as session:
        assert session.scalar(select(User).where(User.username == "haiyun.staff")) is None


def test_without_provisioning_only_linked_users_get_in(runtime: Runtime, tmp_path: Path,
                                                       provider: MockProvider) -> None:
    client = _sso_app(runtime, tmp_path, provider.url, mapping="provision: false\n" + MAPPING)
    sub = provider.person("tyrz-0011", preferred_username="he.jing", dept="xzsp")
    reply = sso(client, provider, sub)
    assert reply.status_code == 403 and "尚未关联" in reply.get_data(as_text=True)
    administration.link_identity(runtime.db, runtime.actor("admin"), "huifang", provider.url, sub)
    assert sso(client, provider, sub).status_code == 302
    assert _user(runtime, "huifang")[1:] == ("xzsp", ["window_clerk"])


@pytest.mark.parametrize("target", ["//evil.example/x", "/\\evil.example", "https://evil.example/"])
def test_next_never_leaves_the_site(sso_client: FlaskClient, provider: MockProvider, target: str) -> None:
    sub = provider.person("tyrz-0012", preferred_username="feng.yi", dept="xzsp")
    reply = sso(sso_client, provider, sub, next_path=target)
    assert reply.status_code == 302 and reply.headers["Location"] == "/"


def test_logout_ends_the_tongban_session(sso_client: FlaskClient, provider: MockProvider) -> None:
    sub = provider.person("tyrz-0013", preferred_username="chen.chen", dept="xzsp")
    sso(sso_client, provider, sub)
    token = _session_token(sso_client)
    csrf = csrf_of(sso_client.get("/inbox").get_data(as_text=True))
    reply = sso_client.post("/logout", data={"csrf_token": csrf})
    assert reply.status_code == 302 and reply.headers["Location"] == "/login"  # end-session is off by default
    assert sso_client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert sso_client.get("/inbox").status_code == 302


def test_logout_can_end_the_platforms_session_too(client: FlaskClient, runtime: Runtime, tmp_path: Path,
                                                  provider: MockProvider) -> None:
    """(`client` for the local password of `window`.)"""
    platform = _sso_app(runtime, tmp_path, provider.url, end_session=True)
    sub = provider.person("tyrz-0015", preferred_username="lin.tao", dept="xzsp")
    sso(platform, provider, sub)
    token = _session_token(platform)
    cookie = platform.get_cookie("session")
    assert len(cookie.value) < 4000  # the ID token kept for the hint still fits a cookie
    csrf = csrf_of(platform.get("/inbox").get_data(as_text=True))
    reply = platform.post("/logout", data={"csrf_token": csrf})
    target = urlsplit(reply.headers["Location"])
    query = parse_qs(target.query)
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{provider.url}/oauth2/end_session"
    assert query["post_logout_redirect_uri"] == ["http://127.0.0.1:5000/login"] and query["id_token_hint"][0]
    assert platform.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # a local log-in on the same app logs out locally: there is no platform session to end
    log_in(platform, "window")
    csrf = csrf_of(platform.get("/inbox").get_data(as_text=True))
    assert platform.post("/logout", data={"csrf_token": csrf}).headers["Location"] == "/login"


def test_serve_with_a_wrong_mapping_file_says_so(runtime: Runtime, tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "oidc.yaml").write_text("rules:\n  - {when: {}, org: xzsp, roles: [window_clerk]}\n")
    for name, value in {"TONGBAN_DATABASE_URL": runtime.db.url, "TONGBAN_OIDC_ISSUER": "http://127.0.0.1:9",
                        "TONGBAN_OIDC_CLIENT_ID": "tongban", "TONGBAN_OIDC_CLIENT_SECRET": "x",
                        "TONGBAN_OIDC_MAPPING": str(tmp_path / "oidc.yaml")}.items():
        monkeypatch.setenv(name, value)
    result = CliRunner().invoke(serve_command, ["serve", "--port", "59321"])  # refused before it binds
    assert result.exit_code == 1 and "/rules/0/when" in result.output and "Traceback" not in result.output


def test_local_accounts_keep_working_beside_the_platform(sso_client: FlaskClient, runtime: Runtime) -> None:
    log_in(sso_client, "window")
    assert sso_client.get("/inbox").status_code == 200
