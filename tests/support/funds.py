"""Building-fund postings made through the runtime at chosen instants: test processes that credit, debit, and pay a
project in two stages, with the fields the quarterly disclosure reads (project and donor names, category)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from engine.base import clock
from engine.runtime.runtime import Runtime
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.steps import do, put

SHANGHAI = ZoneInfo("Asia/Shanghai")
CATEGORY = {"type": "string", "oneOf": [{"const": "lift", "title": "加装/更新电梯"},
                                        {"const": "facade", "title": "外立面整治"},
                                        {"const": "party_building", "title": "党建活动"}]}
MONEY = {"type": "object", "properties": {
    "fund_code": {"type": "string"}, "source": {"type": "string"}, "amount": {"type": "number"},
    "category": CATEGORY, "project_name": {"type": "string"}, "donor_name": {"type": "string"},
    "donor_public": {"type": "boolean"}, "second": {"type": "number"}},
    "required": ["fund_code", "source", "amount", "category"]}


def deploy(runtime: Runtime, key: str, direction: str, starter: str = "出资方") -> None:
    # a credit's category would designate the money for that use (engine/case/ledger.py): these credits are free
    category = {"ledgerCategory": "category"} if direction == "debit" else {}
    nodes = [start(form="money.json"),
             user("post", "记账", "open.json", ledger=direction, ledgerSource="source", ledgerAmount="amount",
                  **category), end()]
    body = render(nodes, flows(("start", "post"), ("post", "end")))
    lanes = {starter: ["start"], "基金秘书处": ["post"]} if starter != "基金秘书处" else {starter: ["start", "post"]}
    put(runtime, key, {f"{key}.bpmn": bpmn(key, body, lanes)},
        {"money.json": MONEY, "open.json": {"type": "object"}})


def _deploy_staged(runtime: Runtime) -> None:
    """A project paying in two stages from one case (as LYJJ-P's advance and balance do)."""
    debit = {"ledger": "debit", "ledgerSource": "source", "ledgerCategory": "category"}
    nodes = [start(form="money.json"), user("pay1", "预付", "open.json", ledgerAmount="amount", **debit),
             user("pay2", "结算", "open.json", ledgerAmount="second", **debit), end()]
    body = render(nodes, flows(("start", "pay1"), ("pay1", "pay2"), ("pay2", "end")))
    put(runtime, "fund_staged", {"fund_staged.bpmn": bpmn("fund_staged", body,
                                                          {"出资方": ["start"], "基金秘书处": ["pay1", "pay2"]})},
        {"money.json": MONEY, "open.json": {"type": "object"}})


def deploy_funds(runtime: Runtime) -> Runtime:
    """Credit (by an enterprise, or recorded by the secretariat), debit, and a two-stage project."""
    deploy(runtime, "fund_in", "credit")
    deploy(runtime, "fund_out", "debit")
    deploy(runtime, "fund_in_office", "credit", starter="基金秘书处")  # recorded by the secretariat itself
    _deploy_staged(runtime)
    return runtime


def at(moment: str) -> None:
    """Move the runtime's clock so that the next step happens at `moment` (plus the milliseconds it takes)."""
    clock.travel(datetime.fromisoformat(moment) - clock.now())


def post(runtime: Runtime, key: str, when: str, amount: Any, source: str = "pledge", category: str = "lift",
         starter: str = "haiyun", fund: str = "BDQ-D01", **data: Any) -> int:
    """One case of `key` started and posted at `when` (an ISO instant with its offset)."""
    at(when)
    case = runtime.start(key, {"fund_code": fund, "source": source, "amount": amount, "category": category, **data},
                         runtime.actor(starter))
    do(runtime, "secretariat", case.id, "post", {})
    return case.id
