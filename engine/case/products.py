"""A step's side products: the rows besides state, tasks, timers and events that a step writes in its transaction.

Each product is a function of one shape, `(conn, out: StepOutput) -> None`, registered here under its name
(engine/base/vocabulary.py `Product`). The always-on ones run for every process; the others run only for a
process whose process.yaml lists them under `products:` — the building fund's ledger is the fund processes'
own (processes/lyjj_c, processes/lyjj_p), and the runtime does not know it exists.

A process.yaml without `products:` — every version deployed before the key existed, whose cases may still be
running — gets what its elements ask for, as it did then: the fund ledger when an element carries `ledger`.
`tongban validate` warns about such a process (engine/definitions/lint.py), and refuses one whose `products:`
leaves out the ledger its elements post to.

They run in the order of the registry, after the step's task, timer and event rows; any of them may refuse
the step by raising (the fund ledger refuses an overdraft with 422), which rolls back the whole step.

Field history is not one of them: the changes are events (`data_changed`, and the `changes` in a start's or a
completion's detail) worked out while the step runs, before anything is written, and stored in the step's
one batched insert of events, in order with the rest; as a product it would cost a statement of its own and
land after the `task_ready` events.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from sqlalchemy import Connection

from engine.base.vocabulary import Product
from engine.case import applicantnotices, carboncopy, casefacts, documents, ledger, notifications
from engine.case.output import StepOutput
from engine.definitions.compiler import CompiledProcess


class SideProduct(Protocol):
    def __call__(self, conn: Connection, out: StepOutput) -> None: ...


#: every product, in the order a step writes them. Each module's function is looked up when it runs (not bound
#: here at import), so a wrapper put in its place — a test slowing the ledger down, say — is the one called.
REGISTRY: dict[Product, SideProduct] = {
    Product.NOTICES: lambda conn, out: notifications.raise_requested(conn, out),
    Product.CASE_FACTS: lambda conn, out: casefacts.record(conn, out),
    Product.DOCUMENTS: lambda conn, out: documents.issue(conn, out),
    Product.APPLICANT_NOTICES: lambda conn, out: applicantnotices.record(conn, out),  # after the documents it names
    Product.CARBON_COPIES: lambda conn, out: carboncopy.record(conn, out),  # 抄送 of the elements' `cc`
    Product.FUND_LEDGER: lambda conn, out: ledger.post(conn, out),  # may refuse the step (422)
}

#: run for every process; the rest only where a process.yaml lists them under `products:`
ALWAYS_ON: frozenset[Product] = frozenset({Product.NOTICES, Product.CASE_FACTS, Product.DOCUMENTS,
                                           Product.APPLICANT_NOTICES, Product.CARBON_COPIES})

#: what a process.yaml without `products:` gets besides the always-on ones: the products its elements ask for
IMPLIED: dict[Product, Callable[[CompiledProcess], bool]] = {Product.FUND_LEDGER: ledger.has_ledger}

assert set(REGISTRY) == set(Product), "every Product needs its function in REGISTRY"


def names(compiled: CompiledProcess) -> list[Product]:
    """The products a step of this process writes, in registry order: the always-on ones and those its
    process.yaml lists (or, without `products:`, those its elements ask for)."""
    listed = compiled.manifest.products
    if listed is None:
        listed = tuple(p for p, wanted in IMPLIED.items() if wanted(compiled))
    return [p for p in REGISTRY if p in ALWAYS_ON or p in listed]


def of(compiled: CompiledProcess) -> list[SideProduct]:
    """Their functions: what the commit path runs, in this order, in the step's transaction."""
    return [REGISTRY[p] for p in names(compiled)]
