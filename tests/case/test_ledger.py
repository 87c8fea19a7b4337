"""The fund ledger: elements post credits and debits in their step; an overdraft or party-fee money spent on
anything but party building refuses the completion (422 naming the field) with nothing written; racing
debits cannot overdraw; balances are shown to the fund's roles only."""

from __future__ import annotations

import threading
import time
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.base.errors import FormInvalid
from engine.case import ledger
from engine.runtime.runtime import Runtime
from engine.store.models import HumanTask, LedgerEntry
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.http import PASSWORD
from tests.support.steps import begin, do, put

MONEY = {"type": "object", "properties": {
    "fund_code": {"type": "string"}, "source": {"type": "string"}, "amount": {"type": "number"},
    "category": {"type": "string"}}, "required": ["fund_code", "source", "amount", "category"]}


def _deploy(runtime: Runtime, key: str, direction: str) -> None:
    nodes = [start(form="money.json"),
             user("post", "记账", "open.json", ledger=direction, ledgerSource="source", ledgerAmount="amount",
                  ledgerCategory="category"), end()]
    body = render(nodes, flows(("start", "post"), ("post", "end")))
    put(runtime, key, {f"{key}.bpmn": bpmn(key, body, {"出资方": ["start"], "基金秘书处": ["post"]})},
        {"money.json": MONEY, "open.json": {"type": "object"}})


@pytest.fixture
def funds(runtime: Runtime) -> Runtime:
    _deploy(runtime, "fund_in", "credit")
    _deploy(runtime, "fund_out", "debit")
    return runtime


def _post(runtime: Runtime, key: str, amount: Any, source: str = "pledge", category: str | None = None,
          fund: str = "BDQ-01") -> int:
    """A credit carries no designated use unless asked (its category is its donor's designation); a debit pays
    for a lift unless asked."""
    if category is None:
        category = "" if key == "fund_in" else "lift"
    case = begin(runtime, key, {"fund_code": fund, "source": source, "amount": amount, "category": category})
    do(runtime, "secretariat", case.id, "post", {})
    return case.id


def _balance(runtime: Runtime, source: str, fund: str = "BDQ-01") -> str:
    with runtime.db.reading() as conn:
        rows = ledger.balances(conn, fund) or []
    return next(r["balance"] for r in rows if r["source"] == source)


def test_credit_then_debit_moves_the_balance_and_records_each_entry(funds: Runtime) -> None:
    _post(funds, "fund_in", 1000)
    _post(funds, "fund_in", 1000, source="in_kind")
    _post(funds, "fund_out", 250.5)
    assert _balance(funds, "pledge") == "749.50"
    assert _balance(funds, "in_kind") == "1000.00"
    with funds.db.read() as session:
        entries = session.scalars(select(LedgerEntry).order_by(LedgerEntry.id)).all()
    assert [(e.direction, e.source, e.cash, e.amount) for e in entries] == [
        ("credit", "pledge", True, Decimal("1000.00")), ("credit", "in_kind", False, Decimal("1000.00")),
        ("debit", "pledge", True, Decimal("250.50"))]
    assert all(e.element_id == "post" and e.user_id is not None for e in entries)


def _refused(runtime: Runtime, amount: Any, source: str = "pledge", category: str = "lift") -> FormInvalid:
    case = begin(runtime, "fund_out", {"fund_code": "BDQ-01", "source": source, "amount": amount,
                                       "category": category})
    with pytest.raises(FormInvalid) as refused:
        do(runtime, "secretariat", case.id, "post", {})
    with runtime.db.read() as session:  # the task is still there to do, and no entry was written
        assert session.scalar(select(HumanTask.state).where(HumanTask.instance_id == case.id)) == "ready"
        assert session.scalar(select(func.count()).select_from(LedgerEntry)
                              .where(LedgerEntry.instance_id == case.id)) == 0
    return refused.value


def test_a_debit_over_the_balance_is_refused_naming_the_amount_field(funds: Runtime) -> None:
    _post(funds, "fund_in", 100)
    error = _refused(funds, 100.01)
    assert error.status == 422 and list(error.fields) == ["/amount"]
    assert _balance(funds, "pledge") == "100.00"
    assert list(_refused(funds, 5, source="fiscal").fields) == ["/amount"]  # its own sub-ledger is empty


def test_party_fee_money_pays_for_party_building_only(funds: Runtime) -> None:
    _post(funds, "fund_in", 500, source="party_fee")
    assert list(_refused(funds, 10, source="party_fee", category="lift").fields) == ["/source"]
    _post(funds, "fund_out", 10, source="party_fee", category="party_building")
    assert _balance(funds, "party_fee") == "490.00"


def test_an_unknown_source_or_a_non_positive_amount_is_refused(funds: Runtime) -> None:
    assert list(_refused(funds, 10, source="lottery").fields) == ["/source"]
    assert list(_refused(funds, 0).fields) == ["/amount"]


def test_racing_debits_cannot_overdraw(funds: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two payments of 60 from a balance of 100: the second is completed while the first has posted but not yet
    committed. It must wait for the first and then be refused (without the row lock it would read 100 and pay)."""
    _post(funds, "fund_in", 100)
    cases = [begin(funds, "fund_out", {"fund_code": "BDQ-01", "source": "pledge", "amount": 60,
                                       "category": "lift"}) for _ in range(2)]
    with funds.db.read() as session:
        tasks = [session.scalar(select(HumanTask.id).where(HumanTask.instance_id == c.id)) for c in cases]
    actor, posted, outcomes = funds.actor("secretariat"), threading.Event(), {}
    real_post = ledger.post

    def slow_post(*args: Any) -> int:
        count = real_post(*args)
        if not posted.is_set():  # the first payment holds its transaction open a while
            posted.set()
            time.sleep(0.5)
        return count

    monkeypatch.setattr(ledger, "post", slow_post)

    def pay(task_id: str) -> None:
        try:
            funds.complete(task_id, {}, actor)
            outcomes[task_id] = "paid"
        except FormInvalid:
            outcomes[task_id] = "refused"

    first = threading.Thread(target=pay, args=(tasks[0],))
    first.start()
    assert posted.wait(10)
    pay(tasks[1])
    first.join()
    assert outcomes == {tasks[0]: "paid", tasks[1]: "refused"}
    assert _balance(funds, "pledge") == "40.00"


def test_balances_api_is_for_the_fund_roles_only(funds: Runtime, client: FlaskClient) -> None:
    _post(funds, "fund_in", 1000)

    def get(username: str, code: str = "BDQ-01") -> Any:
        token = client.post("/api/v1/auth/token", json={"username": username, "password": PASSWORD}).get_json()
        return client.get(f"/api/v1/funds/{code}/balances",
                          headers={"Authorization": f"Bearer {token['token']}"})

    for username in ("secretariat", "committee", "admin"):
        reply = get(username)
        assert reply.status_code == 200, reply.get_json()
        pledge = next(b for b in reply.get_json()["balances"] if b["source"] == "pledge")
        assert pledge["balance"] == "1000.00" and pledge["name"]["zh"] == "认捐"
    assert get("haiyun").status_code == 404
    assert get("window").status_code == 404
    assert get("admin", "NOPE").status_code == 404
