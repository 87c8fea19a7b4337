"""Ledger limits a payment element names: the case's payments in all (`ledgerCap`), per source (`ledgerSourceCap`),
and money its donors designated for one use (a credit's category), which pays for another use only from the
donations whose donors agreed (`ledgerConsent`: the case's list of donors' answers, one per donation). Each refusal
is a 422 naming the fields and writes nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.base.errors import FormInvalid
from engine.case import ledger
from engine.runtime.runtime import Runtime
from engine.store.models import LedgerEntry
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.steps import begin, do, put

CREDIT_FORM = {"type": "object", "properties": {
    "fund_code": {"type": "string"}, "source": {"type": "string"}, "amount": {"type": "number"},
    "category": {"type": "string"}}, "required": ["fund_code", "source", "amount", "category"]}
PROJECT_FORM = {"type": "object", "properties": {
    "fund_code": {"type": "string"}, "category": {"type": "string"}, "contract": {"type": "number"},
    "share": {"type": "number"}}, "required": ["fund_code", "category", "contract", "share"]}
PAY_FORM = {"type": "object", "properties": {
    "source": {"type": "string"}, "amount": {"type": "number"}, "donor_consents": {}},
    "required": ["source", "amount"]}
#: the project reports its donors' answers, so that replaying the fund knows which donations each payment drew on
PROJECT_MANIFEST = f"key: project\ncode: TST\nname: {{zh: 测试, en: Test}}\nreport: [{ledger.CONSENTS_FACT}]\n".encode()


def _deploy_credit(runtime: Runtime) -> None:
    nodes = [start(form="credit.json"),
             user("post", "入账", "open.json", ledger="credit", ledgerSource="source", ledgerAmount="amount",
                  ledgerCategory="'' if category == 'none' else category"), end()]
    put(runtime, "fund_in", {"fund_in.bpmn": bpmn("fund_in", render(nodes, flows(("start", "post"), ("post", "end"))),
                                                  {"出资方": ["start"], "基金秘书处": ["post"]})},
        {"credit.json": CREDIT_FORM, "open.json": {"type": "object"}})


def _deploy_project(runtime: Runtime) -> None:
    """Two payments in a row, each capped at the contract in all and at `share` from any one source."""
    pay = dict(ledger="debit", ledgerSource="source", ledgerAmount="amount", ledgerCategory="category",
               ledgerCap="contract", ledgerSourceCap="share", ledgerConsent="donor_consents")
    nodes = [start(form="project.json"), user("pay1", "付款一", "pay.json", **pay),
             user("pay2", "付款二", "pay.json", **pay), end()]
    body = render(nodes, flows(("start", "pay1"), ("pay1", "pay2"), ("pay2", "end")))
    lanes = {"出资方": ["start"], "基金秘书处": ["pay1", "pay2"]}
    put(runtime, "project", {"project.bpmn": bpmn("project", body, lanes)},
        {"project.json": PROJECT_FORM, "pay.json": PAY_FORM}, extra={"processes/t/process.yaml": PROJECT_MANIFEST})


@pytest.fixture
def fund(runtime: Runtime) -> Runtime:
    _deploy_credit(runtime)
    _deploy_project(runtime)
    return runtime


def _credit(runtime: Runtime, amount: Any, category: str = "none", source: str = "pledge") -> str:
    """A donation credited to fund F1; its case number (what a donor's answer names)."""
    case = begin(runtime, "fund_in", {"fund_code": "F1", "source": source, "amount": amount, "category": category})
    do(runtime, "secretariat", case.id, "post", {})
    return case.case_number


def _agreed(*donations: str) -> list[dict[str, Any]]:
    return [{"case": d, "agreed": True, "opinion": "同意"} for d in donations]


def _project(runtime: Runtime, category: str = "facade", contract: float = 1000, share: float = 1000) -> int:
    return begin(runtime, "project", {"fund_code": "F1", "category": category, "contract": contract,
                                      "share": share}).id


def _pay(runtime: Runtime, case: int, element: str, amount: Any, consent: Any = (), source: str = "pledge") -> None:
    do(runtime, "secretariat", case, element, {"source": source, "amount": amount, "donor_consents": list(consent)
                                               if isinstance(consent, tuple | list) else consent})


def _refused(runtime: Runtime, case: int, element: str, amount: Any, consent: Any = ()) -> FormInvalid:
    before = _entries(runtime)
    with pytest.raises(FormInvalid) as refused:
        _pay(runtime, case, element, amount, consent)
    assert refused.value.status == 422 and _entries(runtime) == before  # nothing written
    return refused.value


def _entries(runtime: Runtime) -> int:
    with runtime.db.reading() as conn:
        return conn.execute(select(func.count()).select_from(LedgerEntry)).scalar_one()


def test_payments_of_a_case_stay_within_its_cap_across_steps(fund: Runtime) -> None:
    _credit(fund, 10_000)
    case = _project(fund, contract=1000, share=5000)
    _pay(fund, case, "pay1", 600)
    assert list(_refused(fund, case, "pay2", 400.01).fields) == ["/amount"]  # 600 + 400.01 > 1000
    _pay(fund, case, "pay2", 400)  # exactly the cap


def test_a_source_pays_no_more_than_its_approved_share_and_nothing_without_one(fund: Runtime) -> None:
    _credit(fund, 10_000)
    case = _project(fund, contract=5000, share=0)
    assert list(_refused(fund, case, "pay1", 1).fields) == ["/source"]
    other = _project(fund, contract=5000, share=700)
    _pay(fund, other, "pay1", 500)
    error = _refused(fund, other, "pay2", 200.01)
    assert list(error.fields) == ["/source"] and "700.00" in error.message


def test_both_limits_broken_are_named_at_once(fund: Runtime) -> None:
    _credit(fund, 10_000)
    case = _project(fund, contract=100, share=50)
    assert sorted(_refused(fund, case, "pay1", 101).fields) == ["/amount", "/source"]


def test_money_designated_for_another_use_needs_the_donors_consent(fund: Runtime) -> None:
    lift = _credit(fund, 500, category="lift")
    _credit(fund, 100)
    case = _project(fund, category="facade")
    error = _refused(fund, case, "pay1", 100.01)  # only the 100 undesignated is free for a facade
    assert list(error.fields) == ["/amount"] and "lift" in error.message and lift in error.message
    assert _refused(fund, case, "pay1", 100.01, consent="捐赠方同意函 2026-3")  # a typed reference is no consent
    _pay(fund, case, "pay1", 300, consent=_agreed(lift))  # the donor agreed: 100 free + 200 of the lift money
    with fund.db.reading() as conn:
        assert ledger.designations(conn, "F1", "pledge") == {"lift": Decimal("300.00")}


def test_a_donor_who_declined_is_named_with_its_reasons_in_the_refusal(fund: Runtime) -> None:
    lift = _credit(fund, 500, category="lift")
    case = _project(fund, category="facade")
    declined = [{"case": lift, "agreed": False, "opinion": "捐款仅限加装电梯"}]
    error = _refused(fund, case, "pay1", 0.01, consent=declined)
    assert "出资方不同意变更用途" in error.message and "捐款仅限加装电梯" in error.message and lift in error.message


def test_a_consent_covers_its_own_donation_only_and_the_replay_keeps_each_payment_to_its_consents(
        fund: Runtime) -> None:
    """Two lift donations X and Y; project A (consent of X) takes the free 100 and all of X; B, with Y's consent,
    may take Y to the cent; C, with X's consent only, finds X spent — though 500 of lift money is still there."""
    x, y = _credit(fund, 500, category="lift"), _credit(fund, 500, category="lift")
    _credit(fund, 100)
    a = _project(fund, category="facade")
    assert _refused(fund, a, "pay1", 600.01, consent=_agreed(x))  # 100 free + X's 500
    _pay(fund, a, "pay1", 600, consent=_agreed(x))
    b = _project(fund, category="facade")
    assert _refused(fund, b, "pay1", 500.01, consent=_agreed(y))
    c = _project(fund, category="facade")
    assert "可用 0" in _refused(fund, c, "pay1", 0.01, consent=_agreed(x)).message
    _pay(fund, b, "pay1", 500, consent=_agreed(y))
    with fund.db.reading() as conn:
        assert ledger.designations(conn, "F1", "pledge") == {}


def test_designated_money_pays_for_its_own_use_first(fund: Runtime) -> None:
    _credit(fund, 500, category="lift")
    _credit(fund, 100)
    lift = _project(fund, category="lift")
    _pay(fund, lift, "pay1", 550)  # the lift's 500, then 50 free
    with fund.db.reading() as conn:
        assert ledger.designations(conn, "F1", "pledge") == {None: Decimal("50.00")}
    facade = _project(fund, category="facade")
    _pay(fund, facade, "pay1", 50)  # the free remainder needs no consent


def test_a_limit_that_is_no_amount_is_refused_not_ignored(fund: Runtime) -> None:
    _credit(fund, 1000)
    case = begin(fund, "project", {"fund_code": "F1", "category": "facade", "contract": -1, "share": 100}).id
    assert list(_refused(fund, case, "pay1", 10).fields) == ["/amount"]
