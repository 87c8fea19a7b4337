"""axe-core on every page, as the people who use it: no critical and no serious violation.

axe (api/static/vendor/axe-core, vendored for this test only) is loaded from the app's own origin, so the
strict Content-Security-Policy stays on while it runs."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, Page

from engine.base.vocabulary import SignerKind
from engine.runtime import signers
from engine.runtime.runtime import Runtime
from tests.browser.conftest import DESKTOP
from tests.support.axe import violations
from tests.support.funds import deploy_funds, post


@pytest.fixture
def server(repo_server: str) -> str:
    """The administrators' pages read the repository's processes/roles.yaml (a temporary folder has none)."""
    return repo_server


@pytest.fixture
def cases(runtime: Runtime) -> dict[str, str]:
    """A running sample case with the applicant's step open, another waiting for the window (with a co-signer
    proposed), and a fund."""
    haiyun = runtime.actor("haiyun")
    own = runtime.start("sample_approval", {"title": "无障碍检查", "amount": 50_000}, haiyun)
    other = runtime.start("sample_approval", {"title": "窗口审批", "amount": 50_000}, haiyun)
    runtime.complete(other.open_tasks[0].id, {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn",
                                              "commitment": True}, haiyun)
    window = runtime.instance(other.id, runtime.actor("admin")).open_tasks[0].id
    # an outside co-signer waiting for a supervisor: the window's task shows it, the 加签审批 page lists it
    signers.add_signers(runtime.db, window, ["zhujian"], SignerKind.BEFORE, "涉及住建", runtime.actor("window"),
                        ask_approval=True)
    deploy_funds(runtime)
    post(runtime, "fund_in", "2026-07-02T10:00:00+08:00", 100000, donor_name="张三")
    return {"case": f"/cases/{own.id}", "task": f"/tasks/{own.open_tasks[0].id}", "window_task": f"/tasks/{window}",
            "done_task": f"/tasks/{other.open_tasks[0].id}"}


PAGES = {
    "haiyun": ["/services", "/services/zzs_prereg", "/services/yyyz_bundle", "/services/qysq_request", "/cases",
               "{case}", "{task}", "{done_task}", "/notifications"],
    "window": ["/inbox", "/inbox?scope=all", "{window_task}", "/cases"],
    "dispatcher": ["/supervision", "/supervision/heatmap", "/supervision/signers", "/inbox"],
    "admin": ["/admin/users", "/admin/users?q=zhu", "/admin/users/haiyun/confirm/disable",
              "/admin/orgs", "/admin/roles", "/admin/calendar", "/admin/audit"],
    "designer": ["/designer", "/designer/edit?path=processes/sample/approval.bpmn"],
}


def test_no_page_has_a_critical_or_serious_violation(open_as: Callable[..., Page], browser: Browser, server: str,
                                                     cases: dict[str, str]) -> None:
    found: list[str] = []
    anonymous = browser.new_context(viewport=DESKTOP, base_url=server).new_page()
    for path in ("/login", "/verify", "/disclosure/BDQ-D01", "/login?lang=en"):
        anonymous.goto(path)
        found += violations(anonymous)
    anonymous.context.close()
    for user, paths in PAGES.items():
        page = open_as(user)
        for path in paths:
            for lang in ("zh", "en"):
                target = path.format(**cases)
                reply = page.goto(f"{target}{'&' if '?' in target else '?'}lang={lang}")
                if not reply.ok:  # axe on an error page says nothing about the page it stands for
                    found.append(f"{target}: HTTP {reply.status}")
                found += violations(page)
    assert found == [], "\n".join(found)


def test_every_page_has_a_favicon(open_as: Callable[..., Page]) -> None:
    page = open_as("haiyun")
    reply = page.request.get("/favicon.ico")
    assert reply.status == 200 and reply.body()[:4] == b"\x00\x00\x01\x00"  # an icon file
