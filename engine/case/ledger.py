"""The building-fund ledger: postings per fund and money source, made by the elements that complete.

An element carrying the property `ledger` (`credit` or `debit`) with the expressions
`ledgerSource`, `ledgerAmount` and optionally `ledgerFund` (default `fund_code`) and
`ledgerCategory` posts one entry when it completes, in the step's own transaction.  A debit
that would take a source below zero, or party-fee money spent on anything but party building,
refuses the whole step (422 naming the field the expression reads), so nothing is written.
Balances live in one row per fund and source that a debit locks first: two payments racing
for the same money are serialised (SELECT … FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.base.errors import FormInvalid, NotFound, TongbanError
from engine.bpmn.scripting import RestrictedEnvironment
from engine.bpmn.stepping import element_of
from engine.case.output import StepOutput
from engine.definitions.compiler import CompiledProcess
from engine.people.access import Actor, may_see_fund
from engine.store.db import Database
from engine.store.models import FundAccount, LedgerEntry

CREDIT, DEBIT = "credit", "debit"
PARTY_BUILDING = "party_building"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Source:
    """A money source: its names, whether it is cash, and the purpose it is ring-fenced to (if any)."""

    code: str
    zh: str
    en: str
    cash: bool
    purpose: str | None = None


SOURCES = {s.code: s for s in (
    Source("pledge", "认捐", "pledge", cash=True),
    Source("enterprise", "企业筹资", "enterprise fund-raising", cash=True),
    Source("in_kind", "资源置换", "in-kind swap", cash=False),
    Source("fiscal", "财政", "government money", cash=True, purpose="government"),
    Source("party_fee", "党费返还", "party-fee rebate", cash=True, purpose=PARTY_BUILDING),
)}


@dataclass(frozen=True)
class Posting:
    """What one completed ledger element posts, evaluated from its data."""

    fund_code: str
    source: Source
    direction: str
    amount: Decimal
    category: str | None
    task: Task
    fields: tuple[str, str]  # the JSON paths of the source and the amount, for refusals


def _props_of_spec(task_spec: Any) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _props(task: Task) -> dict[str, str]:
    return _props_of_spec(task.task_spec)


def _field(expression: str) -> str:
    """The form field an expression reads when it is a bare name (what a refusal should point at)."""
    name = expression.strip()
    return f"/{name}" if name.isidentifier() else "/"


_WITH_LEDGER: dict[str, bool] = {}


def has_ledger(compiled: CompiledProcess) -> bool:
    """Whether any element of the process posts (most never do: they skip the ledger at no cost)."""
    if compiled.content_hash not in _WITH_LEDGER:
        specs = (compiled.spec, *compiled.subprocess_specs.values())
        _WITH_LEDGER[compiled.content_hash] = any(
            "ledger" in _props_of_spec(t) for s in specs for t in s.task_specs.values())
    return _WITH_LEDGER[compiled.content_hash]


def _evaluate(task: Task, prop: str, default: str | None = None) -> tuple[Any, str]:
    """An element's ledger expression over its data, with the field it reads (for a refusal to point at)."""
    expression = _props(task).get(prop, default)
    if expression is None:
        return None, "/"
    field = _field(expression)
    try:
        return RestrictedEnvironment().evaluate(expression, task.data), field
    except TongbanError:
        raise
    except Exception as exc:  # a designer's expression over data the form did not supply
        raise FormInvalid(f"记账字段无法计算 ({prop} of {element_of(task)} failed: {exc})",
                          {field: [f"无法计算 (cannot evaluate {expression!r})"]}) from None


def _amount(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and amount > 0 else None


def posting(task: Task) -> Posting:
    """The entry a completed ledger element makes; FormInvalid naming the field when its data is unusable."""
    code, source_field = _evaluate(task, "ledgerSource")
    source = SOURCES.get(str(code))
    if source is None:
        raise FormInvalid(f"未知资金来源 (unknown money source {code!r})",
                          {source_field: ["未知资金来源 (unknown source)"]})
    value, amount_field = _evaluate(task, "ledgerAmount")
    amount = _amount(value)
    if amount is None:
        raise FormInvalid("记账金额必须大于零 (the amount must be positive)",
                          {amount_field: ["金额必须大于零 (must be > 0)"]})
    fund, _ = _evaluate(task, "ledgerFund", "fund_code")
    category, _ = _evaluate(task, "ledgerCategory")
    return Posting(str(fund), source, _props(task)["ledger"].strip(), amount,
                   None if category is None else str(category), task, (source_field, amount_field))


def _account(conn: Connection, fund: str, source: str) -> Decimal:
    """The source's balance, its row created if need be and locked until the step commits."""
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(dialect_insert(FundAccount).values(fund_code=fund, source=source, balance=Decimal(0))
                 .on_conflict_do_nothing())
    return conn.execute(select(FundAccount.balance).where(FundAccount.fund_code == fund, FundAccount.source == source)
                        .with_for_update()).scalar_one()


def _check(p: Posting, balance: Decimal) -> None:
    source_field, amount_field = p.fields
    if p.direction == DEBIT and p.source.purpose == PARTY_BUILDING and p.category != PARTY_BUILDING:
        raise FormInvalid("党费返还只能用于党建活动 (party-fee money pays for party building only)",
                          {source_field: ["党费返还只能用于党建活动 (ring-fenced to party building)"]})
    if p.direction == DEBIT and p.amount > balance:
        raise FormInvalid(f"{p.source.zh}余额不足：余额 {balance}，本次支付 {p.amount} (the {p.source.en} balance "
                          f"{balance} is below the payment {p.amount})",
                          {amount_field: [f"超过{p.source.zh}余额 {balance} (exceeds the balance)"]})


def _unposted(conn: Connection, workflow: BpmnWorkflow, instance_id: int) -> list[Task]:
    """Completed ledger elements of this case that have no entry yet (each completion posts once)."""
    done = [t for t in workflow.get_tasks(state=TaskState.COMPLETED) if "ledger" in _props(t)]
    if not done:
        return []
    posted = set(conn.execute(select(LedgerEntry.task_id).where(LedgerEntry.instance_id == instance_id)).scalars())
    return [t for t in done if str(t.id) not in posted]


def post(conn: Connection, out: StepOutput) -> None:
    """Post what this step completed (the `fund_ledger` side product, in the step's transaction): a process
    that lists it but has no ledger element pays nothing. FormInvalid refuses the whole step."""
    if not has_ledger(out.compiled):
        return
    instance_id, at, user_id = out.instance_id, out.at, out.user_id
    tasks = _unposted(conn, out.workflow, instance_id)
    for p in (posting(t) for t in tasks):
        balance = _account(conn, p.fund_code, p.source.code)
        _check(p, balance)
        change = p.amount if p.direction == CREDIT else -p.amount
        conn.execute(update(FundAccount).where(FundAccount.fund_code == p.fund_code,
                                               FundAccount.source == p.source.code)
                     .values(balance=FundAccount.balance + change))
        conn.execute(insert(LedgerEntry).values(
            fund_code=p.fund_code, source=p.source.code, cash=p.source.cash, direction=p.direction, amount=p.amount,
            purpose=p.source.purpose, category=p.category, instance_id=instance_id, task_id=str(p.task.id),
            element_id=element_of(p.task), at=at, user_id=user_id))


def balances(conn: Connection, fund: str) -> list[dict[str, Any]] | None:
    """Each source's balance in a fund with its postings counted, or None when the fund has none."""
    rows = {r.source: r for r in conn.execute(
        select(LedgerEntry.source, func.count().label("entries")).where(LedgerEntry.fund_code == fund)
        .group_by(LedgerEntry.source))}
    accounts = {a.source: a.balance for a in conn.execute(select(FundAccount).where(FundAccount.fund_code == fund))}
    if not rows:
        return None
    return [{"source": s.code, "name": {"zh": s.zh, "en": s.en}, "cash": s.cash, "purpose": s.purpose,
             "balance": str(accounts.get(s.code, Decimal(0)).quantize(CENT)),
             "entries": rows[s.code].entries if s.code in rows else 0} for s in SOURCES.values()]


def fund_balances(db: Database, actor: Actor, fund: str) -> list[dict[str, Any]]:
    """A fund's balances for someone who may read its books (engine.people.access.may_see_fund); NotFound when
    there is no such fund or it is not the actor's to see — the two are not told apart."""
    rows = None
    if may_see_fund(actor):
        with db.reading() as conn:
            rows = balances(conn, fund)
    if rows is None:
        raise NotFound(f"基金不存在 (no fund {fund})")
    return rows
