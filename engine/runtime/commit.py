"""The one commit path: how every step — start, complete, suspend/resume/retry/terminate, deliver, advance — is written.

A step is worked out in memory first (engine/runtime/runtime.py); `commit` then writes it in one transaction:
the instance (a new row with its case number, or the existing row guarded by the version counter read
before the step), the task rows the step made ready, completed or cancelled, its timers and service
attempts, its events, its outbox row (automatic steps left to a worker), and its side products
(engine/case/products.py) — together or not at all. A side product that refuses the step (FormInvalid, 422)
rolls all of it back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from SpiffWorkflow.exceptions import TaskNotFoundException
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import Connection, Row, select

from engine.base import jsonvalues
from engine.base.clock import now
from engine.base.errors import FormInvalid, TongbanError
from engine.base.settings import Settings
from engine.base.vocabulary import (
    ENDED,
    EventKind,
    HumanTaskState,
    InstanceStatus,
    OrgKind,
    Outcome,
    TimerKind,
    TimerState,
)
from engine.bpmn import state
from engine.bpmn.scripting import RestrictedEnvironment, as_moment
from engine.bpmn.stepping import Snapshot, Step, element_of, outcome_of
from engine.case import products
from engine.case.attachments import bind_drafts
from engine.case.output import StepOutput
from engine.definitions.compiler import (
    DUE_PROPERTY,
    ENTERPRISE_PROPERTY,
    KEY_PROPERTY,
    ORG_PROPERTY,
    WARN_PROPERTY,
    CompiledProcess,
)
from engine.definitions.forms import Form
from engine.people.access import Actor, can_see_task
from engine.runtime import metrics
from engine.runtime.views import InstanceView, TaskView
from engine.store import statements
from engine.store.casenumbers import insert_numbered
from engine.store.db import Database
from engine.store.models import Instance


class Organisations:
    """Organisation ids by code and codes by id, cached for the runtime's life (organisations are never renamed)."""

    def __init__(self) -> None:
        self._ids: dict[str, int] = {}
        self._codes: dict[int, str] = {}

    def id(self, conn: Connection, code: str) -> int:
        if code not in self._ids:
            org_id = conn.execute(statements.ORG_ID_BY_CODE, {"code": code}).scalar()
            if org_id is None:
                raise TongbanError(f"组织不存在 (organisation {code!r} named by the process does not exist)")
            self._ids[code] = org_id
        return self._ids[code]

    def code(self, conn: Connection, org_id: int | None) -> str | None:
        if org_id is None:
            return None
        if org_id not in self._codes:
            self._codes[org_id] = conn.execute(statements.ORG_CODE_BY_ID, {"id": org_id}).scalar_one()
        return self._codes[org_id]


@dataclass(frozen=True)
class NewCase:
    """A case being started: inserted with a case number, the start form's draft uploads bound to it."""

    process_key: str
    version_id: int
    started_by: int
    enterprise_id: int | None
    start_form: Form | None
    data: dict[str, Any]  # what the start form submitted: the drafts it names become the case's files


#: what a step is written on: the instance row read before the step, or the case it starts
Case = Row[Any] | NewCase


def commit(db: Database, settings: Settings, orgs: Organisations, case: Case, compiled: CompiledProcess,
           version_no: int, step: Step, actor: Actor, before: Snapshot,
           completed_task: str | None = None,
           within: Callable[[Connection], None] | None = None) -> tuple[InstanceView, int]:
    """Write a step (see the module's docstring); returns the case's view and the version counter it now has.
    `within` writes what a command changes beyond a step, after the instance row, in the same transaction (a
    migration's version and re-derived rows, engine/runtime/migration.py).

    Conflict when `case` is a row somebody else stepped since it was read; TongbanError/FormInvalid when a
    side product refuses the step. Either way nothing is written.
    """
    at = now()
    after = Snapshot.of(step.workflow)
    blob = state.dumps(step.workflow)  # before the write lock is taken: it is the step's largest piece of work
    ended_at = at if step.status in ENDED else None
    was = None if isinstance(case, NewCase) else case.outcome
    outcome = step.outcome or outcome_of(step.workflow, compiled.outcome_elements) or was
    if outcome != was:  # told before the case's end, which it explains
        ended = [i for i, e in enumerate(step.events) if e["kind"] == EventKind.ENDED]
        step.events.insert(ended[0] if ended else len(step.events),
                           {"kind": EventKind.OUTCOME_SET, "detail": {"outcome": outcome, "was": was}})
    with db.writing() as conn:
        new_rows = _new_task_rows(conn, orgs, compiled, step, after, before, case.enterprise_id, at, completed_task)
        new_waits = _new_message_waits(step, after, before, at)
        thrown = _thrown_rows(step, at, settings.outbox_lease)
        if isinstance(case, NewCase):
            instance_id, case_number = insert_numbered(
                conn, settings.district, compiled.manifest.code, at.astimezone(settings.timezone).date(), {
                    "process_key": case.process_key, "version_id": case.version_id,
                    "status": step.status, "outcome": outcome, "started_by": case.started_by,
                    "enterprise_id": case.enterprise_id,
                    "created_at": at, "updated_at": at, "ended_at": ended_at, "version": 1,
                    "error_message": step.error, "error_element": step.error_element, "state": blob,
                })
            version = 1
            bind_drafts(conn, instance_id, case.start_form, case.data, actor)
        else:
            instance_id, case_number, version = case.id, case.case_number, case.version + 1
            completed = None if completed_task is None else {"tid": completed_task, "at": at, "by": actor.id or None}
            statements.guarded_update(conn, instance_id, case.version, {
                "state": blob, "status": step.status, "outcome": outcome, "updated_at": at, "ended_at": ended_at,
                "error_message": step.error, "error_element": step.error_element,
            }, completed)
            if within is not None:
                within(conn)
        view = InstanceView(instance_id, case_number, case.process_key, version_no, step.status, step.error,
                            step.error_element, outcome=outcome)
        header = (case_number, case.started_by, case.enterprise_id)
        new_tasks = _write(conn, settings, orgs, compiled, step, after, (instance_id, *header), new_rows, actor, at,
                           before, completed_task)
        statements.write_message_waits(conn, [{**w, "instance_id": instance_id} for w in new_waits],
                                       before.messages.keys() - after.messages.keys())
        if thrown:
            statements.write_thrown(conn, [{**t, "instance_id": instance_id} for t in thrown])
        _follow_up(conn, settings, case, step, instance_id, version, at)
        if view.status == InstanceStatus.RUNNING:  # only a running case shows its open tasks
            carried_over = after.tasks.keys() - {t["id"] for t in new_tasks}
            rows = new_tasks if not carried_over else statements.open_tasks(conn, instance_id)
            view.open_tasks = task_views(conn, orgs, view, rows, actor)
    if gone := before.timers.keys() - after.timers.keys():
        metrics.timers_fired(at, (before.timers[t][1] for t in gone
                                  if _timer_outcome(step.workflow, t) == TimerState.FIRED))
    return view, version


def _follow_up(conn: Connection, settings: Settings, case: Case, step: Step, instance_id: int, version: int,
               at: datetime) -> None:
    """The outbox: a step that left its automatic steps to a worker records that in its own transaction, so a job
    lost after the commit is enqueued again by the sweep; any other step ran them (or stopped the case, whose
    resume or retry runs them), so it removes the row of the steps before it."""
    if not isinstance(case, NewCase) and case.follow_up is not None:  # read with the case: no row, no DELETE
        statements.acknowledge_follow_up(conn, instance_id, case.version)
    if step.deferred and step.status == InstanceStatus.RUNNING:
        statements.defer_follow_up(conn, instance_id, version, at, at + settings.outbox_lease)


def task_views(conn: Connection, orgs: Organisations, view: InstanceView, rows: list[dict[str, Any]],
               actor: Actor) -> list[TaskView]:
    """The open tasks of a case the actor may see (none unless the case is running)."""
    if view.status != InstanceStatus.RUNNING:
        return []
    return [TaskView(r["id"], view.id, view.case_number, view.process_key, r["element_id"], r["name"], r["role"],
                     orgs.code(conn, r["org_id"]), r["form"], r["state"], r["created_at"],
                     r.get("due_at"), r.get("warn_at"))
            for r in rows if can_see_task(actor, r["role"], r["org_id"], r.get("assignee_id"))]


# -- deriving task rows from a workflow -----------------------------------------------------------

def task_row(conn: Connection, orgs: Organisations, compiled: CompiledProcess, task: Task,
              enterprise_id: int | None, at: datetime) -> dict[str, Any]:
    """A ready task's row; TongbanError naming the element when its organisation or times cannot be had."""
    meta = compiled.human_tasks.get((task.workflow.spec.name, task.task_spec.name))
    role = meta.role if meta else None
    if role is None:
        org_id = None
    elif role.org_kind == OrgKind.ENTERPRISE:
        org_id = _enterprise_of(conn, meta.candidate_enterprise, task) if meta.candidate_enterprise else enterprise_id
    elif role.org:
        org_id = orgs.id(conn, role.org)
    elif meta.candidate_org:
        org_id = orgs.id(conn, str(_evaluated(ORG_PROPERTY, meta.candidate_org, task)))
    else:
        org_id = None
    return {
        "id": str(task.id), "process_id": task.workflow.spec.name, "process_key": compiled.manifest.key,
        "element_id": element_of(task), "name": meta.name if meta else element_of(task),
        "role": role.code if role else None, "org_id": org_id, "form": meta.form if meta else None,
        "state": HumanTaskState.READY, "created_at": at,
        "due_at": _moment(DUE_PROPERTY, meta.due_date if meta else None, task),
        "warn_at": _moment(WARN_PROPERTY, meta.warn_at if meta else None, task),
    }


def _enterprise_of(conn: Connection, expression: str, task: Task) -> int:
    """The enterprise that filed the case whose number `candidateEnterprise` gives. A number that names no
    enterprise's case is the completing user's input: refused (422, naming the field), never a task nobody sees."""
    number = _evaluated(ENTERPRISE_PROPERTY, expression, task)
    found = conn.execute(select(Instance.enterprise_id).where(Instance.case_number == str(number))).scalar() \
        if isinstance(number, str) and number else None
    if found is None:
        field = f"/{expression.strip()}" if expression.strip().isidentifier() else "/"
        raise FormInvalid(f"办件编号 {str(number)[:40]!r} 不是企业提交的办件 (no enterprise's case has this number)",
                          {field: ["不是企业提交的办件编号 (not the number of an enterprise's case)"]})
    return found


def _new_task_rows(conn: Connection, orgs: Organisations, compiled: CompiledProcess, step: Step, after: Snapshot,
                   before: Snapshot, enterprise_id: int | None, at: datetime,
                   completed_task: str | None = None) -> list[dict[str, Any]]:
    """Rows for the tasks this step made ready. One whose organisation or deadline cannot be worked out
    puts the case in its error state naming the element (a task nobody could see would sit unnoticed);
    it gets no row, so resuming the case derives it again."""
    was_open = set(before.tasks) - {completed_task}
    rows = []
    for task_id, task in after.tasks.items():
        if task_id in was_open:
            continue
        try:
            rows.append(task_row(conn, orgs, compiled, task, enterprise_id, at))
        except TongbanError as exc:
            if isinstance(exc, FormInvalid) and completed_task is not None:
                raise  # what the completing user entered names no organisation: the step is refused (422)
            if step.status != InstanceStatus.ERROR:
                step.status, step.error, step.error_element = InstanceStatus.ERROR, exc.message, element_of(task)
                step.events.append({"kind": EventKind.ERROR, "element_id": element_of(task),
                                    "detail": {"message": exc.message}})
    return rows


def _new_message_waits(step: Step, after: Snapshot, before: Snapshot, at: datetime) -> list[dict[str, Any]]:
    """Rows for the message catch events this step began to wait at, one per message, each with its correlation
    key: the element's `correlationKey` expression over the data it waits with (engine/runtime/correlation.py).
    One whose key cannot be worked out puts the case in its error state naming the element, as a task's deadline
    does (a case nobody could reach by its key would wait unnoticed)."""
    rows = []
    for task_id, (task, names) in after.messages.items():
        if task_id in before.messages:
            continue
        try:
            key = _correlation_key(task)
        except TongbanError as exc:
            _failed(step, exc, task)
            continue
        rows.extend({"task_id": task_id, "element_id": element_of(task), "message": name[:200], "key": key,
                     "kind": kind, "created_at": at} for kind, name in names)
    return rows


def _thrown_rows(step: Step, at: datetime, lease: timedelta) -> list[dict[str, Any]]:
    """Rows for the messages and signals this step threw for other cases (engine/runtime/routing.py), each with
    the correlation key of the element that threw it; one whose key or payload cannot be had puts the case in
    its error state naming the element (a message lost without a word would leave its receiver waiting)."""
    rows = []
    for thrown in step.thrown:
        element = element_of(thrown.thrower) if thrown.thrower else None
        try:
            key = _correlation_key(thrown.thrower) if thrown.thrower else None
            if bad := jsonvalues.problems(thrown.payload):
                raise TongbanError(f"{element} 发出的{thrown.name}内容无法保存 (the payload {element} sent with "
                                   f"{thrown.name!r} cannot be stored: {', '.join(bad)})")
        except TongbanError as exc:
            _failed(step, exc, thrown.thrower)
            continue
        rows.append({"kind": thrown.kind, "name": thrown.name[:200], "key": key, "payload": thrown.payload,
                     "element_id": element, "thrown_at": at, "claimed_until": at + lease})
    return rows


def _correlation_key(task: Task) -> str | None:
    """The value of a message or signal event's `correlationKey` expression over its task's data, if it has one."""
    expression = ((getattr(task.task_spec, "extensions", None) or {}).get("properties") or {}).get(KEY_PROPERTY)
    return _evaluated(KEY_PROPERTY, expression, task, _key_text) if expression else None


def _failed(step: Step, exc: TongbanError, task: Task | None) -> None:
    """Put the step's case in its error state at `task`'s element, unless it is in error already."""
    if step.status != InstanceStatus.ERROR:
        element = element_of(task) if task else None
        step.status, step.error, step.error_element = InstanceStatus.ERROR, exc.message, element
        step.events.append({"kind": EventKind.ERROR, "element_id": element, "detail": {"message": exc.message}})


def _key_text(value: Any) -> str | None:
    """A correlation key as it is stored and matched: its text (numbers as JSON writes them), None for none."""
    if value is None:
        return None
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    if len(text) > 200:
        raise TongbanError(f"相关键过长 (the correlation key is {len(text)} characters; at most 200)")
    return text


def _write(conn: Connection, settings: Settings, orgs: Organisations, compiled: CompiledProcess, step: Step,
           after: Snapshot, case: tuple[int, str, int | None, int | None], new_tasks: list[dict[str, Any]],
           actor: Actor, at: datetime, before: Snapshot, completed_task: str | None = None) -> list[dict[str, Any]]:
    """Derived task and timer rows, events and side products of a step (in the caller's transaction) of the case
    (id, case number, who filed it, its enterprise); returns the new tasks."""
    instance_id = case[0]
    was_open = set(before.tasks) - {completed_task}
    new_tasks = [{**row, "instance_id": instance_id} for row in new_tasks]
    cancelled = sorted(was_open - set(after.tasks))
    step.events.extend({"kind": EventKind.TASK_CANCELLED, "task_id": t} for t in cancelled)
    step.events.extend({"kind": EventKind.TASK_READY, "task_id": t["id"], "element_id": t["element_id"]}
                       for t in new_tasks)
    new_timers = [{"instance_id": instance_id, "task_id": task_id, "element_id": element, "due_at": due,
                   "state": TimerState.WAITING, "kind": TimerKind.TIMER}
                  for task_id, (element, due) in after.timers.items() if task_id not in before.timers]
    ended_timers = {t: _timer_outcome(step.workflow, t) for t in before.timers.keys() - after.timers.keys()}
    step.events.extend({"kind": EventKind.timer(outcome), "task_id": t, "element_id": before.timers[t][0]}
                       for t, outcome in ended_timers.items())
    # a timeCycle timer that fired and waits for its next repetition: its row is re-armed with the next due time
    rearmed = {t: due for t, (_, due) in after.timers.items() if t in before.timers and before.timers[t][1] != due}
    step.events.extend({"kind": EventKind.TIMER_FIRED, "task_id": t, "element_id": after.timers[t][0],
                        "detail": {"next": due.isoformat()}} for t, due in rearmed.items()
                       if due > before.timers[t][1])
    # a service task's attempt rows: its events (retry scheduled, called) come from the task itself
    new_timers += [{"instance_id": instance_id, "task_id": key, "element_id": element, "due_at": due,
                    "state": TimerState.WAITING, "kind": TimerKind.SERVICE}
                   for key, (element, due) in after.retries.items() if key not in before.retries]
    cancels = step.status == InstanceStatus.TERMINATED or step.outcome == Outcome.WITHDRAWN
    attempt_outcome = TimerState.CANCELLED if cancels else TimerState.FIRED
    ended_timers.update(dict.fromkeys(before.retries.keys() - after.retries.keys(), attempt_outcome))
    user_id = actor.id or None
    events = [{"instance_id": instance_id, "at": at, "kind": e["kind"], "task_id": e.get("task_id"),
               "element_id": e.get("element_id"), "user_id": e.get("user_id", user_id),
               "data_hash": None, "detail": e.get("detail")} for e in step.events]
    statements.write_tasks_and_events(conn, at, cancelled, new_tasks, events)
    statements.close_signers(conn, at, cancelled)
    statements.write_timers(conn, at, new_timers, ended_timers, rearmed)
    out = StepOutput(instance_id, compiled, step, at, user_id, settings.timezone, orgs.id, *case[1:])
    for product in products.of(compiled):  # notices, case facts, documents, then what the process lists
        product(conn, out)
    return new_tasks


def _evaluated(prop: str, expression: str, task: Task, convert: Callable[[Any], Any] = lambda v: v) -> Any:
    """A task property's expression over the task's data; any failure is a TongbanError naming the element."""
    try:
        return convert(RestrictedEnvironment().evaluate(expression, task.data))
    except TongbanError as exc:  # e.g. a working-day year nobody has loaded: its own, clear message
        raise TongbanError(f"任务 {element_of(task)} 的 {prop} 无法计算 ({prop} of {element_of(task)}): "
                           f"{exc.message}") from None
    except Exception as exc:  # a designer's expression: report it with the element
        raise TongbanError(f"任务 {element_of(task)} 的 {prop} 无法计算 ({prop} of {element_of(task)} "
                           f"failed: {exc})") from None


def _moment(prop: str, expression: str | None, task: Task) -> datetime | None:
    """A user task's `dueDate` or `warnAt` when it becomes ready, read as scripts read times (as_moment)."""
    return _evaluated(prop, expression, task, as_moment) if expression else None


def _timer_outcome(workflow: Any, task_id: str) -> TimerState:
    """A timer that left the waiting set either fired (its task completed) or was cancelled with its scope."""
    try:
        task = workflow.get_task_from_id(UUID(task_id))
    except TaskNotFoundException:  # dropped from the tree with its branch (a return resets it)
        return TimerState.CANCELLED
    return TimerState.FIRED if task is not None and task.state == TaskState.COMPLETED else TimerState.CANCELLED
