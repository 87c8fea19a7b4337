"""The fund's quarterly public disclosure, from entries the runtime posted: per source opening, income, spending by
project (names and category titles) and closing; in-kind apart from cash; quarters cut in Asia/Shanghai; no
donor named unless an enterprise chose to be; unknown funds and quarters are NotFound."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from engine.base import clock
from engine.base.errors import NotFound
from engine.case.disclosure import Quarter, disclosure, quarters, yuan
from engine.design.scenarios import Runner, load
from engine.runtime.runtime import Runtime
from engine.store.models import FundAccount
from tests.support.funds import SHANGHAI, at, deploy_funds, post
from tests.support.repo import REPO, repo_files
from tests.support.steps import do


@pytest.fixture
def funds(runtime: Runtime) -> Runtime:
    return deploy_funds(runtime)


def _source(d: Any, code: str) -> Any:
    return next(r for r in d.sources if r.source.code == code)


def test_an_entry_at_23_59_on_30_september_is_q3_and_one_at_midnight_is_q4(funds: Runtime) -> None:
    post(funds, "fund_in", "2026-07-01T00:00:00+08:00", 1000)           # first instant of Q3
    post(funds, "fund_in", "2026-09-30T23:59:00+08:00", 200)            # last minute of Q3 (15:59 UTC)
    post(funds, "fund_in", "2026-10-01T00:00:00+08:00", 30)             # first instant of Q4 (16:00 UTC, 30 Sept)
    at("2027-01-05T09:00:00+08:00")
    q3, q4 = disclosure(funds, "BDQ-D01", "2026Q3"), disclosure(funds, "BDQ-D01", "2026Q4")
    assert (_source(q3, "pledge").opening, _source(q3, "pledge").income) == (Decimal(0), Decimal("1200.00"))
    assert (_source(q4, "pledge").opening, _source(q4, "pledge").income) == (Decimal("1200.00"), Decimal("30.00"))
    assert _source(q4, "pledge").closing == Decimal("1230.00") and q3.closed and q4.closed
    assert q3.period_start == datetime(2026, 7, 1, tzinfo=SHANGHAI) and str(q3.last_day) == "2026-09-30"


def test_the_quarter_boundary_is_shanghai_midnight_not_utc() -> None:
    assert Quarter.of(datetime(2026, 9, 30, 15, 59, 59, 999999, tzinfo=UTC), SHANGHAI) == Quarter(2026, 3)
    assert Quarter.of(datetime(2026, 9, 30, 16, 0, tzinfo=UTC), SHANGHAI) == Quarter(2026, 4)
    assert Quarter(2026, 4).end(SHANGHAI) == datetime(2027, 1, 1, tzinfo=SHANGHAI)
    assert Quarter(2026, 4).following() == Quarter(2027, 1) and Quarter(2026, 1).zh == "2026年第一季度"


def test_spending_by_project_with_names_and_category_titles_in_kind_apart(funds: Runtime) -> None:
    post(funds, "fund_in", "2026-04-02T10:00:00+08:00", 100000)
    post(funds, "fund_in", "2026-04-03T10:00:00+08:00", 5000, source="in_kind")
    post(funds, "fund_in", "2026-04-03T11:00:00+08:00", 8000, source="party_fee")
    at("2026-06-30T10:00:00+08:00")  # proposed in Q2, paid in Q3: the payments' instants count, not the case's
    lift = funds.start("fund_staged", {"fund_code": "BDQ-D01", "source": "pledge", "amount": 30000, "second": 10000.5,
                                       "category": "lift", "project_name": "三号楼加装电梯"}, funds.actor("haiyun")).id
    at("2026-07-10T10:00:00+08:00")
    do(funds, "secretariat", lift, "pay1", {})
    at("2026-08-10T10:00:00+08:00")
    do(funds, "secretariat", lift, "pay2", {})
    post(funds, "fund_out", "2026-09-01T10:00:00+08:00", 2000, source="in_kind", category="facade",
          project_name="外墙广告位置换")
    post(funds, "fund_out", "2026-09-02T10:00:00+08:00", 3000, source="party_fee", category="party_building",
          project_name="七一主题党日")
    at("2026-10-08T09:00:00+08:00")
    d = disclosure(funds, "BDQ-D01", "2026Q3")
    pledge = _source(d, "pledge")
    assert (pledge.opening, pledge.income, pledge.spending, pledge.closing) == (
        Decimal("100000.00"), Decimal(0), Decimal("40000.50"), Decimal("59999.50"))
    [project] = pledge.projects
    assert (project.name, project.category_name, project.amount, project.payments) == (
        "三号楼加装电梯", "加装/更新电梯", Decimal("40000.50"), 2)
    assert project.case_number == funds.instance(lift, funds.actor("admin")).case_number
    assert [(p.name, p.category_name) for p in _source(d, "party_fee").projects] == [("七一主题党日", "党建活动")]
    assert [(p.name, p.category_name) for p in _source(d, "in_kind").projects] == [("外墙广告位置换", "外立面整治")]
    cash, in_kind = d.totals(True), d.totals(False)
    assert (cash.opening, cash.spending, cash.closing) == (Decimal("108000.00"), Decimal("43000.50"),
                                                           Decimal("64999.50"))
    assert (in_kind.opening, in_kind.spending, in_kind.closing) == (Decimal("5000.00"), Decimal("2000.00"),
                                                                    Decimal("3000.00"))
    with funds.db.read() as session:  # the current quarter's closing is the ledger's running balance
        balances = {a.source: a.balance for a in session.query(FundAccount).filter_by(fund_code="BDQ-D01")}
    assert {r.source.code: r.closing for r in d.sources if r.source.code in balances} == balances
    assert yuan(pledge.closing) == "¥59,999.50" and yuan(Decimal("40000")) == "¥40,000.00"


def test_donors_are_aggregated_unless_an_enterprise_chose_to_be_named(funds: Runtime) -> None:
    post(funds, "fund_in", "2026-07-02T10:00:00+08:00", 50000, donor_name="青岛海韵科技有限公司", donor_public=True)
    post(funds, "fund_in", "2026-07-03T10:00:00+08:00", 700, donor_name="张三", donor_public=False)
    post(funds, "fund_in", "2026-07-04T10:00:00+08:00", 300, donor_name="李四")
    post(funds, "fund_in_office", "2026-07-05T10:00:00+08:00", 900, donor_name="王五", donor_public=True,
          starter="secretariat")  # not filed from an enterprise account: never named
    at("2026-07-06T10:00:00+08:00")
    d = disclosure(funds, "BDQ-D01", "2026Q3")
    assert [(x.name, x.amount, x.contributions) for x in _source(d, "pledge").donors] == [
        ("青岛海韵科技有限公司", Decimal("50000.00"), 1), (None, Decimal("1900.00"), 3)]
    assert not d.closed  # the current quarter is published, marked still open


def test_unknown_fund_future_earlier_and_malformed_quarters_are_not_found(funds: Runtime) -> None:
    post(funds, "fund_in", "2026-07-02T10:00:00+08:00", 100)
    at("2026-11-02T10:00:00+08:00")
    assert [str(q) for q in quarters(funds, "BDQ-D01")] == ["2026Q3", "2026Q4"]
    for fund, quarter in [("NO-SUCH", "2026Q3"), ("BDQ-D01", "2026Q2"), ("BDQ-D01", "2027Q1"),
                          ("BDQ-D01", "2026Q5"), ("BDQ-D01", "2026q3"), ("BDQ-D01", "2026-Q3"),
                          ("BDQ-D01", "٢٠٢٦Q3"), ("BDQ-D01", "9999Q4"), ("BDQ-D01", "0000Q1"), ("BDQ-D01", "")]:
        with pytest.raises(NotFound):
            disclosure(funds, fund, quarter)
    with pytest.raises(NotFound):
        quarters(funds, "NO-SUCH")


def _run(paths: list[Path], tmp_path: Path) -> Runner:
    runner = Runner(repo_files(), tmp_path)
    for path in paths:
        result = runner.run(load(path))
        assert result.passed, (path.name, result.message)
    return runner


def test_the_shipped_fund_scenarios_disclose_consistently(tmp_path: Path) -> None:
    """The shipped LYJJ scenarios' postings (funding, then projects paying in stages): each quarter closes where
    the next opens, every project is named with its category's title, and no donor name appears."""
    folder = REPO / "processes" / "lyjj_p" / "scenarios"
    runner = _run(sorted(p for p in folder.glob("*.yaml")), tmp_path)
    try:
        with runner.runtime.context.entered():
            clock.travel(datetime(2027, 7, 1, tzinfo=SHANGHAI) - clock.now())
            found = quarters(runner.runtime, "BDQ-P01")
            # The scenarios share one database, each on its own clock: the funding scenarios (00a–00e) post in
            # 2026, and the whole-project ones start in 2025 (their warranty ends in 2026) and pay from that
            # funding. Only a replay's clock runs backwards like this, so the quarters checked start in 2026.
            assert found[0] == Quarter(2025, 1) and found[-1] == Quarter(2027, 3)
            found = [q for q in found if q >= Quarter(2026, 1)]
            reports = [disclosure(runner.runtime, "BDQ-P01", str(q)) for q in found]
    finally:
        runner.close()
    for before, after in pairwise(reports):
        assert [r.closing for r in before.sources] == [r.opening for r in after.sources]
    first = reports[0]
    assert _source(first, "pledge").income > 0 and _source(first, "fiscal").income > 0
    spent = [p for d in reports for r in d.sources for p in r.projects]
    assert spent and all(p.name and p.category_name and p.category_name != p.category for p in spent)
    assert {p.name for p in spent} >= {"大堂公共休息区改造", "楼宇党建主题活动"}
    assert all(x.name is None for d in reports for r in d.sources for x in r.donors)  # 楼宇出资方 did not agree
    for d in reports:
        for r in d.sources:
            assert r.closing >= 0 and r.spending == sum((p.amount for p in r.projects), Decimal(0))
    assert all(p.category_name == "党建活动" for d in reports for p in _source(d, "party_fee").projects)
    assert reports[-1].as_of - timedelta(seconds=5) < datetime(2027, 7, 1, tzinfo=SHANGHAI)


def test_a_donor_who_ticked_donor_public_on_the_pledge_form_is_named_the_others_are_anonymous(tmp_path: Path) -> None:
    """The shipped pledge form's `donor_public` choice: 00e (an enterprise that agreed) is named in BDQ-P13's
    disclosure; 00d (the lift donor, who did not tick it: the default) is one anonymous line."""
    folder = REPO / "processes" / "lyjj_p" / "scenarios"
    runner = _run([folder / "00d_fund_designated_lift.yaml", folder / "00e_fund_free.yaml"], tmp_path)
    try:
        with runner.runtime.context.entered():
            d = disclosure(runner.runtime, "BDQ-P13", "2026Q1")
    finally:
        runner.close()
    assert [(x.name, x.amount, x.contributions) for x in _source(d, "pledge").donors] == [
        ("青岛海韵科技有限公司", Decimal("10000.00"), 1), (None, Decimal("50000.00"), 1)]
