"""The supervision dashboard in Chromium: the dispatcher sees the figures, both charts drawn, the lists linked."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import shot


def test_dispatcher_opens_the_dashboard(open_as: Callable[..., Page], cases: dict[str, int]) -> None:
    page = open_as("dispatcher")
    page.click("text=督办统计")
    page.fill("input[name=from]", "2026-03-01")
    page.fill("input[name=to]", "2026-03-31")
    page.click("form.filters button[type=submit]")
    expect(page.locator("h1")).to_contain_text("督办统计")
    expect(page.locator(".kpi").first).to_contain_text("6")
    for chart in ("#chart-units", "#chart-buildings"):  # Chart.js sizes the canvas once it has drawn
        assert page.locator(chart).evaluate("c => c.width > 0 && !!Chart.getChart(c)")
    expect(page.locator("table.list").nth(2)).to_contain_text("370202QYSQ20260302000003")
    link = page.locator("table.list").nth(2).locator("a").first
    expect(link).to_have_attribute("href", f"/cases/{cases['overdue']}")
    shot(page, "supervision")
