"""The building-fund ledger: postings per fund and money source, made by the elements that complete.

An element carrying the property `ledger` (`credit` or `debit`) with the expressions
`ledgerSource`, `ledgerAmount` and optionally `ledgerFund` (default `fund_code`) and
`ledgerCategory` posts one entry when it completes, in the step's own transaction.  A debit
refuses the whole step (422 naming the field the expression reads, so nothing is written) when it
would take a source below zero, spend party-fee money on anything but party building, or break a
limit the element names:

- `ledgerCap`: the most this case may have paid in all (the contract amount less the retention still
  held back) — the payment plus the case's earlier debits must stay within it;
- `ledgerSourceCap`: the most this case may pay from the posting's source (its share of the approved
  funding split) — a source with no share pays nothing;
- `ledgerConsent`: the donors' answers, given in the spending case, to a change of use of their donations — a
  list of `{"case": <the donation's case number>, "agreed": bool, "opinion": text}` the process computes from
  the donor's own task (anything else, a typed reference say, is no consent). A credit's category is the use
  its donor designated (none: free money). A debit draws first on money designated for its own category,
  then on free money, and on money designated for another use only from the donations whose donors agreed,
  in the order they agreed; a refusal names the donors who said no and their reasons.

An element carrying `ledgerDonation` (the secretariat's request for a donor's consent) is checked when it
completes: the case number it gives must be a donation to this fund designated for a use other than the
element's `ledgerCategory`, else the step is refused naming the field. The donor's own task is offered to
the enterprise that filed that donation (`candidateEnterprise`, engine/runtime/commit.py).
Balances live in one row per fund and source that a debit locks first: two payments racing
for the same money are serialised (SELECT … FOR UPDATE on PostgreSQL, BEGIN IMMEDIATE on SQLite).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.base.errors import FormInvalid, NotFound, TongbanError
from engine.base.vocabulary import EventKind
from engine.bpmn.scripting import RestrictedEnvironment
from engine.bpmn.stepping import element_of
from engine.case.output import StepOutput
from engine.definitions.compiler import CompiledProcess
from engine.people.access import Actor, may_see_fund
from engine.store.db import Database
from engine.store.models import CaseFact, FundAccount, Instance, LedgerEntry

CREDIT, DEBIT = "credit", "debit"
PARTY_BUILDING = "party_building"
CENT = Decimal("0.01")
#: the report fact a spending process keeps its donors' answers under (its `ledgerConsent` field, process.yaml
#: `report:`), so that replaying the fund's entries knows which donations each earlier payment could draw on
CONSENTS_FACT = "donor_consents"


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
class Limit:
    """A ceiling a debit must stay within, and the field a refusal points at."""

    amount: Decimal
    field: str


@dataclass(frozen=True)
class Consent:
    """A donor's answer, in the spending case, to the use of its designated donation for the case's category."""

    case_number: str  # the donation's case
    agreed: bool
    opinion: str


def consents(value: Any) -> tuple[Consent, ...]:
    """The consent records of a case's `ledgerConsent` value, in the order given; a value that is no list of them
    (a typed reference, a version before donors answered in the system) holds none."""
    if not isinstance(value, list):
        return ()
    return tuple(Consent(item["case"], item.get("agreed") is True, str(item.get("opinion") or ""))
                 for item in value if isinstance(item, dict) and isinstance(item.get("case"), str))


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
    cap: Limit | None = None  # the case's debits in all
    source_cap: Limit | None = None  # the case's debits from this source
    consents: tuple[Consent, ...] = ()  # the donors' answers to a change of use


def _props_of_spec(task_spec: Any) -> dict[str, str]:
    return (getattr(task_spec, "extensions", None) or {}).get("properties", {})


def _props(task: Task) -> dict[str, str]:
    return _props_of_spec(task.task_spec)


def _field(expression: str) -> str:
    """The form field an expression reads when it is a bare name, or a conditional whose value is one
    (`consent_donation if consent_needed else None`): what a refusal should point at."""
    try:
        node = ast.parse(expression.strip(), mode="eval").body
    except SyntaxError:
        return "/"
    if isinstance(node, ast.IfExp):
        node = node.body
    return f"/{node.id}" if isinstance(node, ast.Name) else "/"


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


def _amount(value: Any, allow_zero: bool = False) -> Decimal | None:
    if isinstance(value, bool):
        return None
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() and (amount > 0 or (allow_zero and amount == 0)) else None


def _limit(task: Task, prop: str, field: str) -> Limit | None:
    """The ceiling an element's `prop` expression gives (None when it names none); a value that is no amount
    is the designer's mistake, refused naming the property rather than paying without the limit."""
    if prop not in _props(task):
        return None
    value, _ = _evaluate(task, prop)
    amount = _amount(value, allow_zero=True)
    if amount is None:
        raise FormInvalid(f"支付上限无法确定 ({prop} of {element_of(task)} gave {value!r})",
                          {field: ["支付上限无法确定 (the limit is not an amount)"]})
    return Limit(amount, field)


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
    answers, _ = _evaluate(task, "ledgerConsent")
    return Posting(str(fund), source, _props(task)["ledger"].strip(), amount,
                   str(category) if category else None, task, (source_field, amount_field),
                   _limit(task, "ledgerCap", amount_field), _limit(task, "ledgerSourceCap", source_field),
                   consents(answers))


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


def _case_paid(conn: Connection, instance_id: int, source: str | None = None) -> Decimal:
    """What this case has paid so far (from one source, or from all)."""
    query = select(func.coalesce(func.sum(LedgerEntry.amount), 0)).where(
        LedgerEntry.instance_id == instance_id, LedgerEntry.direction == DEBIT)
    if source is not None:
        query = query.where(LedgerEntry.source == source)
    return Decimal(conn.execute(query).scalar_one()).quantize(CENT)


def _check_caps(conn: Connection, p: Posting, instance_id: int) -> None:
    """The case's limits: its payments from this source (the approved split) and in all (the contract less the
    retention still held back). Every limit broken is named at once."""
    if p.direction != DEBIT:
        return
    problems: dict[str, list[str]] = {}
    summary: list[str] = []
    if p.source_cap is not None:
        paid = _case_paid(conn, instance_id, p.source.code)
        if paid + p.amount > p.source_cap.amount:
            problems.setdefault(p.source_cap.field, []).append(
                f"超出批准的{p.source.zh}份额 {p.source_cap.amount}，已付 {paid} "
                f"(beyond the approved share of this source)")
            summary.append(f"{p.source.zh}支付超出批准的资金构成 (beyond the approved {p.source.en} share "
                           f"{p.source_cap.amount}; {paid} paid, {p.amount} asked)")
    if p.cap is not None:
        paid = _case_paid(conn, instance_id)
        if paid + p.amount > p.cap.amount:
            problems.setdefault(p.cap.field, []).append(
                f"累计支付不得超过 {p.cap.amount}，已付 {paid} (total payments may reach {p.cap.amount} at this stage)")
            summary.append(f"累计支付超出本阶段可付上限 (payments may reach {p.cap.amount} at this stage; "
                           f"{paid} paid, {p.amount} asked)")
    if problems:
        raise FormInvalid("；".join(summary), problems)


#: a pool of a source's money: the designated use (None: free) and the donation case it came from (None: free)
Pool = tuple[str | None, int | None]
FREE: Pool = (None, None)


def _agreed(conn: Connection, fund: str) -> dict[int, list[int]]:
    """Per spending case of the fund, the donation cases whose donors agreed to its change of use, in the order
    they agreed: the case's `ledgerConsent` value as its report fact of the same name (process.yaml `report:`)."""
    payers = select(LedgerEntry.instance_id).where(LedgerEntry.fund_code == fund, LedgerEntry.direction == DEBIT)
    answers = {instance_id: consents(raw) for instance_id, raw in conn.execute(
        select(CaseFact.instance_id, CaseFact.raw).where(CaseFact.name == CONSENTS_FACT,
                                                         CaseFact.instance_id.in_(payers)))}
    return {instance_id: _case_ids(conn, [c.case_number for c in found if c.agreed])
            for instance_id, found in answers.items()}


def _case_ids(conn: Connection, numbers: list[str]) -> list[int]:
    """The instance ids of these case numbers, in the order given (unknown numbers dropped)."""
    if not numbers:
        return []
    ids = dict(conn.execute(select(Instance.case_number, Instance.id).where(Instance.case_number.in_(numbers))).all())
    return [ids[n] for n in numbers if n in ids]


def _pools(conn: Connection, fund: str, source: str) -> dict[Pool, Decimal]:
    """The source's money by designated use and donation, replaying its entries in order: a credit adds to its
    donation's pool (or to the free pool); a debit draws on its own category's pools, then free money, then the
    donations its case's donors agreed to, in that order (what its check allowed when it was paid), and — for
    debits paid before donors answered in the system — on the other pools, oldest first."""
    pools: dict[Pool, Decimal] = {}
    agreed = _agreed(conn, fund)
    for direction, amount, category, instance_id in conn.execute(
            select(LedgerEntry.direction, LedgerEntry.amount, LedgerEntry.category, LedgerEntry.instance_id)
            .where(LedgerEntry.fund_code == fund, LedgerEntry.source == source).order_by(LedgerEntry.id)):
        if direction == CREDIT:
            key = (category, instance_id) if category else FREE
            pools[key] = pools.get(key, Decimal(0)) + amount
            continue
        left = Decimal(amount)
        mine = [k for k in pools if k[0] == category and k != FREE]
        consented = [k for donation in agreed.get(instance_id, []) for k in pools if k[1] == donation]
        for key in [*mine, FREE, *consented, *pools]:
            take = min(left, pools.get(key, Decimal(0)))
            if take > 0:
                pools[key] -= take
                left -= take
    return {k: v.quantize(CENT) for k, v in pools.items() if v > 0}


def designations(conn: Connection, fund: str, source: str) -> dict[str | None, Decimal]:
    """The source's money by designated use (None: free)."""
    uses: dict[str | None, Decimal] = {}
    for (category, _), amount in _pools(conn, fund, source).items():
        uses[category] = uses.get(category, Decimal(0)) + amount
    return uses


def _check_designation(conn: Connection, p: Posting, balance: Decimal) -> None:
    """Money a donor designated for another use pays for this category only from donations whose donors agreed in
    the system; a refusal says how much is free and names the donors who declined, with their reasons."""
    if p.direction != DEBIT:
        return
    agreed = set(_case_ids(conn, [c.case_number for c in p.consents if c.agreed]))
    blocked = {k: v for k, v in _pools(conn, p.fund_code, p.source.code).items()
               if k[0] is not None and k[0] != p.category and k[1] not in agreed}
    free = max(balance - sum(blocked.values(), Decimal(0)), Decimal(0))
    if p.amount <= free:
        return
    numbers = dict(conn.execute(select(Instance.id, Instance.case_number)
                                .where(Instance.id.in_({k[1] for k in blocked}))).all())
    held = "、".join(f"{numbers.get(k[1], k[1])}（{k[0]}，{v}）" for k, v in blocked.items())
    declined = "；".join(f"{c.case_number}：{c.opinion}" for c in p.consents
                         if not c.agreed and c.case_number in numbers.values())
    why, why_en = (f"出资方不同意变更用途（{declined}）；", f"; declined: {declined}") if declined else ("", "")
    raise FormInvalid(
        f"{p.source.zh}余额中 {balance - free} 元为出资方指定用于其他用途的捐赠 {held}，本次可用 {free} 元；{why}"
        f"变更用途须经出资方在系统中同意 (only {free} of the balance is free for this use; the rest was designated by "
        f"its donors for other uses and needs their consent in the system{why_en})",
        {p.fields[1]: [f"超过可用于本用途的 {free} 元：指定用于其他用途的资金须经出资方同意 (beyond the money free "
                       f"for this use; designated money needs its donor's consent)"]})


def _check_donation(conn: Connection, task: Task) -> None:
    """A consent request must name a donation to this fund designated for another use than the case's: the
    enterprise that made it is the one asked (a number of any other case would put the project before a stranger)."""
    number, field = _evaluate(task, "ledgerDonation")
    if not number:
        return
    fund, _ = _evaluate(task, "ledgerFund", "fund_code")
    category, _ = _evaluate(task, "ledgerCategory")
    uses = set(conn.execute(select(LedgerEntry.category).join(Instance, Instance.id == LedgerEntry.instance_id).where(
        Instance.case_number == str(number), LedgerEntry.fund_code == str(fund), LedgerEntry.direction == CREDIT,
        LedgerEntry.category.is_not(None))).scalars())
    if not uses:
        raise FormInvalid(f"{str(number)[:40]} 不是本基金指定用途的捐赠 (not a designated donation to fund {fund})",
                          {field: ["不是本基金指定用途的捐赠办件 (not a designated donation to this fund)"]})
    if uses == {category}:
        raise FormInvalid("该捐赠本就指定用于本项目类别，无须变更用途 (the donation is designated for this very use)",
                          {field: ["该捐赠指定用于本类别，无须出资方同意 (nothing to consent to)"]})


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
    completed = {e.get("task_id") for e in out.step.events if e["kind"] == EventKind.TASK_COMPLETED}
    for task in out.workflow.get_tasks(state=TaskState.COMPLETED):
        if str(task.id) in completed and "ledgerDonation" in _props(task):
            _check_donation(conn, task)
    tasks = _unposted(conn, out.workflow, instance_id)
    for p in (posting(t) for t in tasks):
        balance = _account(conn, p.fund_code, p.source.code)
        _check(p, balance)
        _check_caps(conn, p, instance_id)
        _check_designation(conn, p, balance)
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


#: the report facts (process.yaml `report:`) a contribution keeps: what was pledged and what has arrived
PLEDGE_FACTS = ("source", "compliant", "amount", "received_total", "shortfall", "pledge_written_down")


def pledges(conn: Connection, fund: str) -> dict[str, dict[str, str]]:
    """Pledged against received per source, over the fund's accepted contributions (compliant ones; in-kind
    swaps have no pledged sum): what the ledger's balances alone cannot show is a shortfall still expected
    (`outstanding`) or written down with the donor's agreement (`written_down`)."""
    in_fund = select(CaseFact.instance_id).where(CaseFact.name == "fund_code", CaseFact.value == fund)
    cases: dict[int, dict[str, Any]] = {}
    for instance_id, name, raw in conn.execute(select(CaseFact.instance_id, CaseFact.name, CaseFact.raw).where(
            CaseFact.instance_id.in_(in_fund), CaseFact.name.in_(PLEDGE_FACTS))):
        cases.setdefault(instance_id, {})[name] = raw
    totals: dict[str, dict[str, Decimal]] = {}
    for facts in cases.values():
        if facts.get("compliant") is not True or facts.get("source") not in SOURCES or "amount" not in facts:
            continue
        row = totals.setdefault(facts["source"], {k: Decimal(0) for k in
                                                  ("pledged", "received", "outstanding", "written_down")})
        for key, fact in (("pledged", "amount"), ("received", "received_total"), ("outstanding", "shortfall"),
                          ("written_down", "pledge_written_down")):
            row[key] += _amount(facts.get(fact, 0), allow_zero=True) or Decimal(0)
    return {source: {k: str(v.quantize(CENT)) for k, v in row.items()} for source, row in totals.items()}


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
