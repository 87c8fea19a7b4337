"""住转商预备案 in the browser: apply → window accepts (after one 补正 round) → street office checks and the
fire brigade (a crowded place; no structural change, so no 住建 review) → decision → the enterprise
downloads the 回执."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from playwright.sync_api import Page, expect

from engine.base import clock, workdays
from tests.browser.conftest import fill_form, shot
from tests.support.uploads import PNG
from tests.support.zzs_form import APPLICATION


def open_task(page: Page, case_url: str, name: str) -> None:
    page.goto(case_url)
    page.click(f"#open-tasks >> text={name}")
    expect(page.locator("#form")).not_to_be_empty()


def submit(page: Page, case_url: str) -> None:
    """Submit the open task and wait for the case page; a loaded CI machine can take seconds over a step
    that ends a parallel branch, so the wait is generous and a failure says what the page showed."""
    page.click("#submit")
    try:
        page.wait_for_url(case_url, timeout=20_000)
    except Exception:
        errors = page.locator("#form-errors").inner_text() or "(no form errors shown)"
        raise AssertionError(f"still on {page.url}: {errors}") from None


def test_an_enterprise_files_zzs_and_downloads_the_receipt(open_as: Callable[..., Page], tmp_path: Path) -> None:
    clock.travel(datetime(2026, 3, 2, 9, tzinfo=workdays.CHINA) - clock.now())
    (tmp_path / "业主同意书.png").write_bytes(PNG)
    haiyun = open_as("haiyun")
    haiyun.click("a[href$='/services/zzs_prereg']")
    fill_form(haiyun, {"applicant_type": "enterprise"})
    fill_form(haiyun, APPLICATION)
    sheet = haiyun.locator(".uploader", has_text="业主同意书（附件）")
    sheet.locator("input[type=file]").set_input_files(str(tmp_path / "业主同意书.png"))
    expect(sheet.locator("ul")).to_contain_text("业主同意书.png")
    haiyun.click("#submit")  # 22 of 23 owners: refused at once, naming the field
    expect(haiyun.locator("#form-errors")).to_contain_text("同意")
    fill_form(haiyun, {"consenting_owners": "23"})
    shot(haiyun, "zzs-apply")
    haiyun.click("#submit")
    haiyun.wait_for_url(re.compile(r".*/cases/\d+$"))
    case_url = haiyun.url

    window = open_as("window")
    open_task(window, case_url, "预审")
    fill_form(window, {"precheck_result": "correction", "precheck_opinion": "材料不全，一次性告知补正"})
    if not window.locator("[name='root[correction_items][0]']").count():
        window.locator("[data-schemapath='root.correction_items'] button", has_text="添加").first.click()
    fill_form(window, {"correction_items.0": "租赁合同未加盖出租人签章"})
    submit(window, case_url)

    haiyun.goto(case_url)
    expect(haiyun.locator("#documents")).to_contain_text("补正告知书")
    open_task(haiyun, case_url, "补正后")
    expect(haiyun.locator("[name='root[agent_name]']")).to_have_value("张明")  # everything entered is kept
    submit(haiyun, case_url)

    open_task(window, case_url, "预审")
    fill_form(window, {"precheck_result": "accept", "structure_change_confirmed": "false",
                       "crowded_place_confirmed": "true",  # the window confirms both answers
                       "precheck_opinion": "材料齐全"})
    submit(window, case_url)

    street = open_as("street")
    open_task(street, case_url, "现场核查")
    fill_form(street, {"site_check.result": "pass", "site_check.structure_change_found": "false",
                       "site_check.crowded_place_found": "true",
                       "site_check.opinion": "现场为办公用途，与申报一致"})
    submit(street, case_url)
    open_task(street, case_url, "核验业主同意")
    fill_form(street, {"consent_check.owners_on_register": "23", "consent_check.signatures_verified": "23",
                       "consent_check.result": "pass", "consent_check.opinion": "逐户核对名册，签名属实"})
    submit(street, case_url)

    xiaofang = open_as("xiaofang")
    open_task(xiaofang, case_url, "消防安全审查")
    fill_form(xiaofang, {"xiaofang_review.result": "pass", "xiaofang_review.opinion": "疏散通道符合要求"})
    submit(xiaofang, case_url)
    zhujian = open_as("zhujian")
    zhujian.goto("/inbox?scope=all")
    expect(zhujian.locator("table.list tbody")).not_to_contain_text("结构变更审查")  # skipped branch

    open_task(window, case_url, "备案决定")
    fill_form(window, {"decision": "approve", "decision_opinion": "符合住转商预备案条件"})
    submit(window, case_url)

    haiyun.goto(case_url)
    receipt = haiyun.locator("#documents a", has_text="回执")
    expect(receipt).to_have_count(1)
    shot(haiyun, "zzs-case-receipt")
    with haiyun.expect_download() as download:
        receipt.click()
    pdf = download.value.path().read_bytes()
    assert pdf.startswith(b"%PDF") and download.value.suggested_filename.endswith(".pdf")
