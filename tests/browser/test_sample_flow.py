"""An application from the enterprise's browser to the clerk's approval, on the sample process."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from playwright.sync_api import Page, expect

from engine.runtime.runtime import Runtime
from tests.browser.conftest import PHONE, fill_form, shot
from tests.support.uploads import PNG


def test_enterprise_applies_and_the_clerk_approves(open_as: Callable[..., Page]) -> None:
    haiyun = open_as("haiyun")
    expect(haiyun.locator("h1")).to_have_text("办事服务")
    shot(haiyun, "portal-services")
    haiyun.click("a[href$='/services/sample_approval']")  # by key: more services keep being added
    expect(haiyun.locator("h1")).to_have_text("示例审批")

    fill_form(haiyun, {"title": "办", "amount": "50000"})  # too short: refused in the page itself
    haiyun.click("#submit")
    expect(haiyun.locator("#form-errors")).to_contain_text("申请事项")
    fill_form(haiyun, {"title": "办公用房改造"})
    shot(haiyun, "portal-start-form")
    haiyun.click("#submit")
    haiyun.wait_for_url(re.compile(r".*/cases/\d+$"))
    case_url = haiyun.url
    expect(haiyun.locator("#diagram[data-ready=true]")).to_have_count(1)
    expect(haiyun.locator("#diagram .djs-element.active")).to_have_count(1)  # the 填写申请 task
    shot(haiyun, "case-page-started")

    haiyun.click("#open-tasks >> text=填写申请")
    fill_form(haiyun, {"contact": "张三", "mobile": "2380000000", "email": "z@example.cn", "commitment": "true"})
    haiyun.click("#submit")
    expect(haiyun.locator("#form-errors")).to_contain_text("手机号")
    fill_form(haiyun, {"mobile": "13800000000"})
    haiyun.click("#submit")
    haiyun.wait_for_url(case_url)

    window = open_as("window")
    expect(window.locator("h1")).to_have_text("待办")
    window.click("text=可认领")
    shot(window, "inbox")
    window.click("text=审批")
    window.click("button[data-action=claim]")
    window.wait_for_load_state("networkidle")
    fill_form(window, {"decision": "approved", "comment": "同意"})
    shot(window, "task-page")
    window.click("#submit")
    window.wait_for_url(case_url)
    expect(window.locator("h1 .badge")).to_have_text("已办结")
    expect(window.locator("#diagram[data-ready=true]")).to_have_count(1)
    expect(window.locator("#diagram .djs-element.done")).not_to_have_count(0)
    shot(window, "case-page-completed")


def test_script_in_a_comment_is_shown_as_text(open_as: Callable[..., Page]) -> None:
    haiyun = open_as("haiyun")
    haiyun.click("a[href$='/services/sample_approval']")
    fill_form(haiyun, {"title": "<img src=x onerror=alert(1)>", "amount": "50000"})
    haiyun.click("#submit")
    haiyun.wait_for_url(re.compile(r".*/cases/\d+$"))
    haiyun.click("#open-tasks >> text=填写申请")
    dialogs: list[str] = []
    haiyun.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    haiyun.fill("#comment-body", "<script>alert('xss')</script>")
    haiyun.click("#comment-send")
    expect(haiyun.locator("#comments li")).to_contain_text("<script>alert('xss')</script>")
    expect(haiyun.locator(".data")).to_contain_text("<img src=x onerror=alert(1)>")
    haiyun.reload()
    haiyun.wait_for_load_state("networkidle")
    assert dialogs == [] and haiyun.locator("#comments script, .data img").count() == 0


def test_pages_work_at_phone_width(open_as: Callable[..., Page]) -> None:
    phone = open_as("window", viewport=PHONE)
    phone.goto("/inbox")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(phone, "inbox-phone")
    haiyun = open_as("haiyun", viewport=PHONE)
    assert haiyun.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    shot(haiyun, "portal-services-phone")


def test_files_upload_with_progress_and_refused_types_are_explained(open_as: Callable[..., Page],
                                                                   tmp_path: Path) -> None:
    (tmp_path / "现场照片.png").write_bytes(PNG)
    (tmp_path / "notes.txt").write_text("not an allowed type")
    haiyun = open_as("haiyun")
    haiyun.click("a[href$='/services/sample_approval']")
    fill_form(haiyun, {"title": "带附件的申请", "amount": "50000"})
    haiyun.click("#submit")
    haiyun.wait_for_url(re.compile(r".*/cases/\d+$"))
    haiyun.set_input_files("#case-files input[type=file]", str(tmp_path / "现场照片.png"))
    expect(haiyun.locator("#case-files ul")).to_contain_text("现场照片.png")
    haiyun.set_input_files("#case-files input[type=file]", str(tmp_path / "notes.txt"))
    expect(haiyun.locator("#case-files .upload-message")).to_contain_text("notes.txt:")
    expect(haiyun.locator("#case-files ul li")).to_have_count(1)
    shot(haiyun, "case-page-attachments")


def test_a_start_form_uploads_its_files_before_the_case_exists(open_as: Callable[..., Page], tmp_path: Path) -> None:
    (tmp_path / "营业执照.png").write_bytes(PNG)
    haiyun = open_as("haiyun")
    haiyun.goto("/services/qysq_request")
    fill_form(haiyun, {"enterprise_name": "青岛海韵科技有限公司", "credit_code": "91370202MA3C4XY01E",
                       "contact": "王海燕", "mobile": "13805320001", "building": "bld_huarun", "category": "policy",
                       "description": "楼宇北侧人行道共享单车长期乱停放，请协调清理。"})  # no option is preselected
    haiyun.set_input_files(".uploader input[type=file]", str(tmp_path / "营业执照.png"))
    expect(haiyun.locator(".uploader ul")).to_contain_text("营业执照.png")
    shot(haiyun, "portal-start-form-with-files")
    haiyun.click("#submit")
    haiyun.wait_for_url(re.compile(r".*/cases/\d+$"))
    expect(haiyun.locator("#case-files ul")).to_contain_text("营业执照.png")


def test_main_pages_fit_a_phone(open_as: Callable[..., Page], runtime: Runtime) -> None:
    """No page of the daily work scrolls sideways at 390 px (the modeler is a desktop tool)."""
    view = runtime.start("sample_approval", {"title": "手机查看", "amount": 50_000}, runtime.actor("haiyun"))
    task = view.open_tasks[0].id
    haiyun = open_as("haiyun", viewport=PHONE)
    for path in ("/services", "/services/sample_approval", "/cases", f"/cases/{view.id}", f"/tasks/{task}",
                 "/notifications"):
        haiyun.goto(path)
        haiyun.wait_for_load_state("networkidle")
        width = haiyun.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], f"{path} is {width}px wide"
    shot(haiyun, "task-page-phone")
    dispatcher = open_as("dispatcher", viewport=PHONE)
    for path in ("/inbox", "/supervision"):
        dispatcher.goto(path)
        dispatcher.wait_for_load_state("networkidle")
        assert dispatcher.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], path
    shot(dispatcher, "supervision-phone")
