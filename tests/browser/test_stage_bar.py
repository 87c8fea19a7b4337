"""The stage bar of a process that declares its own stages (issue 16 point 2): a 135 request's 受理 → 办理 → 反馈 with
the promised date on the current stage and the countdown in working days, in Chinese and English, at 1280 and
390 px; after the due day has passed, the working days overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from engine.background import sla
from engine.base import clock, workdays
from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, shot
from tests.support.axe import violations
from tests.support.shipped import REQUEST, complete_step


def _classes(page: Page) -> list[str | None]:
    stages = page.locator("#stages li")
    return [stages.nth(i).get_attribute("class") for i in range(stages.count())]


def test_a_request_counts_down_in_working_days(open_as: Callable[..., Page], runtime: Runtime) -> None:
    clock.travel(datetime(2026, 3, 2, 9, tzinfo=workdays.CHINA) - clock.now())  # Monday: handling due Thursday night
    case = runtime.start("qysq_request", REQUEST, runtime.actor("haiyun")).id
    haiyun = open_as("haiyun")
    haiyun.goto(f"/cases/{case}")
    expect(haiyun.locator("#stages .stage-name")).to_have_text(["受理", "办理", "反馈"])
    assert _classes(haiyun) == ["stage current", "stage todo", "stage todo"]

    complete_step(runtime, case, "intake", "street", {"kind": "request", "items": [{"title": "清理乱停放单车"}]})
    complete_step(runtime, case, "dispatch", "dispatcher", {"complexity": "ordinary", "lead_unit": "chengguan"})
    complete_step(runtime, case, "sign", "handler", {"sign_action": "sign"})
    haiyun.goto(f"/cases/{case}")
    assert _classes(haiyun) == ["stage done", "stage current", "stage todo"]
    expect(haiyun.locator("#stages .current .stage-due")).to_have_text("承诺 2026-03-05")
    expect(haiyun.locator("#due .badge")).to_have_text("还剩 3 个工作日")  # Tuesday, Wednesday, Thursday
    shot(haiyun, "stage-bar-qysq")
    assert violations(haiyun) == []
    haiyun.goto(f"/cases/{case}?lang=en")
    expect(haiyun.locator("#stages .stage-name")).to_have_text(["Accepted", "Handling", "Feedback"])
    expect(haiyun.locator("#due .badge")).to_have_text("3 working days left")
    expect(haiyun.locator("#stages .current .stage-due")).to_have_text("Promised 2026-03-05")
    shot(haiyun, "stage-bar-qysq-en")

    clock.travel(timedelta(days=4))  # Friday 09:00: one working day past Thursday night
    sla.sweep(runtime)
    phone = open_as("haiyun", PHONE)
    phone.goto(f"/cases/{case}")
    expect(phone.locator("#due .badge.overdue")).to_have_text("已超期 1 个工作日")
    assert _classes(phone) == ["stage done", "stage current", "stage todo"]
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at 390 px ({width})"
    shot(phone, "stage-bar-qysq-overdue-phone")
    assert violations(phone) == []
    clock.travel(timedelta(days=4))  # the Tuesday after: Friday, Monday, Tuesday (Friday's session has expired)
    phone = open_as("haiyun", PHONE)
    phone.goto(f"/cases/{case}?lang=en")
    expect(phone.locator("#due .badge.overdue")).to_have_text("3 working days overdue")
