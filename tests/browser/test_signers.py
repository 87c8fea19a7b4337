"""加签 and 委派 from the task page: the holder adds a co-signer, who signs by keyboard; a task entrusted and back."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, fill_form, shot
from tests.support.http import PASSWORD
from tests.support.repo import ROLES
from tests.support.shipped import SUBMIT


def _approve_task(runtime: Runtime, title: str) -> str:
    with runtime.db.write() as session:
        add_user(session, RoleCatalogue.from_yaml(ROLES), "window2", "xzsp", ["window_clerk"], "李窗口", PASSWORD)
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", {"title": title, "amount": 50_000}, haiyun)
    runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
    return runtime.instance(view.id, runtime.actor("admin")).open_tasks[0].id


def test_the_holder_adds_a_cosigner_who_signs_and_the_holder_completes(
        open_as: Callable[..., Page], runtime: Runtime) -> None:
    task = _approve_task(runtime, "加签演示")
    window = open_as("window")
    window.goto(f"/tasks/{task}")
    window.click("#signer-tools summary")  # folded until wanted: the task's own form comes first
    expect(window.locator("#signer-users option[value=window2]")).to_have_count(1)  # the task's colleagues
    window.select_option("#signer-users", ["window2"])
    window.fill("#signer-reason", "金额较大，请会签")
    window.click("#add-signers button[type=submit]")
    expect(window.locator("#signer-list tr[data-signer=window2]")).to_contain_text("待签署")
    shot(window, "task-signers-holder")

    window2 = open_as("window2", PHONE)
    window2.goto("/inbox?scope=assigned")
    window2.click("text=审批")
    window2.wait_for_url(re.compile(rf".*/tasks/{task}$"))
    expect(window2.locator("#sign-opinion")).to_be_focused()  # the co-signer's form, ready for the keyboard
    window2.keyboard.type("面积核算无误，同意")
    window2.keyboard.press("Tab")  # to the 签署 button
    expect(window2.locator("#sign-form button[type=submit]")).to_be_focused()
    shot(window2, "task-signers-cosigner-phone")
    window2.keyboard.press("Enter")
    expect(window2.locator("#signer-list tr[data-signer=window2]")).to_contain_text("面积核算无误，同意")
    expect(window2.locator("#sign-form")).to_have_count(0)  # once

    window.reload()
    expect(window.locator("#signer-list tr[data-signer=window2]")).to_contain_text("同意")
    expect(window.locator("#signer-list .remove-signer")).to_have_count(0)  # signed: no 减签
    fill_form(window, {"decision": "approved", "comment": "同意"})
    window.click("#submit")
    window.wait_for_url(re.compile(r".*/cases/\d+$"))
    expect(window.locator("h1 .badge")).to_have_text("已办结")


def test_an_entrusted_task_comes_back_to_the_delegator(open_as: Callable[..., Page], runtime: Runtime) -> None:
    task = _approve_task(runtime, "委派演示")
    window = open_as("window")
    window.goto(f"/tasks/{task}")
    window.click("#signer-tools summary")
    expect(window.locator("#entrust-to option[value=window2]")).to_have_count(1)
    window.select_option("#entrust-to", "window2")
    window.fill("#entrust-reason", "请代为审核")
    window.click("#entrust-form button[type=submit]")
    window.wait_for_url(re.compile(r".*/inbox$"))

    window2 = open_as("window2")
    window2.goto("/inbox?scope=assigned")
    window2.click("text=审批")
    expect(window2.locator("#submit")).to_have_text("交回委派人")
    fill_form(window2, {"decision": "rejected", "comment": "缺少产权证明"})
    window2.fill("#return-opinion", "建议补正后再批")
    shot(window2, "task-entrusted-delegate")
    window2.click("#submit")
    window2.wait_for_url(re.compile(r".*/inbox$"))

    window.goto(f"/tasks/{task}")
    expect(window.locator("#signing")).to_contain_text("受托人已交回")
    expect(window.locator("#signer-list tr[data-signer=window2]")).to_contain_text("建议补正后再批")
    expect(window.locator("[name='root[comment]']:visible").first).to_have_value("缺少产权证明")
    shot(window, "task-entrusted-back")
    window.click("#submit")
    window.wait_for_url(re.compile(r".*/cases/\d+$"))
    expect(window.locator("h1 .badge")).to_have_text("已办结")
