"""A real OpenID Connect provider for the identity-platform tests: oidc-provider-mock in a thread, on a port of
its own, with a hook to make its token endpoint hand out a doctored ID token (the provider's own key, or a
stranger's) and one to spoil its discovery document — the only way to see tongban refuse a wrong audience,
issuer, expiry, signature or discovery document end to end.
"""

from __future__ import annotations

import html
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import flask
import oidc_provider_mock
import requests
import werkzeug.serving
from flask.testing import FlaskClient
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.test import TestResponse

#: rewrites the claims (and may swap the key) of the ID token the token endpoint is about to send
Doctor = Callable[[dict[str, Any]], RSAKey | None]


@dataclass
class MockProvider:
    url: str
    doctor: Doctor | None = None
    #: rewrites the discovery document before it is sent (None: as the provider wrote it)
    discovery: Callable[[dict[str, Any]], None] | None = None
    #: every authorization request tongban sent, as parsed query parameters
    authorizations: list[dict[str, str]] = field(default_factory=list)

    def person(self, sub: str, **claims: Any) -> str:
        """Register (or change) a person at the platform with these claims; returns the subject."""
        requests.put(f"{self.url}/users/{sub}", json=claims, timeout=5).raise_for_status()
        return sub

    def sign_in(self, authorize_url: str, sub: str, deny: bool = False) -> str:
        """The person signs in at the platform (or refuses): the callback address it sends them back to."""
        self.authorizations.append({k: v[0] for k, v in parse_qs(urlsplit(authorize_url).query).items()})
        form = {"action": "deny"} if deny else {"sub": sub}
        reply = requests.post(authorize_url, data=form, allow_redirects=False, timeout=5)
        assert reply.status_code == 302, reply.text
        return reply.headers["Location"]


def _doctored(provider: MockProvider, response: flask.Response) -> flask.Response:
    if provider.discovery is not None and flask.request.path == "/.well-known/openid-configuration":
        body = response.get_json()
        provider.discovery(body)
        response.set_data(flask.json.dumps(body))
        return response
    if provider.doctor is None or flask.request.path != "/oauth2/token" or response.status_code != 200:
        return response
    body = response.get_json()
    key = RSAKey.import_key(flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True))
    token = jwt.decode(body["id_token"], key)
    claims = dict(token.claims)
    signer = provider.doctor(claims) or key
    body["id_token"] = jwt.encode(dict(token.header), claims, signer)
    response.set_data(flask.json.dumps(body))
    return response


@contextmanager
def running_provider() -> Iterator[MockProvider]:
    app = oidc_provider_mock.app(require_nonce=True)
    server = werkzeug.serving.make_server("localhost", 0, app, threaded=True)
    provider = MockProvider(url=f"http://localhost:{server.server_port}")
    app.after_request(lambda response: _doctored(provider, response))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    try:
        yield provider
    finally:
        server.shutdown()
        thread.join(5)
        server.server_close()


def start_sso(client: FlaskClient, next_path: str | None = None) -> str:
    """Follow the log-in page's identity-platform button: the platform's authorization address."""
    page = client.get("/login", query_string={"next": next_path} if next_path else None).get_data(as_text=True)
    button = re.search(r'<a class="button primary" href="([^"]+)"', page).group(1)
    reply = client.get(html.unescape(button))
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return reply.headers["Location"]


def come_back(client: FlaskClient, callback_url: str, **override: str) -> TestResponse:
    """Follow the platform's redirect back into tongban (query values replaced by `override`)."""
    parts = urlsplit(callback_url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | override
    return client.get(parts.path, query_string=query)


def sso(client: FlaskClient, provider: MockProvider, sub: str, next_path: str | None = None) -> TestResponse:
    """The whole round trip: button, sign-in at the platform, callback."""
    return come_back(client, provider.sign_in(start_sso(client, next_path), sub))
