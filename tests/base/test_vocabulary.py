"""One vocabulary (engine/base/vocabulary.py): every word the engine stores in a status, state or kind column is a
member of its enum, fits its column, and means the same as the migrations' predicates."""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import select

from engine.background import timers
from engine.base import clock
from engine.base.vocabulary import (
    ENDED,
    EventKind,
    HumanTaskState,
    InstanceStatus,
    MailState,
    NoticeKind,
    OrgKind,
    Product,
    SignerKind,
    SignerState,
    TimerKind,
    TimerState,
)
from engine.case import notifications
from engine.case.comments import add_comment
from engine.people import assignment
from engine.runtime.runtime import Runtime
from engine.store.models import Event, HumanTask, Instance, Notification, Organisation, TaskSigner, Timer
from tests.support.builder import Node, bpmn, end, flows, render, start, user
from tests.support.deadlines import deploy_failing
from tests.support.repo import REPO
from tests.support.services import service_process
from tests.support.steps import begin, put
from tests.support.timers import timed
from tests.support.workspaces import OPEN

SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn", "commitment": True}
MESSAGE = '<bpmn:message id="msg_paid" name="已缴费" />'


def _message_process(runtime: Runtime) -> None:
    """Waits for a message from outside, then throws one nobody in the case catches."""
    catch = Node("intermediateCatchEvent", "await_payment", "等待缴费",
                 body='<bpmn:messageEventDefinition messageRef="msg_paid" />')
    throw = Node("intermediateThrowEvent", "tell", "通知", body='<bpmn:messageEventDefinition messageRef="msg_paid" />')
    nodes = [start(), catch, throw, user("issue", "出证", "open.json"), end()]
    edges = flows(("start", "await_payment"), ("await_payment", "tell"), ("tell", "issue"), ("issue", "end"))
    put(runtime, "t_vocab_msg", {"m.bpmn": bpmn("t_vocab_msg", render(nodes, edges),
                                                {"申请人": ["start"], "窗口人员": ["issue"]}, extra=MESSAGE)},
        {"open.json": OPEN})


def _run_flows(runtime: Runtime) -> None:
    """Cases that go through every kind of step the engine has."""
    haiyun, window, admin = runtime.actor("haiyun"), runtime.actor("window"), runtime.actor("admin")
    sample = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, haiyun)
    add_comment(runtime.db, sample.id, "请尽快", haiyun)
    runtime.suspend(sample.id, admin)
    runtime.resume(sample.id, admin)
    runtime.complete(sample.open_tasks[0].id, SUBMIT, haiyun)
    [approve] = runtime.tasks(window)
    assignment.claim(runtime.db, approve.id, window)
    assignment.unclaim(runtime.db, approve.id, window)
    runtime.complete(approve.id, {"decision": "approved", "comment": "同意"}, window)
    other = runtime.start("sample_approval", {"title": "第二件", "amount": 50_000}, haiyun)
    runtime.terminate(other.id, admin)
    put(runtime, "t_service", {"t_service.bpmn": service_process(
        "notify", {"role": "'window_clerk'", "text_zh": "'有新申请'"})},
        {"apply.json": {"type": "object", "properties": {"company": {"type": "string"}}}, "open.json": OPEN})
    called = begin(runtime, "t_service", {"company": "海韵"})
    assert timers.sweep(runtime) == 1  # the service task's attempt
    [review] = [t for t in runtime.tasks(window) if t.instance_id == called.id]
    assignment.delegate(runtime.db, review.id, "window", admin)
    _, cancelled = timed(runtime, 2)  # the first fires, the second is cancelled with its case
    runtime.terminate(cancelled, admin)
    clock.travel(timedelta(hours=2))
    assert timers.sweep(runtime) == 1
    deploy_failing(runtime)
    failed = begin(runtime, "t_incident", {"accepted_at": "2099-03-02T09:00:00+08:00"})
    runtime.retry(failed.id, admin)  # still failing: an error again, on record
    _message_process(runtime)
    waiting = begin(runtime, "t_vocab_msg")
    runtime.deliver(waiting.id, "已缴费", {"paid": True}, admin)


def test_every_word_the_engine_stores_is_in_the_vocabulary(runtime: Runtime) -> None:
    _run_flows(runtime)
    with runtime.db.read() as session:
        kinds = set(session.scalars(select(Event.kind)))
        statuses = set(session.scalars(select(Instance.status)))
        task_states = set(session.scalars(select(HumanTask.state)))
        timer_words = {(state, kind) for state, kind in session.execute(select(Timer.state, Timer.kind))}
        notices = set(session.scalars(select(Notification.kind)))
    assert kinds <= set(EventKind), kinds - set(EventKind)
    assert statuses <= set(InstanceStatus) and task_states <= set(HumanTaskState)
    assert {s for s, _ in timer_words} <= set(TimerState) and {k for _, k in timer_words} <= set(TimerKind)
    assert notices <= set(NoticeKind)
    # the flows did reach the words they are for
    assert {"started", "task_ready", "task_completed", "task_cancelled", "timer_fired", "timer_cancelled", "error",
            "ended", "suspended", "resumed", "terminated", "retried", "message_received", "message_thrown",
            "service_called", "task_claimed", "task_unclaimed", "task_delegated", "commented"} <= kinds
    assert statuses == {"completed", "terminated", "error", "running"}
    assert task_states == {"ready", "completed", "cancelled"}
    assert notices == {"service_notice", "case_progress"}  # the flows' applicants are told of their cases too


def test_the_engine_names_every_kind_from_the_vocabulary() -> None:
    """No event or timer kind is written as a bare string: each comes from engine/base/vocabulary.py."""
    literal = re.compile(r'(?:"kind":\s*|\bkind=)"([a-z_]+)"')
    found = {}
    for path in (REPO / "engine").rglob("*.py"):
        for word in literal.findall(path.read_text(encoding="utf-8")):
            found.setdefault(word, path.relative_to(REPO))
    assert found == {}


def test_members_are_their_strings() -> None:
    assert InstanceStatus.RUNNING == "running" and f"{EventKind.TASK_READY}" == "task_ready"
    assert {"completed", "terminated"} == ENDED
    assert notifications.KINDS == ("sla_warning", "due_today", "overdue", "escalation_report", "incident",
                                   "service_notice", "case_withdrawn", "withdrawal_requested",
                                   "withdrawal_decided", "case_returned", "cosign_requested", "cosign_approval",
                                   "cosigned", "entrusted", "carbon_copy", "urged", "case_progress")
    assert EventKind.timer(TimerState.FIRED) is EventKind.TIMER_FIRED
    assert EventKind.timer(TimerState.CANCELLED) is EventKind.TIMER_CANCELLED


def test_the_columns_hold_every_word() -> None:
    columns: dict[type[StrEnum], object] = {
        InstanceStatus: Instance.__table__.c.status, HumanTaskState: HumanTask.__table__.c.state,
        TimerState: Timer.__table__.c.state, TimerKind: Timer.__table__.c.kind, EventKind: Event.__table__.c.kind,
        NoticeKind: Notification.__table__.c.kind, MailState: Notification.__table__.c.mail_state,
        OrgKind: Organisation.__table__.c.kind, SignerKind: TaskSigner.__table__.c.kind,
        SignerState: TaskSigner.__table__.c.state,
    }
    for enum, column in columns.items():
        assert max(len(w) for w in enum) <= column.type.length, (enum, column)  # type: ignore[attr-defined]
    assert len(Product) == len({str(p) for p in Product})


def test_the_migrations_agree() -> None:
    """The columns are plain strings (no CHECK constraint, no database enum, nothing to keep in step), and the
    words the migrations' partial indexes and data fixes name are the vocabulary's."""
    words = {str(w) for enum in (InstanceStatus, HumanTaskState, TimerState, TimerKind, EventKind, NoticeKind,
                                 MailState, SignerState) for w in enum}
    migrations = sorted((REPO / "engine" / "store" / "migrations" / "versions").glob("*.py"))
    assert migrations  # the folder moved once: a wrong path must not pass by checking nothing
    assert list((REPO / "migrations").rglob("*.py")) == []  # one left at the old place would never run
    for path in migrations:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"CheckConstraint|sa\.Enum|CHECK\s*\(", text), path
        for word in re.findall(r"(?:state|status|kind)\s*=\s*'([a-z_]+)'", text):
            assert word in words, (path.name, word)
