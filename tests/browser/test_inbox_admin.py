"""The inbox and the administrators' users page in Chromium, with the keyboard, at 1280 and 390 px: who holds each
task, the full case-number search, saved filters, bulk claim, the deadline, a finished task read-only, the buttons
an enterprise never gets; finding a user, editing its roles, the confirming step of 停用, re-enabling."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update

from engine.base.clock import now
from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.people.assignment import claim
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, Instance
from tests.browser.conftest import PHONE, shot
from tests.support.axe import violations
from tests.support.http import PASSWORD
from tests.support.repo import ROLES
from tests.support.shipped import SUBMIT

FULL = "370202LYJJ-C20261201000001"


@pytest.fixture
def server(repo_server: str) -> str:
    """The users page names roles from the repository's processes/roles.yaml."""
    return repo_server


def _reviews(runtime: Runtime, n: int) -> list[tuple[int, str]]:
    haiyun = runtime.actor("haiyun")
    out = []
    for i in range(n):
        view = runtime.start("sample_approval", {"title": f"收件{i}", "amount": 50_000}, haiyun)
        runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
        out.append((view.id, runtime.instance(view.id, runtime.actor("admin")).open_tasks[0].id))
    return out


def test_inbox_holder_search_saved_filter_and_bulk_claim(open_as: Callable[..., Page], runtime: Runtime) -> None:
    with runtime.db.write() as session:
        add_user(session, RoleCatalogue.from_yaml(ROLES), "window2", "xzsp", ["window_clerk"], "李窗口", PASSWORD)
    reviews = _reviews(runtime, 4)
    claim(runtime.db, reviews[3][1], runtime.actor("window2"))
    with runtime.db.write() as session:
        session.execute(update(Instance).where(Instance.id == reviews[0][0]).values(case_number=FULL))
        session.execute(update(HumanTask).where(HumanTask.id == reviews[0][1])
                        .values(due_at=now() + timedelta(days=1, hours=6)))

    page = open_as("window")
    page.goto("/inbox?scope=all")
    expect(page.locator("#inbox tbody tr")).to_have_count(4)
    expect(page.locator("#inbox")).to_contain_text("李窗口")  # the colleague's claimed task names its holder
    shot(page, "inbox_all")
    # the full number with its hyphen, typed and sent with Enter
    page.locator("input[name=q]").fill(FULL)
    page.locator("input[name=q]").press("Enter")
    expect(page.locator("#inbox tbody tr")).to_have_count(1)
    expect(page.locator("#inbox")).to_contain_text(FULL)
    # keep it as a filter, by keyboard
    page.locator("#filter-name").fill("编号查询")
    page.locator("#filter-name").press("Enter")
    expect(page.locator("p.notice")).to_contain_text("已保存")
    expect(page.locator("#saved-filters")).to_contain_text("编号查询")
    page.goto("/inbox")
    page.locator("#saved-filters a", has_text="编号查询").click()
    expect(page.locator("#inbox tbody tr")).to_have_count(1)

    page.goto("/inbox")  # 可认领: three to claim; tick two with the space bar and claim them at once
    boxes = page.locator("#inbox input[name=task]")
    expect(boxes).to_have_count(3)
    for i in (0, 1):
        boxes.nth(i).focus()
        page.keyboard.press("Space")
    page.locator("#bulk-claim-send").focus()
    page.keyboard.press("Enter")
    expect(page.locator("p.notice")).to_contain_text("已认领 2 个任务")
    expect(page.locator("#inbox tbody tr")).to_have_count(1)
    shot(page, "inbox_bulk_claimed")
    assert violations(page) == []

    phone = open_as("window", PHONE)
    phone.goto("/inbox?scope=all")
    expect(phone.locator("#saved-filters")).to_contain_text("编号查询")
    shot(phone, "inbox_all_phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width

    phone.goto(f"/tasks/{reviews[0][1]}")
    expect(phone.locator("#task-due")).to_contain_text("剩余 1 天")
    expect(phone.locator("[data-action=claim]")).to_have_count(0)  # window already holds it: release or hand over
    expect(phone.locator("[data-action=unclaim]")).to_be_visible()
    shot(phone, "task_due_phone")
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"] + 1, width  # the task page does not scroll sideways on a phone either


def test_finished_and_enterprise_tasks_offer_nothing_they_may_not_do(
        open_as: Callable[..., Page], runtime: Runtime) -> None:
    haiyun = runtime.actor("haiyun")
    done = runtime.start("sample_approval", {"title": "已提交", "amount": 50_000}, haiyun)
    runtime.complete(done.open_tasks[0].id, SUBMIT, haiyun)
    own = runtime.start("sample_approval", {"title": "待填写", "amount": 50_000}, haiyun)

    page = open_as("haiyun")
    page.goto(f"/tasks/{own.open_tasks[0].id}")
    expect(page.locator("#submit")).to_be_visible()
    for hidden in ("[data-action=claim]", "[data-action=unclaim]", "#delegate", "#delegate-to"):
        expect(page.locator(hidden)).to_have_count(0)
    page.goto(f"/tasks/{done.open_tasks[0].id}")
    expect(page.locator("#task-closed")).to_contain_text("办结，只能查看")
    expect(page.locator("#submit")).to_have_count(0)
    expect(page.locator("#form")).to_have_count(0)
    expect(page.locator("#comment-body")).to_have_count(0)
    shot(page, "task_completed_readonly")
    assert violations(page) == []
    phone = open_as("haiyun", PHONE)
    phone.goto(f"/tasks/{done.open_tasks[0].id}?lang=en")
    expect(phone.locator("#task-closed")).to_contain_text("can only be viewed")
    shot(phone, "task_completed_readonly_phone_en")


def test_admin_finds_edits_disables_with_confirmation_and_re_enables(
        open_as: Callable[..., Page], runtime: Runtime) -> None:
    page = open_as("admin")
    page.goto("/admin/users")
    page.locator("#user-search input[name=q]").fill("shichang")
    page.locator("#user-search input[name=q]").press("Enter")
    expect(page.locator("#users tbody tr")).to_have_count(1)
    row = page.locator("#user-shichang")
    expect(row).not_to_contain_text("reviewer_shichang")  # the role by its name
    # edit roles and organisation, by keyboard: open the details, tick a role, save
    row.locator("summary").focus()
    page.keyboard.press("Enter")
    row.locator("select[name=org]").select_option("weijian")
    row.locator("input[value=reviewer_weijian]").focus()
    page.keyboard.press("Space")
    shot(page, "admin_user_edit")
    row.locator("form.access button[type=submit]").press("Enter")
    expect(page.locator("p.notice")).to_contain_text("组织和角色已保存")
    assert runtime.actor("shichang").roles == {"reviewer_shichang", "reviewer_weijian"}

    page.goto("/admin/users?q=shichang")
    page.locator("#user-shichang a", has_text="停用").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#confirm")).to_contain_text("停用后该用户立即退出所有会话")
    assert violations(page) == []
    shot(page, "admin_confirm_disable")
    page.locator("#confirm a", has_text="取消").click()  # cancelling changes nothing
    expect(page.locator("#user-shichang .badge.disabled")).to_have_count(0)
    page.goto("/admin/users/shichang/confirm/disable")
    page.locator("#confirm button[type=submit]").press("Enter")  # the confirm button has the focus first
    expect(page.locator("p.notice")).to_contain_text("已停用")
    expect(page.locator("#user-shichang .badge.disabled")).to_be_visible()
    page.locator("#user-shichang button", has_text="重新启用").click()
    expect(page.locator("p.notice")).to_contain_text("已启用")
    page.goto("/admin/audit")
    expect(page.locator("table.list")).to_contain_text("停用用户")
    expect(page.locator("table.list")).to_contain_text("变更角色")

    phone = open_as("admin", PHONE)
    phone.goto("/admin/users?q=zhu")
    shot(phone, "admin_users_phone")
    phone.goto("/admin/users/haiyun/confirm/password")
    shot(phone, "admin_confirm_password_phone")
    assert violations(phone) == []
