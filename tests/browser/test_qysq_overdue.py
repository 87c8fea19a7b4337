"""A 135 request going overdue shows its badge in the handler's inbox after a clock jump."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from playwright.sync_api import Page, expect

from engine.background import sla
from engine.base import clock, workdays
from engine.runtime.runtime import Runtime
from tests.browser.conftest import shot
from tests.support.shipped import REQUEST
from tests.support.shipped import complete_step as step


def test_an_overdue_request_gets_its_badge_after_a_clock_jump(open_as: Callable[..., Page], runtime: Runtime) -> None:
    clock.travel(datetime(2026, 3, 2, 9, tzinfo=workdays.CHINA) - clock.now())  # Monday: due Thursday night
    case = runtime.start("qysq_request", REQUEST, runtime.actor("haiyun")).id
    step(runtime, case, "intake", "street", {"kind": "request", "items": [{"title": "清理乱停放单车"}]})
    step(runtime, case, "dispatch", "dispatcher", {"complexity": "ordinary", "lead_unit": "chengguan"})
    step(runtime, case, "sign", "handler", {"sign_action": "sign"})

    handler = open_as("handler")
    handler.goto("/inbox?scope=all")
    row = handler.locator("table.list tr", has_text="办理")
    expect(row).to_contain_text("2026-03-05")
    expect(row.locator(".badge.overdue, .badge.supervised")).to_have_count(0)

    clock.travel(timedelta(days=4))  # Friday 09:00: past Thursday 23:59:59 (yesterday's session has expired)
    sla.sweep(runtime)  # what the background thread of `tongban serve` does every second
    handler = open_as("handler")
    handler.goto("/inbox?scope=all")
    row = handler.locator("table.list tr", has_text="办理")
    expect(row.locator(".badge.overdue")).to_have_text("已超期")
    shot(handler, "inbox-overdue")
    expect(row.locator(".badge", has_text="督办")).to_have_count(1)
    handler.click("text=通知")
    expect(handler.locator(".notifications li.unread").first).to_contain_text("370202QYSQ")
    shot(handler, "notifications")
    handler.locator(".notifications li.unread button").first.click()
    expect(handler.locator(".notifications li.unread")).to_have_count(
        handler.locator(".notifications li").count() - 1)
    handler.goto("/inbox?scope=all")
    handler.check("input[name=overdue]")
    handler.click("form.filters button[type=submit]")
    expect(handler.locator("table.list tbody tr")).to_have_count(1)
