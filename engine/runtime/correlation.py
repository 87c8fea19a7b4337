"""Message correlation between cases: a message delivered by name and correlation key to every case waiting for it.

A message catch event (intermediate, boundary, receive task, or one of an event-based gateway's) may carry a
`correlationKey` property: an expression over the case data. When a case begins to wait there, the commit path
stores the key's value with the message's name (engine/runtime/commit.py, table message_waits); `correlate`
looks the rows up by (name, key) and delivers the message to each of those cases, one step each through
`Runtime.deliver`. No case waiting, the message starts a case of every process whose start event is a message
start event for it (its start form checks the payload, as it checks a person's submission). Administrators and
integrations only, like `deliver`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition, SignalEventDefinition
from SpiffWorkflow.task import TaskState
from sqlalchemy import and_, func, select

from engine.base import jsonvalues
from engine.base.errors import Conflict, Forbidden, FormInvalid, TongbanError
from engine.base.vocabulary import EventKind
from engine.bpmn import changes, state
from engine.bpmn.stepping import EMPTY
from engine.people.access import Actor
from engine.runtime.commit import NewCase
from engine.runtime.views import InstanceView
from engine.store.models import MessageWait, ProcessVersion

if TYPE_CHECKING:
    from engine.runtime.runtime import Runtime

MAX_TEXT = 200  # message_waits.message and .key
MESSAGE, SIGNAL = "message", "signal"  # message_waits.kind, thrown_events.kind
KIND_ZH = {MESSAGE: "消息", SIGNAL: "信号"}
#: what a case catches, by kind
DEFINITIONS: dict[str, type[MessageEventDefinition] | type[SignalEventDefinition]] = {
    MESSAGE: MessageEventDefinition, SIGNAL: SignalEventDefinition}


@dataclass
class Correlated:
    """What a message did: the cases it was delivered to, the cases it started, those it could not reach."""

    message: str
    key: str | None
    delivered: list[InstanceView] = field(default_factory=list)
    started: list[InstanceView] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # case number → why

    def to_dict(self) -> dict[str, Any]:
        return {"message": self.message, "key": self.key, "delivered": [v.to_dict() for v in self.delivered],
                "started": [v.to_dict() for v in self.started], "skipped": self.skipped}


def received(kind: str, name: str) -> dict[str, str]:
    """A received message or signal as the history records it (as a thrown one: engine/bpmn/stepping.py)."""
    return {"message": name} if kind == MESSAGE else {"message": name, "event": kind}


def _checked_text(value: Any, name: str, required: bool) -> str | None:
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > MAX_TEXT or "\x00" in value:
        raise FormInvalid(f"{name} 须为 1 至 {MAX_TEXT} 个字符 ({name} must be text of 1 to {MAX_TEXT} characters)",
                          {f"/{name}": ["not a valid text"]})
    return value


def correlate(rt: Runtime, message: Any, key: Any, payload: Any, actor: Actor) -> Correlated:
    """Deliver `message` to every case waiting for it with this key (None: the waits without a key), else start
    the processes it starts; Conflict when it reaches nobody."""
    name = _checked_send(message, payload, actor)
    key = _checked_text(key, "key", required=False)
    result = reach(rt, MESSAGE, name, key, payload, actor)
    waiting = result.delivered or result.skipped
    if waiting and not result.delivered:
        raise Conflict(f"等待消息“{name}”的办件都未能接收 (none of the cases waiting for message {name!r} could take "
                       "it)", {f"/cases/{case}": [why] for case, why in result.skipped.items()})
    if not result.delivered and not result.started:
        raise Conflict(f"没有办件在等待消息“{name}”{f'（相关键 {key}）' if key else ''}，也没有流程由它发起 "
                       f"(no case waits for message {name!r}{f' with key {key!r}' if key else ''}, and no process "
                       "starts with it)", {"/message": ["not awaited"], **({"/key": ["no case"]} if key else {})})
    return result


def broadcast(rt: Runtime, signal: Any, payload: Any, actor: Actor) -> Correlated:
    """Send `signal` to every case waiting for it and start every process whose signal start event it is; a
    signal nobody waits for reaches nobody, as BPMN's broadcast does (the result says so, it is no error)."""
    return reach(rt, SIGNAL, _checked_send(signal, payload, actor, "name"), None, payload, actor)


def _checked_send(name: Any, payload: Any, actor: Actor, field: str = "message") -> str:
    if not actor.is_admin:
        raise Forbidden("仅管理员或系统集成可投递消息或信号 (administrators and integrations only)")
    checked = _checked_text(name, field, required=True)
    if bad := jsonvalues.problems(payload):
        raise FormInvalid("内容含有无法保存的值 (the payload holds values JSON cannot store)", bad)
    assert checked is not None
    return checked


def reach(rt: Runtime, kind: str, name: str, key: str | None, payload: Any, actor: Actor,
          sender: tuple[int, int] | None = None) -> Correlated:
    """Deliver a message (to the cases waiting for it with this key) or a signal (to every case waiting for it);
    a message nobody waits for, and every signal, also starts the processes whose start event catches it.
    `sender` is the case that threw it and who started that case: it never receives its own throw, and the cases
    its throw starts are on that person's record (they follow from that application)."""
    result = Correlated(name, key)
    with rt.db.reading() as conn:
        waits = select(MessageWait.instance_id).where(MessageWait.message == name, MessageWait.kind == kind)
        if kind == MESSAGE:
            waits = waits.where(MessageWait.key.is_(None) if key is None else MessageWait.key == key)
        if sender is not None:
            waits = waits.where(MessageWait.instance_id != sender[0])
        waiting = conn.execute(waits.group_by(MessageWait.instance_id)
                               .order_by(MessageWait.instance_id)).scalars().all()
    for instance_id in waiting:
        try:
            result.delivered.append(rt.deliver(instance_id, name, payload, actor, kind))
        except TongbanError as exc:  # stopped (suspended) or stepped past the event meanwhile: told, not fatal
            result.skipped[str(instance_id)] = exc.message
    starter = sender[1] if sender is not None else actor.id
    if not waiting and kind == MESSAGE:  # nothing delivered yet: a payload the start form refuses is the answer
        result.started = [_start(rt, version_id, kind, name, payload, actor, starter)
                          for version_id in _starting(rt, kind, name)]
    elif kind == SIGNAL:  # delivered already: a process that cannot start is told beside them, not raised
        for version_id in _starting(rt, kind, name):
            try:
                result.started.append(_start(rt, version_id, kind, name, payload, actor, starter))
            except TongbanError as exc:
                result.skipped[f"process:{version_id}"] = exc.message
    return result


def _starting(rt: Runtime, kind: str, name: str) -> list[int]:
    """The newest version of each process whose start event is a message (or signal) start event for `name`."""
    newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
              .group_by(ProcessVersion.process_key).subquery())
    query = (select(ProcessVersion.id).join(newest, and_(newest.c.process_key == ProcessVersion.process_key,
                                                         newest.c.version == ProcessVersion.version))
             .order_by(ProcessVersion.process_key))
    with rt.db.reading() as conn:
        return [version_id for (version_id,) in conn.execute(query)
                if rt.compiled_version(conn, version_id)[1].start_trigger == (kind, name)]


def _start(rt: Runtime, version_id: int, kind: str, name: str, payload: Any, actor: Actor,
           starter: int) -> InstanceView:
    """A case started by the message or signal: the payload is its start data (checked by the start form), then
    the start event catches it, and the case runs until it waits."""
    from engine.runtime.runtime import _validated

    with rt.db.reading() as conn:
        version_no, compiled = rt.compiled_version(conn, version_id)
    form = compiled.forms.get(compiled.start_form) if compiled.start_form else None
    data, preset = _validated(form, payload if payload is not None else {})
    data = {**preset, **data}
    workflow = state.new_workflow(compiled)
    workflow.get_next_task(state=TaskState.READY).data.update(data)
    try:
        workflow.do_engine_steps()  # to the message start event, which waits
        workflow.send_event(BpmnEvent(DEFINITIONS[kind](name), data))
    except SpiffWorkflowException as exc:
        raise Conflict(f"流程 {compiled.manifest.key} 未能由消息“{name}”发起 (the message could not start "
                       f"{compiled.manifest.key!r}: {exc})") from None
    events = [{"kind": EventKind.STARTED, "element_id": compiled.start_event,
               "detail": {"process": compiled.manifest.key, "version": version_no,
                          "changes": changes.submission({}, data), "message": name}},
              {"kind": EventKind.MESSAGE_RECEIVED, "element_id": compiled.start_event, "detail": received(kind, name)}]
    step = rt._automatic_steps(workflow, events)
    case = NewCase(compiled.manifest.key, version_id, starter, None, form, data)
    return rt._commit(case, compiled, version_no, step, actor, EMPTY)
