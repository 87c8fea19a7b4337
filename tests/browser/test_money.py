"""Money in the page: every cent amount passes the form's `multipleOf: 0.01` (json-editor's own check divides
floats and refused 1234.07), and the server takes it."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page, expect

from tests.browser.conftest import fill_form


def test_an_amount_in_cents_is_accepted_by_the_page_and_the_server(open_as: Callable[..., Page]) -> None:
    haiyun = open_as("haiyun")
    haiyun.goto("/services/lyjj_contribution")
    fill_form(haiyun, {"fund_code": "SN-2026", "street": "street_bdq", "donor_name": "青岛海韵科技有限公司",
                       "source": "enterprise", "amount": "1234.07", "designated_category": "none", "voluntary": "true"})
    haiyun.locator("[name='root[amount]']").blur()
    expect(haiyun.locator("text=的整数倍")).to_have_count(0)  # no "须为 0.01 的整数倍" beside the field
    fill_form(haiyun, {"amount": "1234.075"})  # finer than a cent: refused in the page itself
    haiyun.locator("[name='root[amount]']").blur()
    expect(haiyun.locator("text=须为 0.01 的整数倍").first).to_be_visible()
    fill_form(haiyun, {"amount": "1234.07"})
    haiyun.click("#submit")
    haiyun.wait_for_url(re.compile(r".*/cases/\d+$"))
