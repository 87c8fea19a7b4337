"""Browser tests: the real app on a local port, driven by Playwright in Debian's Chromium.

`.ci/run` installs Chromium and sets TONGBAN_TEST_BROWSER, so there a missing browser fails the run;
on a developer machine without /usr/bin/chromium these tests are skipped with the reason.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from playwright.sync_api import Browser, Page, sync_playwright
from werkzeug.serving import make_server

from tests.support.designer import design_server  # noqa: F401 - the designer's server, a fixture
from tests.support.http import PASSWORD
from tests.support.repo import REPO
from tests.support.viewports import DESKTOP, PHONE  # noqa: F401 - the browser tests import them from here

CHROMIUM = os.environ.get("TONGBAN_TEST_BROWSER") or "/usr/bin/chromium"
SHOTS = REPO / "build" / "screenshots"


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        if os.environ.get("TONGBAN_TEST_BROWSER"):
            pytest.fail(f"TONGBAN_TEST_BROWSER={CHROMIUM} does not exist")
        pytest.skip("no Chromium at /usr/bin/chromium (apt-get install -y chromium); .ci/run installs it")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _serve(client: FlaskClient) -> Iterator[str]:
    http = make_server("127.0.0.1", 0, client.application, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


@pytest.fixture
def server(client: FlaskClient) -> Iterator[str]:
    """The app of the `client` fixture (demo users, processes deployed) served on a free local port."""
    yield from _serve(client)


@pytest.fixture
def repo_server(admin_client: FlaskClient) -> Iterator[str]:
    """`server` reading the repository's processes/ (the administrators' pages name roles from its roles.yaml);
    a test module uses it by defining `server` as it."""
    yield from _serve(admin_client)


@pytest.fixture
def open_as(browser: Browser, server: str) -> Iterator[Callable[..., Page]]:
    """`open_as("haiyun")` → a logged-in page of its own browser context; page errors fail the test."""
    contexts = []
    errors: list[str] = []

    def login(username: str, viewport: dict[str, int] = DESKTOP) -> Page:
        context = browser.new_context(viewport=viewport, locale="zh-CN", base_url=server)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda exc: errors.append(f"{username}: {exc}"))
        page.goto("/login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_load_state("networkidle")
        return page

    yield login
    for context in contexts:
        context.close()
    assert errors == []


def shot(page: Page, name: str) -> None:
    """Screenshots of the main pages, kept under build/screenshots for people to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def fill_form(page: Page, values: dict[str, str]) -> None:
    """Fill a json-editor form by field path (`address.street_office`): text, select, checkbox or radio."""
    for path, value in values.items():
        name = "root" + "".join(f"[{part}]" for part in path.split("."))
        page.locator(f"[name='{name}']:visible").first.wait_for()  # the form renders after the page loads
        radio = page.locator(f"input[type=radio][name='{name}'][value='{value}']:visible")
        if radio.count():
            radio.first.check()
            continue
        field = page.locator(f"input[name='{name}']:visible, select[name='{name}']:visible, "
                             f"textarea[name='{name}']:visible").first
        if field.evaluate("el => el.tagName") == "SELECT":
            field.select_option(value)
        elif field.get_attribute("type") == "checkbox":
            field.set_checked(value == "true")
        else:
            field.fill(value)
