"""Staff log-in through the district's identity platform (统一身份认证): OpenID Connect with Authlib's Flask client.

The authorization code flow with PKCE (S256); Authlib keeps state, nonce and the code verifier in the signed
session and checks the state on the way back.  The ID token is verified here — signature against the
provider's JWKS, issuer equal to the configured one (and the discovery document must name it too), audience
containing our client id, not expired (60 s leeway), nonce equal to ours — before engine.people.federation
decides who the person is.  The result is the same revocable token cookie the password log-in makes, so
everything after (CSRF, logout, revocation on disabling) is the same.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.flask_client.apps import FlaskOAuth2App
from flask import Blueprint, Flask, abort, current_app, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from joserfc.errors import JoseError

from engine.base.settings import OidcSettings, Settings
from engine.definitions.catalogue import RoleCatalogue
from engine.people.federation import ClaimMapping, LoginRefused, federated_login

from ..redirects import safe_next
from ..security import client_ip, runtime

bp = Blueprint("oidc", __name__)
log = logging.getLogger(__name__)

#: Clock difference tolerated between the identity platform and us when checking `exp` and `iat`.
LEEWAY_SECONDS = 60
#: Seconds one request to the platform (discovery, token, keys) may take before the log-in gives up with a page.
PLATFORM_TIMEOUT = 10
_NEXT = "oidc_next"
#: the ID token of a platform session, kept for the end-session request's `id_token_hint`
ID_TOKEN = "oidc_id_token"


@dataclass(frozen=True)
class Provider:
    """The configured identity platform: its settings, the claim mapping and Authlib's client for it."""

    settings: OidcSettings
    mapping: ClaimMapping
    client: FlaskOAuth2App

    def end_session_url(self) -> str | None:
        """Where tongban's logout sends the browser next: the platform's end-session endpoint when
        TONGBAN_OIDC_END_SESSION is on, the session came from the platform and the platform has one; else None
        (tongban's own session is over either way).  Asked before the logout clears the session."""
        id_token = session.get(ID_TOKEN)
        if not (self.settings.end_session and id_token):
            return None
        try:
            if not _checked_metadata(self).get("end_session_endpoint"):
                return None
        except (requests.RequestException, _DiscoveryUnusable) as exc:
            log.warning("identity platform end-session skipped: %r", exc)
            return None
        return self.client.create_logout_url(post_logout_redirect_uri=f"{runtime().settings.public_url}/login",
                                             id_token_hint=id_token)["url"]


def form_targets() -> list[str]:
    """Origins the pages' forms may lead to beyond our own: the logout form ends at the platform's end-session
    page (api/pages/auth.py) — the issuer's origin, and the endpoints' once the discovery document is known."""
    if not configured():
        return []
    provider: Provider = current_app.extensions["tongban_oidc"]
    urls = [provider.settings.issuer, provider.client.server_metadata.get("end_session_endpoint") or ""]
    return sorted({f"{p.scheme}://{p.netloc}" for p in map(urlsplit, urls) if p.scheme and p.netloc})


def install(app: Flask, settings: Settings) -> None:
    """Read the mapping now, so a wrong rule file stops start-up instead of refusing everyone later."""
    app.register_blueprint(bp)
    if settings.oidc is None:
        return
    mapping = ClaimMapping.from_file(settings.oidc.mapping_path)
    oauth = OAuth(app)
    client = oauth.register(
        "district", client_id=settings.oidc.client_id, client_secret=settings.oidc.client_secret,
        server_metadata_url=settings.oidc.metadata_url,
        client_kwargs={"scope": settings.oidc.scopes, "code_challenge_method": "S256",
                       "default_timeout": PLATFORM_TIMEOUT})
    app.extensions["tongban_oidc"] = Provider(settings.oidc, mapping, client)


def configured() -> bool:
    return "tongban_oidc" in current_app.extensions


def _provider() -> Provider:
    if not configured():
        abort(404)
    return current_app.extensions["tongban_oidc"]


def _callback_url() -> str:
    """Where the platform sends people back: fixed by TONGBAN_PUBLIC_URL (registered with the platform),
    never taken from the request's Host header."""
    return f"{runtime().settings.public_url}/login/oidc/callback"


class _DiscoveryUnusable(Exception):
    """The discovery document answered, but not as the configured platform's (a setting or the platform is wrong)."""


#: what the code flow needs from the discovery document
_ENDPOINTS = ("authorization_endpoint", "token_endpoint", "jwks_uri")


def _checked_metadata(provider: Provider) -> dict[str, Any]:
    """The discovery document, which must name the configured issuer (OpenID Connect Discovery 1.0, 4.3) and
    the endpoints the code flow uses."""
    metadata = provider.client.load_server_metadata()
    problem = None
    if metadata.get("issuer") != provider.settings.issuer:
        problem = f"it names the issuer {metadata.get('issuer')!r}, configured {provider.settings.issuer!r}"
    elif missing := [name for name in _ENDPOINTS if not isinstance(metadata.get(name), str)]:
        problem = f"it lacks {', '.join(missing)}"
    if problem:
        provider.client.server_metadata = {}  # read it again next time: the fault may be fixed
        raise _DiscoveryUnusable(f"{provider.settings.metadata_url}: {problem}")
    return metadata


def _refused(message: str, status: int) -> tuple[str, int]:
    return render_template("oidc_refused.html", message=message, title=_("统一身份认证登录未成功")), status


@bp.errorhandler(requests.RequestException)
def _unreachable(exc: requests.RequestException) -> tuple[str, int]:
    log.warning("identity platform unreachable: %s", exc)
    return _refused(_("暂时无法连接统一身份认证平台，请稍后再试或使用本系统账号登录。"), 502)


@bp.errorhandler(_DiscoveryUnusable)
def _mismatch(exc: _DiscoveryUnusable) -> tuple[str, int]:
    log.error("identity platform discovery document unusable: %s", exc)
    return _refused(_("统一身份认证平台的配置与本系统不符，请联系管理员。"), 502)


@bp.errorhandler(MismatchingStateError)
def _foreign_state(exc: MismatchingStateError) -> tuple[str, int]:
    log.warning("identity platform callback with an unknown state")
    return _refused(_("登录请求已失效或不是从本页面发起的，请重新登录。"), 400)


@bp.errorhandler(OAuthError)
def _platform_refused(exc: OAuthError) -> tuple[str, int]:
    log.warning("identity platform refused: %s %s", exc.error, exc.description)
    return _refused(_("统一身份认证平台未完成登录，请重新登录。"), 400)


@bp.errorhandler(JoseError)
def _bad_token(exc: JoseError) -> tuple[str, int]:
    log.warning("identity platform ID token refused: %s", exc)
    return _refused(_("统一身份认证平台的身份凭证未通过校验，请重新登录。"), 400)


@bp.errorhandler(LoginRefused)
def _not_let_in(exc: LoginRefused) -> tuple[str, int]:
    return _refused(exc.message, 403)


@bp.route("/login/oidc")
def start() -> Any:
    """The log-in page's button: a link, not a form, so that the pages' `form-action 'self'` policy does not
    stop the browser at the platform's address.  Anyone may send a browser here; the state it is given binds
    the answer to that browser's session, so all it can achieve is that person logging in as themselves."""
    provider = _provider()
    _checked_metadata(provider)
    session[_NEXT] = safe_next(request.args.get("next"), url_for("portal.home"))
    return provider.client.authorize_redirect(_callback_url())


@bp.route("/login/oidc/callback")
def callback() -> Any:
    """Each way this can fail is a page of its own (the error handlers above), never a 500."""
    provider = _provider()
    claims_options = {"iss": {"essential": True, "value": provider.settings.issuer},
                      "aud": {"essential": True, "value": provider.settings.client_id}}
    _checked_metadata(provider)
    token = provider.client.authorize_access_token(claims_options=claims_options, leeway=LEEWAY_SECONDS)
    claims = token.get("userinfo")
    if not claims:  # no ID token in the answer: an access token alone says nothing about who this is
        log.warning("identity platform answered without an ID token")
        return _refused(_("统一身份认证平台的身份凭证未通过校验，请重新登录。"), 400)
    catalogue = RoleCatalogue.from_folder(runtime().settings.processes_dir)
    try:
        done = federated_login(runtime().db, catalogue, provider.mapping, provider.settings.issuer, dict(claims),
                               client_ip())
    except LoginRefused as exc:
        log.warning("identity platform login refused (%s): sub=%r", exc.reason, claims.get("sub"))
        raise
    log.info("identity platform login: %s (sub=%r, %s) org %s roles %s (before: %s %s)", done.username,
             claims.get("sub"), "new user" if done.created else "linked user", done.org, ",".join(done.roles),
             done.previous_org, ",".join(done.previous_roles))
    target = session.get(_NEXT)
    session.clear()  # a new session for the new identity, as the password log-in does
    session["token"] = done.token
    if provider.settings.end_session:
        session[ID_TOKEN] = token["id_token"]
    return redirect(safe_next(target, url_for("portal.home")))
