"""The pages of issue 14's approval operations on a 390 px phone, in English: 撤回, 退回, 抄送 and 抄送我的, 催办, 加签
(the holder's, the co-signer's and the supervisor's), 委派, 已办, 我发起的 and the 审批流水 — each without sideways
scroll, every control of its part reachable with Tab, its labels in English (tests/support/phone.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect

from engine.base.vocabulary import SignerKind
from engine.case import carboncopy
from engine.definitions.copies import Recipients
from engine.runtime import signers
from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, SHOTS, shot
from tests.support.phone import fits_a_phone_in_english
from tests.support.signing import APPROVE, approval_task


@pytest.fixture
def task(runtime: Runtime) -> str:
    """The sample's 审批 task at the window, with two clerks beside it (their password is the tests' one)."""
    return approval_task(runtime)


def _case(runtime: Runtime, task_id: str) -> int:
    return runtime.task_detail(task_id, runtime.actor("admin"))["instance"]["id"]


def _part(page: Page, selector: str, name: str) -> None:
    """A screenshot of one part of the page, beside the full-page ones, for people to look at."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator(selector).first.screenshot(path=str(SHOTS / f"{name}.png"))


def _english(page: Page, path: str) -> None:
    page.goto(f"{path}{'&' if '?' in path else '?'}lang=en")


def test_withdraw_on_a_phone(open_as: Callable[..., Page], runtime: Runtime) -> None:
    case = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, runtime.actor("haiyun")).id
    haiyun = open_as("haiyun", PHONE)
    _english(haiyun, f"/cases/{case}")
    fits_a_phone_in_english(haiyun, "#withdrawal")
    haiyun.focus("#withdraw-open")
    haiyun.keyboard.press("Enter")
    expect(haiyun.locator("#withdraw-reason")).to_be_focused()
    fits_a_phone_in_english(haiyun, "#withdraw-dialog")
    shot(haiyun, "phone-en-withdraw")


def test_return_cc_add_signer_and_delegate_on_the_holders_phone(open_as: Callable[..., Page], runtime: Runtime,
                                                                 task: str) -> None:
    window = open_as("window", PHONE)
    _english(window, f"/tasks/{task}")
    window.click("#signer-tools summary")
    expect(window.locator("#signer-users option[value=window2]")).to_have_count(1)
    for part in ("#signing", "#return", "#cc-form", "main"):
        fits_a_phone_in_english(window, part)
    shot(window, "phone-en-task-holder")
    _part(window, "#signing", "phone-en-part-signer-tools")
    _part(window, "#return", "phone-en-part-return")
    _part(window, "#cc-form", "phone-en-part-cc")


def test_removing_a_signer_on_the_holders_phone(open_as: Callable[..., Page], runtime: Runtime, task: str) -> None:
    window = open_as("window", PHONE)
    signers.add_signers(runtime.db, task, ["window2", "window3"], SignerKind.BEFORE, "请会签", runtime.actor("window"))
    signers.sign(runtime, task, "disagree", "面积有误", runtime.actor("window3"))
    _english(window, f"/tasks/{task}")
    expect(window.locator("#signing")).to_contain_text("disagreed")  # the 会签 rule, said in English
    fits_a_phone_in_english(window, "#signing")
    shot(window, "phone-en-task-signers")
    _part(window, "#signing", "phone-en-part-signing")
    window.click("#signer-list tr[data-signer=window2] .remove-signer")  # 减签 says why first
    expect(window.locator("#remove-reason")).to_be_focused()
    window.fill("#remove-reason", "不需要了")
    window.click("#signer-list tr[data-signer=window2] .remove-signer")
    expect(window.locator("#signer-list tr[data-signer=window2]")).to_contain_text("Removed")


def test_the_cosigner_signs_on_a_phone(open_as: Callable[..., Page], runtime: Runtime, task: str) -> None:
    signers.add_signers(runtime.db, task, ["window2"], SignerKind.BEFORE, "请会签", runtime.actor("window"))
    window2 = open_as("window2", PHONE)
    _english(window2, f"/tasks/{task}")
    expect(window2.locator("#sign-opinion")).to_be_focused()
    fits_a_phone_in_english(window2, "#signing")
    shot(window2, "phone-en-cosigner")
    _part(window2, "#signing", "phone-en-part-cosigner")


def test_the_delegate_gives_back_on_a_phone(open_as: Callable[..., Page], runtime: Runtime, task: str) -> None:
    signers.entrust(runtime.db, task, "window2", "请代为审核", runtime.actor("window"))
    window2 = open_as("window2", PHONE)
    _english(window2, f"/tasks/{task}")
    expect(window2.locator("#return-opinion")).to_be_visible()
    fits_a_phone_in_english(window2, "main")
    shot(window2, "phone-en-delegate")


def test_the_supervisor_decides_an_outside_signer_on_a_phone(open_as: Callable[..., Page], runtime: Runtime,
                                                              task: str) -> None:
    signers.add_signers(runtime.db, task, ["zhujian"], SignerKind.BEFORE, "涉及住建", runtime.actor("window"),
                        ask_approval=True)
    dispatcher = open_as("dispatcher", PHONE)
    _english(dispatcher, "/supervision/signers")
    expect(dispatcher.locator("#proposals tr[data-signer=zhujian]")).to_contain_text("涉及住建")
    fits_a_phone_in_english(dispatcher, "main")
    shot(dispatcher, "phone-en-signer-approvals")
    dispatcher.click("#proposals tr[data-signer=zhujian] button[data-approve=false]")  # refusing says why
    expect(dispatcher.locator("#proposal-reason")).to_be_focused()
    dispatcher.fill("#proposal-reason", "无需住建会签")
    dispatcher.click("#proposals tr[data-signer=zhujian] button[data-approve=false]")
    expect(dispatcher.locator("#proposals-empty")).to_be_visible()
    assert [s["state"] for s in signers.signing(runtime.db, task, runtime.actor("window"))["signers"]] == ["rejected"]
    window = open_as("window", PHONE)  # nobody but supervisors has the page
    assert window.goto("/supervision/signers").status == 404


def test_urge_and_the_opinion_trail_on_the_applicants_phone(open_as: Callable[..., Page], runtime: Runtime,
                                                            task: str) -> None:
    case = _case(runtime, task)
    haiyun = open_as("haiyun", PHONE)
    _english(haiyun, f"/cases/{case}")
    for part in ("#urges", "#urge-reason"):
        expect(haiyun.locator(part)).to_have_count(1)
    fits_a_phone_in_english(haiyun, "main")
    shot(haiyun, "phone-en-case-urge")
    _part(haiyun, "#urges", "phone-en-part-urge")


def test_the_opinion_trail_with_cosigners_on_a_phone(open_as: Callable[..., Page], runtime: Runtime,
                                                     task: str) -> None:
    window = runtime.actor("window")
    signers.add_signers(runtime.db, task, ["window2"], SignerKind.BEFORE, "请会签", window)
    signers.sign(runtime, task, "agree", "面积核算无误，同意受理。" * 4, runtime.actor("window2"))
    runtime.complete(task, APPROVE, window)
    page = open_as("window", PHONE)
    _english(page, f"/cases/{_case(runtime, task)}")
    expect(page.locator("#opinion-trail")).to_contain_text("agreed")
    fits_a_phone_in_english(page, "main")
    shot(page, "phone-en-opinion-trail")
    _part(page, "#opinion-trail", "phone-en-part-trail")


@pytest.mark.parametrize(("who", "which"), [("window", "done"), ("haiyun", "started"), ("zhujian", "copied")])
def test_the_work_lists_on_a_phone(open_as: Callable[..., Page], runtime: Runtime, task: str, who: str,
                                   which: str) -> None:
    case = _case(runtime, task)
    carboncopy.carbon_copy(runtime.db, case, Recipients(users=("zhujian",)), "请知悉", runtime.actor("window"))
    runtime.complete(task, APPROVE, runtime.actor("window"))
    page = open_as(who, PHONE)
    _english(page, f"/inbox/{which}")
    expect(page.locator("#worklist tbody tr").first).to_contain_text(
        runtime.instance(case, runtime.actor("admin")).case_number)
    fits_a_phone_in_english(page, "main")
    shot(page, f"phone-en-worklist-{which}")


