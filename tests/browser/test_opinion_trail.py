"""审批流水 in the browser: the clerk saves a 常用意见 and inserts it into the decision's opinion with the keyboard;
the enterprise's case page prints the trail (step, who, office, time, decision, opinion) without the street's
internal note, at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, fill_form, shot
from tests.support.opinions import deploy_two_decisions
from tests.support.steps import begin, do, only_task


def test_a_saved_phrase_goes_into_the_opinion_and_the_trail_shows_it(open_as: Callable[..., Page],
                                                                      runtime: Runtime) -> None:
    deploy_two_decisions(runtime)
    case = begin(runtime, "t_opinions", {"title": "三楼办公"})
    do(runtime, "street", case.id, "review", {"review": {"result": "pass", "opinion": "现场与申报一致，楼道狭窄"}})
    task = only_task(runtime, "window", case.id)

    window = open_as("window")
    window.goto(f"/tasks/{task.id}")
    expect(window.locator("#opinion-trail")).to_contain_text("楼道狭窄")  # staff read the internal note
    phrase = window.locator("#phrase-text")
    phrase.fill("材料齐全，符合备案条件")
    phrase.press("Enter")  # keyboard: saved without the mouse
    saved = window.locator("#phrase-list button.phrase", has_text="材料齐全，符合备案条件")
    expect(saved).to_have_count(1)
    fill_form(window, {"approved": "true"})
    saved.focus()
    window.keyboard.press("Enter")  # inserted into the opinion field
    expect(window.locator("[name='root[decision_opinion]']")).to_have_value("材料齐全，符合备案条件")
    shot(window, "task-page-phrases")
    window.click("#submit")
    window.wait_for_url(f"**/cases/{case.id}")

    haiyun = open_as("haiyun")
    haiyun.goto(window.url)
    trail = haiyun.locator("#opinion-trail")
    expect(trail).to_contain_text("窗口决定")
    expect(trail).to_contain_text("市南区行政审批服务局")
    expect(trail).to_contain_text("同意备案：是")
    expect(trail).to_contain_text("材料齐全，符合备案条件")
    expect(trail).not_to_contain_text("楼道狭窄")
    expect(haiyun.locator("body")).not_to_contain_text("楼道狭窄")  # nor in the data or the field history
    shot(haiyun, "case-opinion-trail")
    phone = open_as("haiyun", PHONE)
    phone.goto(window.url)
    expect(phone.locator("#opinion-trail")).to_contain_text("材料齐全，符合备案条件")
    shot(phone, "case-opinion-trail-phone")
