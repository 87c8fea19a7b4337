"""The designer's server over a copy of the processes (a fixture) and a designer's logged-in page."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page
from werkzeug.serving import make_server

from api import create_app
from engine.design import designer
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD
from tests.support.repo import REPO
from tests.support.viewports import DESKTOP


@pytest.fixture
def design_server(client: object, runtime: Runtime, tmp_path: Path) -> Iterator[tuple[str, Runtime]]:
    """The app installed from the repository's processes/ and forms/; the modeler writes to its own workspace."""
    settings = dataclasses.replace(runtime.settings, instance_dir=tmp_path / "instance",
                                   processes_dir=REPO / "processes", forms_dir=REPO / "forms")
    designer.folders(settings)
    served = Runtime(runtime.db, settings)
    http = make_server("127.0.0.1", 0, create_app(settings, served), threaded=True)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{http.server_port}", served
    http.shutdown()


def designer_page(browser: Browser, base: str, viewport: dict[str, int] = DESKTOP,
                  locale: str = "zh-CN") -> tuple[BrowserContext, Page]:
    """A browser context logged in as the demo designer."""
    context = browser.new_context(viewport=viewport, base_url=base, locale=locale)
    page = context.new_page()
    page.goto("/login")
    page.fill("input[name=username]", "designer")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    return context, page

