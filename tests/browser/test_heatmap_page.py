"""The supervision heat map in Chromium (issue 16 point 7): at 1280 px the version's diagram with each task shaded
and labelled with its median, p90 and breaches and each flow with its share; filtered by street; at 390 px the
tables instead of the diagram; axe finds nothing serious at either width."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, shot
from tests.support.axe import violations
from tests.support.heatmap import heat_cases, posting_waits, qysq_version


def test_a_supervisor_sees_where_cases_wait(open_as: Callable[..., Page], runtime: Runtime) -> None:
    heat_cases(runtime)
    version = qysq_version(runtime)
    page = open_as("dispatcher")
    page.click("text=流程热力图")
    page.select_option("#heat-version", str(version))
    page.fill("#heat-from", "2026-03-01")
    page.fill("#heat-to", "2026-03-31")
    page.click("#heat-filters button[type=submit]")
    expect(page.locator("#heat-summary")).to_contain_text("所选期间办件数：7")
    diagram = page.locator("#heat-diagram")
    expect(diagram).to_have_attribute("data-ready", "true")
    label = page.locator(".heat-label[data-element=handle]")
    expect(label).to_have_text("中位 3.0 小时 · P90 7.6 小时 · 超期 2 · 在办 1")
    expect(label).to_be_visible()
    assert page.locator(".djs-element.heat-4[data-element-id=handle]").count() == 1  # the slowest: the darkest
    expect(page.locator(".heat-share[data-flow=f_kind_question]")).to_have_text("14%")
    expect(page.locator(".heat-share[data-flow=f_kind_request]")).to_have_text("86%")
    row = page.locator("#heat-tasks tr[data-element=handle]")
    expect(row).to_contain_text("7.6 小时")
    shot(page, "heatmap")
    assert violations(page) == []

    page.select_option("#heat-street", "street_bdq")
    page.click("#heat-filters button[type=submit]")
    expect(page.locator("#heat-summary")).to_contain_text("八大峡街道")
    expect(page.locator(".heat-label[data-element=handle]")).to_have_text("中位 2.0 小时 · P90 2.8 小时 · 超期 1")
    with page.expect_download() as download:
        page.click("#heat-csv")
    assert download.value.suggested_filename.endswith("_street_bdq.csv")

    phone = open_as("inspector", PHONE)
    phone.goto(f"/supervision/heatmap?version={version}&from=2026-03-01&to=2026-03-31&lang=en")
    expect(phone.locator("#heat-diagram")).to_be_hidden()  # a whole process is unreadable at 390 px
    expect(phone.locator("#heat-tasks tr[data-element=handle]")).to_contain_text("7.6 h")
    expect(phone.locator("#heat-flows tr[data-flow=f_kind_question]")).to_contain_text("14%")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at 390 px ({width})"
    shot(phone, "heatmap-phone")
    assert violations(phone) == []


def test_waits_at_a_timer_are_shown_on_the_diagram_and_in_the_table(open_as: Callable[..., Page],
                                                                     runtime: Runtime) -> None:
    """LYJJ-P's 7-day posting period (张贴满7日), in English: two cases waited 7 and 8 days, one waits still."""
    version = posting_waits(runtime)
    page = open_as("dispatcher")
    page.goto(f"/supervision/heatmap?version={version}&from=2026-03-01&to=2026-03-31&lang=en")
    expect(page.locator("#heat-diagram")).to_have_attribute("data-ready", "true")
    expect(page.locator(".heat-label[data-element=posting_period]")).to_have_text(
        "Median 7.5 days · P90 7.9 days · Waiting 1")
    row = page.locator("#heat-tasks tr[data-element=posting_period]")
    expect(row).to_contain_text("Timer wait")
    expect(row.locator("td").last).to_have_text("—")  # a wait has no SLA of its own
    shot(page, "heatmap-timer")
    assert violations(page) == []
