"""The identity platform's log-in in a real browser: the button, the platform's page, back into tongban, and out
again through the platform's end-session page — what the pages' Content-Security-Policy (form-action) must let
through, which no test client sees."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser
from werkzeug.serving import make_server

from api import create_app
from engine.base.settings import OidcSettings
from engine.runtime.runtime import Runtime
from tests.browser.conftest import shot
from tests.support.oidc import MockProvider, running_provider
from tests.support.repo import REPO

MAPPING = "rules:\n  - {when: {dept: xzsp}, org: xzsp, roles: [window_clerk]}\n"


@pytest.fixture
def provider() -> Iterator[MockProvider]:
    with running_provider() as running:
        yield running


@pytest.fixture
def sso_server(client: FlaskClient, runtime: Runtime, tmp_path: Path, provider: MockProvider) -> Iterator[str]:
    """The app with the platform configured, on a local port that is also its TONGBAN_PUBLIC_URL."""
    served: dict[str, Any] = {}
    http = make_server("127.0.0.1", 0, lambda environ, respond: served["app"](environ, respond), threaded=True)
    url = f"http://127.0.0.1:{http.server_port}"
    (tmp_path / "oidc.yaml").write_text(MAPPING)
    settings = dataclasses.replace(
        runtime.settings, processes_dir=REPO / "processes", forms_dir=REPO / "forms", public_url=url,
        oidc=OidcSettings(issuer=provider.url, client_id="tongban", client_secret="s3cret",
                          mapping_path=tmp_path / "oidc.yaml", end_session=True))
    served["app"] = create_app(settings, Runtime(runtime.db, settings))
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield url
    http.shutdown()


def test_a_member_of_staff_signs_in_and_out_through_the_platform(browser: Browser, sso_server: str,
                                                                 provider: MockProvider) -> None:
    provider.person("tyrz-b1", preferred_username="gao.yuan", name="高远", dept="xzsp")
    context = browser.new_context(locale="zh-CN", base_url=sso_server)
    page = context.new_page()
    blocked: list[str] = []
    page.on("console", lambda message: blocked.append(message.text) if "Content Security Policy" in message.text
            else None)
    page.goto("/login?next=/inbox")
    shot(page, "login-with-identity-platform")
    page.click("text=统一身份认证登录")
    page.wait_for_url(f"{provider.url}/oauth2/authorize*")
    page.fill("input[name=sub]", "tyrz-b1")
    page.click("button:text-is('Authorize')")
    page.wait_for_url(f"{sso_server}/inbox")
    assert "gao.yuan" in page.inner_text(".who")
    page.click("text=退出")
    page.wait_for_url(f"{provider.url}/oauth2/end_session*")
    context.close()
    assert blocked == []
