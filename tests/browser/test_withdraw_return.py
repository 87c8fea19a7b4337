"""撤回 and 退回 in the browser: the enterprise withdraws (and asks to, the office refusing), the window sends a case
back to the applicant's step — by keyboard, with the reason each needs, at desktop and phone widths."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, shot
from tests.support.zzs import SUBMIT, _accepted, _complete, _filed


def _sample(runtime: Runtime) -> int:
    return runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50000}, runtime.actor("haiyun")).id


def test_the_applicant_withdraws_before_acceptance(open_as: Callable[..., Page], runtime: Runtime) -> None:
    case = _sample(runtime)
    haiyun = open_as("haiyun")
    haiyun.goto(f"/cases/{case}")
    expect(haiyun.locator("#withdrawal")).to_contain_text("可直接撤回")
    haiyun.focus("#withdraw-open")
    haiyun.keyboard.press("Enter")  # keyboard only: the dialog opens with the reason focused
    expect(haiyun.locator("#withdraw-dialog")).to_be_visible()
    expect(haiyun.locator("#withdraw-reason")).to_be_focused()
    haiyun.keyboard.type(" ")
    haiyun.click("#withdraw-confirm")  # a blank reason: the API's answer is shown, nothing happens
    expect(haiyun.locator("#withdraw-error")).to_contain_text("理由")
    shot(haiyun, "withdraw-dialog")
    haiyun.fill("#withdraw-reason", "已另行选定经营场所")
    haiyun.click("#withdraw-confirm")
    expect(haiyun.locator("#outcome")).to_contain_text("申请人撤回")
    expect(haiyun.locator("#withdrawal")).to_have_count(0)
    expect(haiyun.locator(".history")).to_contain_text("已另行选定经营场所")
    shot(haiyun, "withdrawn-case")
    assert runtime.instance(case, runtime.actor("admin")).outcome == "withdrawn"


def test_after_acceptance_the_applicant_asks_and_the_office_refuses(open_as: Callable[..., Page],
                                                                    runtime: Runtime) -> None:
    case = _accepted(runtime)  # 住转商, accepted at the pre-check
    haiyun = open_as("haiyun", PHONE)
    haiyun.goto(f"/cases/{case}")
    expect(haiyun.locator("#withdrawal")).to_contain_text("须经办理部门同意")
    haiyun.click("#withdraw-open")
    haiyun.fill("#withdraw-reason", "经营计划调整")
    shot(haiyun, "withdraw-request-phone")
    haiyun.click("#withdraw-confirm")
    expect(haiyun.locator("#withdrawal-pending")).to_contain_text("经营计划调整")
    expect(haiyun.locator("#withdrawal-decision")).to_have_count(0)  # not the applicant's to decide

    street = open_as("street_xgzl")
    street.goto(f"/cases/{case}")
    street.click("#withdrawal-decision [data-grant=false]")  # refusing needs the office's reason
    expect(street.locator("#withdrawal-decision-error")).to_be_visible()
    street.fill("#withdrawal-opinion", "核查已过半，建议继续办理")
    shot(street, "withdraw-decision")
    street.click("#withdrawal-decision [data-grant=false]")
    expect(street.locator("#withdrawal")).to_have_count(0)
    expect(street.locator(".history")).to_contain_text("核查已过半，建议继续办理")
    assert runtime.instance(case, runtime.actor("admin")).status == "running"


def test_the_window_returns_the_case_to_the_applicant(open_as: Callable[..., Page], runtime: Runtime) -> None:
    case = _sample(runtime)
    _complete(runtime, case, "submit", "haiyun", SUBMIT)
    [approve] = runtime.instance(case, runtime.actor("admin")).open_tasks
    window = open_as("window")
    window.goto(f"/tasks/{approve.id}")
    expect(window.locator("#return-target option")).to_have_text(["填写申请", "提交申请"])  # and the start form
    window.on("dialog", lambda dialog: dialog.accept())  # the confirmation
    window.click("#return-send")  # without a reason: refused, shown
    expect(window.locator("#return-error")).to_contain_text("理由")
    window.fill("#return-reason", "联系电话有误，请核对后重新提交")
    shot(window, "return-task")
    window.click("#return-send")
    window.wait_for_url(re.compile(rf".*/cases/{case}$"))
    expect(window.locator(".history")).to_contain_text("「审批」")
    expect(window.locator(".history")).to_contain_text("「填写申请」")
    expect(window.locator("#diagram[data-ready=true]")).to_have_count(1)
    expect(window.locator("#diagram .djs-element.returned")).to_have_count(1)
    shot(window, "returned-case")

    haiyun = open_as("haiyun", PHONE)
    haiyun.goto(f"/cases/{case}")
    expect(haiyun.locator("#open-tasks")).to_contain_text("填写申请")
    shot(haiyun, "returned-case-phone")


def test_returned_to_its_start_form_the_applicant_edits_and_resubmits(open_as: Callable[..., Page],
                                                                      runtime: Runtime) -> None:
    """ZZS: 预审 sends the case back to the applicant's start form; on its phone the applicant finds the form filled
    in with its submission, changes a field and resubmits; 预审 gets the case again."""
    case = _filed(runtime)
    [precheck] = runtime.instance(case, runtime.actor("admin")).open_tasks
    window = open_as("window")
    window.goto(f"/tasks/{precheck.id}")
    expect(window.locator("#return-target option")).to_have_text(["提交预备案申请"])
    window.on("dialog", lambda dialog: dialog.accept())
    window.fill("#return-reason", "申请人名称与营业执照不符，请修改后重新提交")
    window.click("#return-send")
    window.wait_for_url(re.compile(rf".*/cases/{case}$"))

    haiyun = open_as("haiyun", PHONE)
    haiyun.goto("/inbox")
    haiyun.click("text=提交预备案申请")
    field = haiyun.locator("[name='root[applicant_name]']")
    expect(field).to_have_value("青岛海韵科技有限公司")  # its own submission, to edit
    field.fill("青岛海韵科技股份有限公司")
    shot(haiyun, "resubmit-start-form-phone")
    haiyun.click("#submit")
    haiyun.wait_for_url(re.compile(rf".*/cases/{case}$"))
    [again] = runtime.instance(case, runtime.actor("admin")).open_tasks
    assert again.element_id == "precheck" and again.id != precheck.id
    detail = runtime.task_detail(again.id, runtime.actor("window"))
    assert detail["data"]["applicant_name"] == "青岛海韵科技股份有限公司"
