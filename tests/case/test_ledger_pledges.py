"""Pledged against received: the fund's books show what its accepted contributions promised, what arrived, what is
still expected and what donors agreed to write down — read from the contribution cases' report facts."""

from __future__ import annotations

from typing import Any

from engine.case import ledger
from engine.runtime.runtime import Runtime
from tests.support.steps import begin, do

COMPLIANT = {"voluntary_confirmed": True, "conflict_of_interest": False, "compliant": True,
             "compliance_opinion": "自愿出资，无利益冲突"}


def _pledge(runtime: Runtime, amount: Any, source: str = "pledge", fund: str = "BDQ-PV") -> int:
    case = begin(runtime, "lyjj_contribution", {"fund_code": fund, "street": "street_bdq", "donor_name": "出资方",
                                                "source": source, "amount": amount, "designated_category": "none",
                                                "voluntary": True})
    return case.id


def _receive(runtime: Runtime, case: int, amount: Any, element: str = "confirm_receipt") -> None:
    do(runtime, "streetfinance", case, element, {"received_amount": amount, "received_on": "2026-03-04",
                                                 "bank_ref": f"REF-{case}-{amount}"})


def _accept_cash(runtime: Runtime, case: int) -> None:
    do(runtime, "secretariat", case, "compliance", COMPLIANT)
    do(runtime, "secretariat", case, "agreement_cash", {"agreement_no": f"XY-{case}", "signed_on": "2026-03-03"})


def _books(runtime: Runtime, fund: str = "BDQ-PV") -> dict[str, dict[str, str]]:
    with runtime.db.reading() as conn:
        return ledger.pledges(conn, fund)


def test_a_shortfall_shows_as_outstanding_beside_what_arrived(runtime: Runtime) -> None:
    short = _pledge(runtime, 100_000)
    _accept_cash(runtime, short)
    _receive(runtime, short, 1)
    full = _pledge(runtime, 5_000)
    _accept_cash(runtime, full)
    _receive(runtime, full, 5_000)
    assert _books(runtime) == {"pledge": {"pledged": "105000.00", "received": "5001.00", "outstanding": "99999.00",
                                          "written_down": "0.00"}}
    assert _books(runtime, "OTHER") == {}


def test_a_refused_or_unchecked_pledge_promises_nothing(runtime: Runtime) -> None:
    refused = _pledge(runtime, 30_000)
    do(runtime, "secretariat", refused, "compliance", {**COMPLIANT, "compliant": False, "conflict_of_interest": True,
                                                       "refusal_reasons": "出资方拟承接本基金项目"})
    _pledge(runtime, 70_000)  # not yet checked
    assert _books(runtime) == {}


def test_a_pledge_the_donor_reduced_is_written_down_not_outstanding(runtime: Runtime) -> None:
    case = _pledge(runtime, 200_000, source="fiscal")
    do(runtime, "secretariat", case, "compliance", COMPLIANT)
    _receive(runtime, case, 150_000, "ringfenced_receipt")
    do(runtime, "secretariat", case, "shortfall_follow_up", {"shortfall_result": "pledge_reduced",
                                                             "shortfall_note": "区财政确认本年度仅安排 15 万元"})
    assert _books(runtime) == {"fiscal": {"pledged": "200000.00", "received": "150000.00", "outstanding": "0.00",
                                          "written_down": "50000.00"}}
