"""加签 under races, with real threads on the real database (SQLite and PostgreSQL): each race ends consistent, and
the loser gets a clear 409 (Conflict) — no task completed with an open signer, no half-written rows.

The first operation is held inside its transaction, after it locked the task's row, until the second has started
and is waiting on it (PostgreSQL: the row lock; SQLite: the write lock), so the interleaving is certain."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.base.errors import Conflict, TongbanError
from engine.base.vocabulary import EventKind, HumanTaskState, SignerKind
from engine.runtime import signers
from engine.runtime.runtime import Runtime
from engine.store import statements
from engine.store.models import Event, HeldSubmission, HumanTask, TaskSigner
from tests.support.signing import APPROVE, approval_task

FIRST = "first"  # the thread whose operation is held once it holds the lock


@pytest.fixture
def approve(runtime: Runtime) -> str:
    return approval_task(runtime)


class Hold:
    """Pauses the FIRST thread at a point inside its transaction until `release`."""

    def __init__(self) -> None:
        self.reached, self.go = threading.Event(), threading.Event()

    def around(self, target: Callable[..., Any]) -> Callable[..., Any]:
        def held(*args: Any, **kwargs: Any) -> Any:
            result = target(*args, **kwargs)
            if threading.current_thread().name.startswith(FIRST) and not self.reached.is_set():
                self.reached.set()
                assert self.go.wait(20)
            return result
        return held


@pytest.fixture
def hold() -> Iterator[Hold]:
    held = Hold()
    yield held
    held.go.set()  # never leave a thread waiting


def _outcome(call: Callable[[], Any]) -> str:
    try:
        call()
        return "ok"
    except Conflict:
        return "409"
    except TongbanError as exc:
        return f"{exc.status}"


def race(hold: Hold, first: Callable[[], Any], second: Callable[[], Any]) -> tuple[str, str]:
    """Run `first` until it holds the lock, then `second` beside it; let `first` go once `second` waits."""
    with ThreadPoolExecutor(1, thread_name_prefix=FIRST) as one, ThreadPoolExecutor(1) as two:
        a: Future[str] = one.submit(_outcome, first)
        assert hold.reached.wait(20), "the first operation never took its lock"
        b = two.submit(_outcome, second)
        time.sleep(0.5)
        waited = not b.done()  # the second is held by the first's lock
        hold.go.set()
        outcomes = a.result(30), b.result(30)
    assert waited, f"the second operation did not wait for the first: {outcomes}"
    return outcomes


def _rows(runtime: Runtime, task_id: str) -> list[tuple[str, str]]:
    with runtime.db.read() as session:
        return [(u, s) for u, s in session.execute(
            select(TaskSigner.kind, TaskSigner.state).where(TaskSigner.task_id == task_id).order_by(TaskSigner.id))]


def _count(runtime: Runtime, task_id: str, kind: str) -> int:
    with runtime.db.read() as session:
        return session.scalar(select(func.count()).select_from(Event).where(Event.task_id == task_id,
                                                                           Event.kind == kind)) or 0


def _state(runtime: Runtime, task_id: str) -> str:
    with runtime.db.read() as session:
        return session.get(HumanTask, task_id).state


def test_a_signer_added_after_the_completion_read_the_task_makes_it_409(
        runtime: Runtime, approve: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The completion read no open signer; a signer is added and committed before the completion writes: the
    completion is refused, the signer stays asked, the task open."""
    window = runtime.actor("window")
    commit = Runtime._commit

    def added_meanwhile(self: Runtime, *args: Any, **kwargs: Any) -> Any:
        monkeypatch.setattr(Runtime, "_commit", commit)
        signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)
        return commit(self, *args, **kwargs)

    monkeypatch.setattr(Runtime, "_commit", added_meanwhile)
    with pytest.raises(Conflict, match="co-signer"):
        runtime.complete(approve, APPROVE, window)
    assert _state(runtime, approve) == HumanTaskState.READY
    assert _rows(runtime, approve) == [("before", "pending")]
    assert _count(runtime, approve, EventKind.TASK_COMPLETED) == 0
    signers.sign(runtime, approve, "agree", "同意", runtime.actor("window2"))
    assert runtime.complete(approve, APPROVE, window).status == "completed"  # the workflow step was not lost


def test_adding_a_signer_while_the_holder_completes(runtime: Runtime, approve: str, hold: Hold,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The adding transaction holds the task's row; the completion waits for it and then sees the signer: 409."""
    window = runtime.actor("window")
    monkeypatch.setattr(signers, "_refuse_busy", hold.around(signers._refuse_busy))
    adding, completing = race(
        hold, lambda: signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window),
        lambda: runtime.complete(approve, APPROVE, window))
    assert (adding, completing) == ("ok", "409")
    assert _state(runtime, approve) == HumanTaskState.READY and _rows(runtime, approve) == [("before", "pending")]
    assert _count(runtime, approve, EventKind.TASK_COMPLETED) == 0


def test_completing_while_the_holder_adds_a_signer(runtime: Runtime, approve: str, hold: Hold,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The completion holds the task's row (written, not yet committed); the adding waits, then finds it done."""
    window = runtime.actor("window")
    signers.add_signers(runtime.db, approve, ["window3"], SignerKind.BEFORE, "请会签", window)  # claims it too
    signers.sign(runtime, approve, "agree", "同意", runtime.actor("window3"))
    monkeypatch.setattr(statements, "guarded_update", hold.around(statements.guarded_update))
    completing, adding = race(
        hold, lambda: runtime.complete(approve, APPROVE, window),
        lambda: signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window))
    assert (completing, adding) == ("ok", "409")
    assert _state(runtime, approve) == HumanTaskState.COMPLETED
    assert _rows(runtime, approve) == [("before", "agreed")]  # nobody asked on a completed task


def test_two_cosigners_deciding_at_once_are_both_recorded(runtime: Runtime, approve: str, hold: Hold,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    window = runtime.actor("window")
    signers.add_signers(runtime.db, approve, ["window2", "window3"], SignerKind.BEFORE, "请会签", window)
    monkeypatch.setattr(signers, "_rows", hold.around(signers._rows))
    outcomes = race(hold, lambda: signers.sign(runtime, approve, "agree", "同意", runtime.actor("window2")),
                    lambda: signers.sign(runtime, approve, "disagree", "不同意", runtime.actor("window3")))
    assert outcomes == ("ok", "ok")
    assert _rows(runtime, approve) == [("before", "agreed"), ("before", "disagreed")]
    assert _count(runtime, approve, EventKind.SIGNED) == 2


def test_one_cosigner_deciding_twice_at_once(runtime: Runtime, approve: str, hold: Hold,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    """Two tabs, one signer: the second decision is refused, the first stands alone in the record."""
    window, w2 = runtime.actor("window"), runtime.actor("window2")
    signers.add_signers(runtime.db, approve, ["window2"], SignerKind.BEFORE, "请会签", window)
    monkeypatch.setattr(signers, "_rows", hold.around(signers._rows))
    outcomes = race(hold, lambda: signers.sign(runtime, approve, "agree", "同意", w2),
                    lambda: signers.sign(runtime, approve, "disagree", "不同意", w2))
    assert outcomes == ("ok", "409")
    assert _rows(runtime, approve) == [("before", "agreed")] and _count(runtime, approve, EventKind.SIGNED) == 1


@pytest.mark.parametrize("first", ["remove", "sign"])
def test_a_signer_removed_while_deciding(runtime: Runtime, approve: str, hold: Hold, first: str,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """Whichever comes first stands; the other is 409 (already signed / already removed)."""
    window, w2 = runtime.actor("window"), runtime.actor("window2")
    [row] = signers.add_signers(runtime.db, approve, ["window2"], SignerKind.AFTER, "请会签", window)["signers"]
    runtime.complete(approve, APPROVE, window)  # held for the after-signer, whose turn it is
    monkeypatch.setattr(signers, "_rows", hold.around(signers._rows))
    remove = lambda: signers.remove_signer(runtime, approve, row["id"], "不需要了", window)  # noqa: E731
    sign = lambda: signers.sign(runtime, approve, "agree", "同意", w2)  # noqa: E731
    outcomes = race(hold, remove, sign) if first == "remove" else race(hold, sign, remove)
    assert outcomes == ("ok", "409")
    assert _rows(runtime, approve) == [("after", "removed" if first == "remove" else "agreed")]
    assert _count(runtime, approve, EventKind.SIGNED) == (first == "sign")
    # either way nobody is left to sign: the held submission was completed as the holder's step, once
    assert _state(runtime, approve) == HumanTaskState.COMPLETED
    assert _count(runtime, approve, EventKind.TASK_COMPLETED) == 1
    with runtime.db.read() as session:
        assert session.get(HeldSubmission, approve) is None


def test_two_supervisors_deciding_one_proposal(runtime: Runtime, approve: str, hold: Hold,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    window = runtime.actor("window")
    record = signers.add_signers(runtime.db, approve, ["zhujian"], SignerKind.BEFORE, "请住建会签", window,
                                 ask_approval=True)
    [row] = record["signers"]
    monkeypatch.setattr(signers, "_task", hold.around(signers._task))
    outcomes = race(hold, lambda: signers.decide(runtime.db, row["id"], True, "同意", runtime.actor("admin")),
                    lambda: signers.decide(runtime.db, row["id"], False, "不同意", runtime.actor("admin")))
    assert outcomes == ("ok", "409")
    assert _rows(runtime, approve) == [("before", "pending")]
    assert _count(runtime, approve, EventKind.SIGNER_APPROVED) == 1
    assert _count(runtime, approve, EventKind.SIGNER_REJECTED) == 0
