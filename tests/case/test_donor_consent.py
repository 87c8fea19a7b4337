"""A change of use of donated money is consented to by the donor itself, in the spending project's case: the
secretariat names the donation, the task goes to the enterprise that made it (not to the project's applicant),
a case that is no designated donation of the fund is refused before anyone is asked, and the donor's answer —
not a reference someone types — is what the ledger reads when the project pays."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.base import clock
from engine.base.errors import FormInvalid, NotFound
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, LedgerEntry
from tests.support.funds import at
from tests.support.steps import do, inbox

FUND = "BDQ-DC"


def _donation(runtime: Runtime, donor: str, amount: int, category: str) -> str:
    """A cash pledge filed from `donor`'s enterprise account, checked, agreed and received: its case number."""
    case = runtime.start("lyjj_contribution", {
        "fund_code": FUND, "street": "street_bdq", "donor_name": donor, "source": "pledge", "amount": amount,
        "designated_category": category, "voluntary": True}, runtime.actor(donor))
    do(runtime, "secretariat", case.id, "compliance", {"voluntary_confirmed": True, "conflict_of_interest": False,
                                                       "compliant": True, "compliance_opinion": "合规"})
    do(runtime, "secretariat", case.id, "agreement_cash", {"agreement_no": f"XY-{case.id}", "signed_on": "2026-03-03"})
    do(runtime, "streetfinance", case.id, "confirm_receipt", {"received_amount": amount, "received_on": "2026-03-04",
                                                              "bank_ref": f"DC-{case.id}"})
    return case.case_number


def _contracted_facade(runtime: Runtime) -> int:
    """haiyun's façade project in the fund, approved and contracted: waiting for the consent request."""
    funding = {"pledge": 40000, "enterprise": 0, "in_kind": 0, "fiscal": 0, "party_fee": 0}
    case = runtime.start("lyjj_project", {
        "fund_code": FUND, "street": "street_bdq", "applicant_name": "青岛海韵科技有限公司",
        "conflict_of_interest": False, "declaration": True, "project_name": "南立面清洗", "category": "facade",
        "common_parts": False, "alteration": False, "budget": 40000, "funding": funding, "quote": "报价",
        "plan": "方案"},
        runtime.actor("haiyun")).id
    do(runtime, "secretariat", case, "formal_check", {"formal_ok": True, "formal_opinion": "齐全"})
    clock.travel(timedelta(days=7))  # the 7 days' posting before the owners vote
    runtime.advance(case)
    do(runtime, "secretariat", case, "owners_vote", {
        "total_area": 9000, "total_owners": 60, "voting_area": 6000, "voting_owners": 40, "agree_area": 6000,
        "agree_owners": 40, "vote_record": "书面征求意见"})
    do(runtime, "secretariat", case, "tech_review", {"technical_ok": True, "cost_ok": True, "reviewed_cost": 40000,
                                                     "review_opinion": "可行"})
    do(runtime, "committee", case, "committee_vote", {"members_total": 9, "members_present": 6, "votes_for": 4,
                                                      "votes_against": 2, "votes_abstain": 0,
                                                      "committee_minutes": "WY-DC"})
    clock.travel(timedelta(days=10))  # the 5 working days' public notice
    runtime.advance(case)
    do(runtime, "secretariat", case, "notice_review", {"objection_received": False, "objection_substantiated": False})
    do(runtime, "secretariat", case, "contract", {"contractor": "青岛洁美外墙清洗有限公司", "contract_no": "HT-DC",
                                                  "contract_amount": 40000, "contractor_no_conflict": True})
    return case


def _ask(runtime: Runtime, case: int, donation: str) -> Any:
    return do(runtime, "secretariat", case, "consent_request", {
        "consent_needed": True, "consent_donation": donation, "consent_reason": "外立面资金不足，拟动用 2000 元"})


@pytest.fixture
def project(runtime: Runtime) -> tuple[int, str, str]:
    at("2026-03-02T09:00:00+08:00")
    lift = _donation(runtime, "fushan", 50000, "lift")
    free = _donation(runtime, "haiyun", 1000, "none")
    return _contracted_facade(runtime), lift, free


def test_the_donors_enterprise_is_asked_and_nobody_else(runtime: Runtime, project: tuple[int, str, str]) -> None:
    case, lift, _ = project
    _ask(runtime, case, lift)
    [task] = [t for t in inbox(runtime, "fushan", case) if t.element_id == "donor_consent"]
    assert task.org == "ent_fushan"
    assert not [t for t in inbox(runtime, "haiyun", case) if t.element_id == "donor_consent"]  # the applicant: no
    with pytest.raises(NotFound):  # nor can the project's applicant answer for the donor
        runtime.complete(task.id, {"donor_decision": "agree", "donor_opinion": "同意"}, runtime.actor("haiyun"))
    runtime.complete(task.id, {"donor_decision": "agree", "donor_opinion": "同意用于南立面"}, runtime.actor("fushan"))
    do(runtime, "secretariat", case, "consent_request", {"consent_needed": False})
    do(runtime, "streetfinance", case, "pay_advance", {"payment_source": "pledge", "payment_amount": 3000})
    with runtime.db.reading() as conn:  # 1 000 free money and 2 000 of fushan's lift donation
        assert conn.execute(select(LedgerEntry.amount).where(LedgerEntry.instance_id == case)).scalar_one() == 3000


@pytest.mark.parametrize("which", ["free", "project", "unknown"])
def test_a_request_that_names_no_designated_donation_of_the_fund_is_refused_and_asks_nobody(
        runtime: Runtime, project: tuple[int, str, str], which: str) -> None:
    case, _, free = project
    number = {"free": free, "project": runtime.instance(case, runtime.actor("admin")).case_number,
              "unknown": "370202LYJJ-C20260302999999"}[which]
    with pytest.raises(FormInvalid) as refused:
        _ask(runtime, case, number)
    assert list(refused.value.fields) == ["/consent_donation"]
    with runtime.db.reading() as conn:
        assert not conn.execute(select(HumanTask.id).where(HumanTask.instance_id == case,
                                                           HumanTask.element_id == "donor_consent")).first()


def test_a_donor_who_declines_stops_the_payment_with_its_reasons(runtime: Runtime,
                                                                 project: tuple[int, str, str]) -> None:
    case, lift, _ = project
    _ask(runtime, case, lift)
    do(runtime, "fushan", case, "donor_consent", {"donor_decision": "disagree", "donor_opinion": "捐款仅限加装电梯"})
    do(runtime, "secretariat", case, "consent_request", {"consent_needed": False})
    with pytest.raises(FormInvalid) as refused:
        do(runtime, "streetfinance", case, "pay_advance", {"payment_source": "pledge", "payment_amount": 1000.01})
    assert list(refused.value.fields) == ["/payment_amount"]
    assert "捐款仅限加装电梯" in refused.value.message and lift in refused.value.message
    do(runtime, "streetfinance", case, "pay_advance", {"payment_source": "pledge", "payment_amount": 1000})  # free
