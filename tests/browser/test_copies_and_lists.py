"""抄送, 已阅, 催办 and the work-list tabs in Chromium, at desktop and phone widths."""

from __future__ import annotations

from collections.abc import Callable

from playwright.sync_api import Page, expect

from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, shot
from tests.support.shipped import SUBMIT


def test_copy_read_status_urge_and_the_lists(open_as: Callable[..., Page], runtime: Runtime) -> None:
    view = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, runtime.actor("haiyun"))
    runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    [task] = runtime.instance(view.id, runtime.actor("admin")).open_tasks

    window = open_as("window")
    window.goto(f"/tasks/{task.id}")
    # the picker offers whom the case may be copied to: staff and the case's own enterprise, never another one
    expect(window.locator("#cc-users option[value=zhujian]")).to_have_count(1)
    expect(window.locator("#cc-users option[value=haiyun]")).to_have_count(1)
    expect(window.locator("#cc-users option[value=fushan]")).to_have_count(0)
    expect(window.locator("#cc-users option[value=window]")).to_have_count(0)  # not oneself
    expect(window.locator("#cc-roles option[value=reviewer_zhujian]")).to_have_count(1)
    window.select_option("#cc-users", ["zhujian"])
    window.fill("#cc-reason", "请住建局知悉")
    shot(window, "task_cc_picker")
    window.click("#cc-send")
    expect(window.locator("#cc-result")).to_contain_text("✓ zhujian")

    zhujian = open_as("zhujian")
    zhujian.goto("/inbox")
    expect(zhujian.locator("[data-count=copied_unread]")).to_have_text("1")
    zhujian.click("nav.worklists >> text=抄送我的")
    row = zhujian.locator("#worklist tbody tr").first
    expect(row).to_contain_text(view.case_number)
    expect(row.locator(".read-status")).to_contain_text("未阅")
    shot(zhujian, "worklist_copied")
    row.locator("button.mark-read").click()
    expect(row.locator(".read-status")).to_have_text("已阅")
    zhujian.goto(f"/cases/{view.id}")
    expect(zhujian.locator("#copies")).to_contain_text("已阅")
    expect(zhujian.locator("#open-tasks")).to_contain_text("无")  # a copy shows no task

    haiyun = open_as("haiyun", PHONE)
    haiyun.goto(f"/cases/{view.id}")
    expect(haiyun.locator("#cc-form")).to_have_count(0)  # the case page has no 抄送 form; see the API test for refusals
    haiyun.click("#urges button.urge")  # 催办 says why: nothing is sent without it
    expect(haiyun.locator("#urges .urge-count")).to_have_text("0")
    assert haiyun.evaluate("document.getElementById('urge-reason').validity.valueMissing")
    haiyun.fill("#urge-reason", "已过承诺时限，请尽快办理")
    haiyun.click("#urges button.urge")
    expect(haiyun.locator("#urges .urge-count")).to_have_text("1")
    expect(haiyun.locator("#urges button.urge")).to_be_disabled()
    shot(haiyun, "case_urged_phone")
    haiyun.goto("/inbox/started")
    expect(haiyun.locator("#worklist")).to_contain_text(view.case_number)
    expect(haiyun.locator("#worklist")).to_contain_text("审批")  # the step the case waits at now
    shot(haiyun, "worklist_started_phone")

    window.goto("/inbox?scope=all")
    expect(window.locator("table.list")).to_contain_text("催办 1")
    runtime.complete(task.id, {"decision": "approved", "comment": "同意"}, runtime.actor("window"))
    window.goto("/inbox/done")
    expect(window.locator("#worklist")).to_contain_text("准予")
    shot(window, "worklist_done")
