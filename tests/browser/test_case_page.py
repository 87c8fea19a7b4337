"""The case page as people read it (issue 16, points 2, 3 and 6) in Chromium at 1280 and 390 px: a ZZS case's
values by their labels and its files by name, the history with who, which office and what they said, the stage
bar with the deadline, the outcome stated with its validity; the applicant's notices and the header's unread
count (another enterprise has none); an administrator's suspend, resume, terminate (reason, confirmation) and
retry, which nobody else is offered or may post."""

from __future__ import annotations

import re
from collections.abc import Callable
from io import BytesIO

from flask.testing import FlaskClient
from playwright.sync_api import Page, expect

from engine.base import workdays
from engine.base.workdays import YearTable
from engine.case.attachments import add_draft
from engine.runtime.runtime import Runtime
from engine.store.calendars import load_year
from tests.browser.conftest import PHONE, shot
from tests.support.axe import violations
from tests.support.deadlines import deploy_failing
from tests.support.http import log_in
from tests.support.steps import begin
from tests.support.uploads import PDF
from tests.support.zzs import APPLICATION, CONSENT, SITE


def _complete(runtime: Runtime, case: int, element: str, username: str, data: dict[str, object]) -> None:
    [task] = [t for t in runtime.instance(case, runtime.actor("admin")).open_tasks if t.element_id == element]
    runtime.complete(task.id, data, runtime.actor(username))


def _accepted(runtime: Runtime) -> int:
    """A ZZS case of haiyun's with its consent sheet, accepted by the window: the street's checks are due."""
    applicant = runtime.actor("haiyun")
    sheet = add_draft(runtime.db, runtime.blobs, BytesIO(PDF), "业主同意书.pdf", "application/pdf", applicant)
    case = runtime.start("zzs_prereg", {**APPLICATION, "consent_sheet": str(sheet.id)}, applicant).id
    _complete(runtime, case, "precheck", "window", {
        "precheck_result": "accept", "precheck_opinion": "材料齐全，予以受理",
        "structure_change_confirmed": False, "crowded_place_confirmed": False})
    return case


def test_the_applicant_reads_its_case_and_its_notices(open_as: Callable[..., Page], runtime: Runtime) -> None:
    case = _accepted(runtime)
    haiyun = open_as("haiyun")
    haiyun.goto(f"/cases/{case}")
    stages = haiyun.locator("#stages li")
    expect(stages).to_have_count(5)
    assert [stages.nth(i).get_attribute("class") for i in range(5)] == [
        "stage done", "stage done", "stage current", "stage todo", "stage todo"]
    expect(haiyun.locator("#due .badge")).to_have_text(re.compile(r"还剩 \d+ 个工作日"))
    expect(haiyun.locator("#stages .stage-name")).to_have_text(["申请", "受理", "核查", "决定", "送达"])
    data = haiyun.locator("dl.data").first
    expect(data).to_contain_text("已设立企业")  # the applicant type by its title, not `enterprise`
    expect(data).to_contain_text("香港中路街道")  # the street office by its name
    expect(data.get_by_role("link", name="业主同意书.pdf", exact=True)).to_have_count(1)  # the file by name
    expect(data.get_by_role("link", name="预览 业主同意书.pdf")).to_have_count(1)  # and its preview
    page = haiyun.content()
    assert "street_xgzl" not in page.split("数据变更")[0] and ">enterprise<" not in page
    history = haiyun.locator("ol.history")
    expect(history).to_contain_text("「窗口预审」")
    expect(history).to_contain_text("材料齐全，予以受理")  # the window's public opinion beside its step
    expect(history).to_contain_text("市南区行政审批服务局")  # and its office
    expect(history).not_to_contain_text("流程计算")
    expect(haiyun.locator("table.changes")).to_contain_text("香港中路街道")  # old → new by label too
    expect(haiyun.locator("#unread-count")).to_have_text("1")  # 受理通知书
    shot(haiyun, "case-page-accepted")
    assert violations(haiyun) == []
    haiyun.goto(f"/cases/{case}?lang=en")
    expect(haiyun.locator("#stages")).to_contain_text("Checks")
    expect(haiyun.locator("#due .badge")).to_have_text(re.compile(r"\d+ working days? left"))
    expect(haiyun.locator("#progress-title")).to_have_text("Progress")
    shot(haiyun, "case-page-accepted-en")
    haiyun.goto(f"/cases/{case}?lang=zh")

    _complete(runtime, case, "site_check", "street_xgzl", SITE)
    _complete(runtime, case, "consent_check", "street_xgzl", CONSENT)
    _complete(runtime, case, "decide", "window", {"decision": "approve", "decision_opinion": "符合住转商预备案条件"})
    phone = open_as("haiyun", PHONE)
    phone.goto(f"/cases/{case}")
    expect(phone.locator("#outcome")).to_contain_text(re.compile(r"准予.*有效期至 \d{4}-\d{2}-\d{2}"))
    expect(phone.locator("h1")).not_to_contain_text("办理中")
    expect(phone.locator("#stages li.done")).to_have_count(5)
    expect(phone.locator("#unread-count")).to_have_text("2")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"the page scrolls sideways at 390 px ({width})"
    shot(phone, "case-page-approved-phone")
    assert violations(phone) == []
    phone.click("#notices-link")
    expect(phone.locator("main")).to_contain_text("回执")
    expect(phone.locator("main")).to_contain_text("请办理：好差评")
    shot(phone, "notifications-applicant-phone")

    fushan = open_as("fushan")
    fushan.goto("/notifications")
    expect(fushan.locator("#unread-count")).to_have_count(0)
    expect(fushan.locator("main")).not_to_contain_text("回执")
    assert fushan.goto(f"/cases/{case}").status == 404


def test_an_administrator_suspends_resumes_and_terminates_with_a_reason(
        open_as: Callable[..., Page], runtime: Runtime, client: FlaskClient) -> None:
    case = _accepted(runtime)
    log_in(client, "haiyun")  # nobody else is offered the steps, and a post of theirs is refused
    assert "admin-steps" not in client.get(f"/cases/{case}").get_data(as_text=True)
    assert client.post(f"/cases/{case}/admin/terminate", data={"reason": "x", "confirm": "yes"}).status_code == 400
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get(f"/cases/{case}").get_data(as_text=True))
    assert client.post(f"/cases/{case}/admin/terminate", data={"reason": "x", "confirm": "yes",
                                                               "csrf_token": token.group(1) if token else ""}
                       ).status_code == 403
    admin = open_as("admin")
    admin.goto(f"/cases/{case}")
    expect(admin.locator("#admin-retry")).to_have_count(0)  # only a case in error is retried
    admin.click("#admin-suspend")
    expect(admin.locator("h1 .badge")).to_have_text("已挂起")
    expect(admin.locator("main")).to_contain_text("办件已挂起")
    admin.click("#admin-resume")
    expect(admin.locator("h1 .badge")).to_have_text("办理中")
    admin.click("#admin-steps summary")
    shot(admin, "case-page-admin-steps")
    assert violations(admin) == []
    admin.click("#admin-terminate")  # no reason, no tick: the browser holds the form back
    expect(admin.locator("h1 .badge")).to_have_text("办理中")
    admin.fill("#terminate-reason", "申请人已另行办理")
    admin.check("#terminate-confirm")
    admin.click("#admin-terminate")
    expect(admin.locator("h1 .badge")).to_have_text("已终止")
    expect(admin.locator("ol.history")).to_contain_text("申请人已另行办理")
    haiyun = open_as("haiyun")
    haiyun.goto("/notifications")
    expect(haiyun.locator("main")).to_contain_text("办件已被终止办理：申请人已另行办理")


def test_a_terminate_without_the_tick_or_a_reason_is_refused(runtime: Runtime, client: FlaskClient) -> None:
    case = _accepted(runtime)
    log_in(client, "admin")
    token = re.search(r'name="csrf-token" content="([^"]+)"', client.get(f"/cases/{case}").get_data(as_text=True))
    csrf = token.group(1) if token else ""
    unticked = client.post(f"/cases/{case}/admin/terminate", data={"reason": "重复申请", "csrf_token": csrf},
                           follow_redirects=True).get_data(as_text=True)
    assert "请勾选确认" in unticked
    blank = client.post(f"/cases/{case}/admin/terminate", data={"reason": " ", "confirm": "yes", "csrf_token": csrf},
                        follow_redirects=True).get_data(as_text=True)
    assert "请填写理由" in blank
    assert runtime.instance(case, runtime.actor("admin")).status == "running"
    assert client.post(f"/cases/{case}/admin/delete", data={"csrf_token": csrf}).status_code == 404


def test_an_administrator_retries_a_case_in_error(open_as: Callable[..., Page], runtime: Runtime) -> None:
    deploy_failing(runtime)
    view = begin(runtime, "t_incident", {"accepted_at": "2099-03-02T09:00:00+08:00"})
    assert view.status == "error"
    admin = open_as("admin", PHONE)
    admin.goto(f"/cases/{view.id}")
    expect(admin.locator("#admin-suspend")).to_have_count(1)
    with runtime.db.write() as session:  # the cause fixed: the year's table loaded
        load_year(session, YearTable.from_yaml("year: 2099\nholidays: [2099-03-03]\nworkdays: []\n"), "admin")
    workdays.refresh()
    admin.click("#admin-retry")
    expect(admin.locator("h1 .badge")).to_have_text("办理中")
    expect(admin.locator("main")).to_contain_text("已重新执行出错的环节")
    shot(admin, "case-page-retried-phone")
