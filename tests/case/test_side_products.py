"""A step's side products: one registry (engine/case/products.py), one function shape, the always-on ones for every
process and the fund ledger only where a process.yaml lists it; one commit path writes every step."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.base.errors import FormInvalid
from engine.base.vocabulary import Product
from engine.case import applicantnotices, carboncopy, casefacts, documents, ledger, notifications, products
from engine.definitions.compiler import ParsedWorkspace
from engine.definitions.registry import validate
from engine.runtime import runtime as runtime_module
from engine.runtime.commit import NewCase
from engine.runtime.runtime import Runtime
from engine.store.models import Event, HumanTask, Instance, LedgerEntry
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.repo import REPO, repo_files
from tests.support.steps import begin, do, put
from tests.support.workspaces import workspace

MONEY = {"type": "object", "properties": {
    "fund_code": {"type": "string"}, "source": {"type": "string"}, "amount": {"type": "number"},
    "category": {"type": "string"}}, "required": ["fund_code", "source", "amount", "category"]}
FORMS = {"money.json": MONEY, "open.json": {"type": "object"}}
MANIFEST = "processes/t/process.yaml"


def _posting(key: str, direction: str = "debit") -> dict[str, str]:
    nodes = [start(form="money.json"),
             user("post", "记账", "open.json", ledger=direction, ledgerSource="source", ledgerAmount="amount",
                  ledgerCategory="category"), end()]
    body = render(nodes, flows(("start", "post"), ("post", "end")))
    return {f"{key}.bpmn": bpmn(key, body, {"出资方": ["start"], "基金秘书处": ["post"]})}


def _manifest(key: str, products_line: str | None) -> dict[str, bytes]:
    text = f"key: {key}\ncode: TST\nname: {{zh: 测试, en: Test}}\n" + (f"{products_line}\n" if products_line else "")
    return {MANIFEST: text.encode()}


def _problems(key: str, products_line: str | None) -> list[Any]:
    """The errors, and the problems about the products (the test process draws warnings of other rules)."""
    found = validate(workspace(_posting(key), FORMS, key=key, extra=_manifest(key, products_line)))
    return [p for p in found if p.severity == "error" or "products" in p.message]


def test_the_registry_holds_every_product_once_in_the_order_a_step_writes_them() -> None:
    assert list(products.REGISTRY) == [Product.NOTICES, Product.CASE_FACTS, Product.DOCUMENTS,
                                       Product.APPLICANT_NOTICES, Product.CARBON_COPIES, Product.FUND_LEDGER]
    assert {Product.NOTICES, Product.CASE_FACTS, Product.DOCUMENTS, Product.APPLICANT_NOTICES,
            Product.CARBON_COPIES} == products.ALWAYS_ON


def test_the_fund_ledger_is_the_fund_processes_own_and_unknown_to_the_runtime() -> None:
    ws = ParsedWorkspace(repo_files())
    chosen = {m.key: products.names(ws.compile(m)) for m in ws.manifests}
    always = [Product.NOTICES, Product.CASE_FACTS, Product.DOCUMENTS, Product.APPLICANT_NOTICES,
              Product.CARBON_COPIES]
    assert chosen == {key: always + ([Product.FUND_LEDGER] if key.startswith("lyjj_") else []) for key in chosen}
    assert {m.key: m.products for m in ws.manifests if m.products is not None} == {
        "lyjj_contribution": (Product.FUND_LEDGER,), "lyjj_project": (Product.FUND_LEDGER,)}
    for path in (REPO / "engine" / "runtime").glob("*.py"):
        assert "ledger" not in path.read_text(encoding="utf-8").lower(), path


def test_an_unknown_product_is_refused_naming_the_file_and_line() -> None:
    [problem] = _problems("t_fund", "products:\n  - fund_ledger\n  - ledgr")
    assert (problem.file, problem.line, problem.severity) == (MANIFEST, 6, "error")
    assert "'ledgr'" in problem.message and "附带产物" in problem.message and "unknown side product" in problem.message
    [problem] = _problems("t_fund", "products: fund_ledger")
    assert (problem.file, problem.line, problem.severity) == (MANIFEST, 4, "error")
    [problem] = _problems("t_fund", "products: [fund_ledger, fund_ledger]")
    assert "listed twice" in problem.message


def test_a_ledger_element_needs_the_fund_ledger_listed() -> None:
    assert _problems("t_fund", "products: [fund_ledger]") == []
    [refused] = _problems("t_fund", "products: []")  # listed without it: its postings would never be made
    assert (refused.file, refused.element_id, refused.severity) == ("processes/t/t_fund.bpmn", "post", "error")
    assert MANIFEST in refused.message and "fund_ledger" in refused.message
    [told] = _problems("t_fund", None)  # no `products:` (every version deployed before it): still posts, told
    assert (told.file, told.severity) == (MANIFEST, "warning") and "fund_ledger" in told.message


def test_a_process_yaml_without_products_gets_what_its_elements_ask_for() -> None:
    """Versions deployed before `products:` existed keep posting to the fund ledger."""
    files = workspace(_posting("t_fund"), FORMS, key="t_fund")
    ws = ParsedWorkspace(files)
    [manifest] = ws.manifests
    assert manifest.products is None
    assert products.names(ws.compile(manifest))[-1] == Product.FUND_LEDGER
    files = workspace(_posting("t_fund"), FORMS, key="t_fund", extra=_manifest("t_fund", "products: []"))
    ws = ParsedWorkspace(files)
    assert Product.FUND_LEDGER not in products.names(ws.compile(ws.manifests[0]))


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The products each step runs, in order (the real functions still run)."""
    seen: list[str] = []
    for module, name, label in ((notifications, "raise_requested", Product.NOTICES),
                                (casefacts, "record", Product.CASE_FACTS), (documents, "issue", Product.DOCUMENTS),
                                (applicantnotices, "record", Product.APPLICANT_NOTICES),
                                (carboncopy, "record", Product.CARBON_COPIES), (ledger, "post", Product.FUND_LEDGER)):
        real = getattr(module, name)

        def recorded(conn: Any, out: Any, real: Any = real, label: str = label) -> None:
            seen.append(label)
            real(conn, out)

        monkeypatch.setattr(module, name, recorded)
    return seen


def test_every_step_runs_the_always_on_products_and_only_the_fund_processes_the_ledger(
        runtime: Runtime, calls: list[str]) -> None:
    put(runtime, "t_fund", _posting("t_fund", "credit"), FORMS, extra=_manifest("t_fund", "products: [fund_ledger]"))
    case = begin(runtime, "t_fund", {"fund_code": "BDQ-01", "source": "pledge", "amount": 10, "category": "lift"})
    do(runtime, "secretariat", case.id, "post", {})
    assert calls == ["notices", "case_facts", "documents", "applicant_notices", "carbon_copies", "fund_ledger"] * 2
    calls.clear()
    runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, runtime.actor("haiyun"))
    assert calls == ["notices", "case_facts", "documents", "applicant_notices", "carbon_copies"]


def test_a_refused_posting_rolls_back_the_whole_step(runtime: Runtime) -> None:
    put(runtime, "t_fund", _posting("t_fund"), FORMS, extra=_manifest("t_fund", "products: [fund_ledger]"))
    case = begin(runtime, "t_fund", {"fund_code": "BDQ-01", "source": "pledge", "amount": 10, "category": "lift"})

    def written() -> tuple[Any, ...]:
        with runtime.db.read() as session:
            return (session.scalar(select(Instance.version).where(Instance.id == case.id)),
                    session.scalar(select(func.count()).select_from(Event).where(Event.instance_id == case.id)),
                    session.scalars(select(HumanTask.state).where(HumanTask.instance_id == case.id)).all(),
                    session.scalar(select(func.count()).select_from(LedgerEntry)))

    before = written()
    with pytest.raises(FormInvalid):  # nothing to pay from: the ledger refuses, after the events were written
        do(runtime, "secretariat", case.id, "post", {})
    assert written() == before == (1, 2, ["ready"], 0)


def test_start_complete_the_admin_steps_deliver_and_advance_share_one_commit_path(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    steps: list[str] = []
    real = runtime_module.commit

    def commit(*args: Any, **kwargs: Any) -> Any:
        steps.append("new" if isinstance(args[3], NewCase) else "row")
        return real(*args, **kwargs)

    monkeypatch.setattr(runtime_module, "commit", commit)
    haiyun, admin = runtime.actor("haiyun"), runtime.actor("admin")
    view = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, haiyun)
    runtime.suspend(view.id, admin)
    runtime.resume(view.id, admin)
    runtime.complete(view.open_tasks[0].id, {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn",
                                             "commitment": True}, haiyun)
    runtime.advance(view.id)  # nothing due: nothing written
    runtime.terminate(view.id, admin)
    assert steps == ["new", "row", "row", "row", "row"]
