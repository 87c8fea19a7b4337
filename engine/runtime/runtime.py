"""The runtime API: start, list and complete human tasks, suspend/resume/terminate, advance.

Used by the CLI, the HTTP API and the background workers alike.  Every step has the same
shape: one read (the instance, with the task being completed), the workflow worked on in
memory with nothing written yet, then one transaction — instance state guarded by its version
counter, derived task rows, events and side products — so a step is either wholly there or not
at all.  That transaction is written by one commit path for every command (engine/runtime/commit.py);
this class keeps the commands and the queries.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.task import TaskState
from sqlalchemy import Connection, Row, and_, func, select

from engine.base import jsonvalues, workdays
from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.paging import MAX_ID, MAX_LIMIT
from engine.base.settings import Settings
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus, OrgKind, Outcome
from engine.bpmn import changes, state
from engine.bpmn.services import ScriptedReplies, ServiceCalls
from engine.bpmn.stepping import EMPTY, Snapshot, Step, diagram_state, progress, run_until_wait, visible_data
from engine.case import documents, history, opinions
from engine.case.attachments import check_case_files
from engine.case.documents import IssuedDocument
from engine.definitions.compiler import CompiledProcess, ParsedWorkspace
from engine.definitions.forms import Form
from engine.definitions.workspace import manifests
from engine.definitions.writescope import write_errors
from engine.people.access import (
    ADMIN,
    Actor,
    can_see_task,
    may_do_task,
    may_see_internal_opinions,
    scope_instances,
)
from engine.people.accounts import actors_of, load_actor
from engine.runtime import correlation, metrics, migration, returns, routing, signers, withdrawal
from engine.runtime.commit import Case, NewCase, Organisations, commit, task_views
from engine.runtime.context import RunContext, in_context
from engine.runtime.inbox import InstanceFilter, TaskFilter, list_instances, list_tasks
from engine.runtime.metrics import StepKind
from engine.runtime.reasons import checked_reason
from engine.runtime.views import InstanceView, TaskView
from engine.store import statements
from engine.store.blobs import BlobStore
from engine.store.calendars import calendar_from_db
from engine.store.db import Database
from engine.store.models import Event, Instance, ProcessVersion
from engine.store.storage import storage_for

#: The engine acting on its own (timers, workers): unscoped, recorded without a user.
SYSTEM = Actor(id=0, username="system", org_id=0, org_kind=OrgKind.DEPARTMENT, roles=frozenset({ADMIN}))

_STATE_ZH = {HumanTaskState.COMPLETED: "完成", HumanTaskState.CANCELLED: "取消"}
_KIND_ZH = {EventKind.SUSPENDED: "挂起", EventKind.RESUMED: "恢复", EventKind.TERMINATED: "终止",
            EventKind.RETRIED: "重试"}

#: an administrator's steps on a case: the event each records and the statuses it may be taken from
ADMIN_STEPS: dict[str, tuple[EventKind, frozenset[InstanceStatus]]] = {
    "suspend": (EventKind.SUSPENDED, frozenset({InstanceStatus.RUNNING, InstanceStatus.ERROR})),
    "resume": (EventKind.RESUMED, frozenset({InstanceStatus.SUSPENDED})),
    "retry": (EventKind.RETRIED, frozenset({InstanceStatus.ERROR})),
    "terminate": (EventKind.TERMINATED,
                  frozenset({InstanceStatus.RUNNING, InstanceStatus.SUSPENDED, InstanceStatus.ERROR})),
}


def admin_steps(actor: Actor, status: str) -> list[str]:
    """The administrator's steps a case in `status` allows this actor (none for anyone else): the page's buttons."""
    return [name for name, (_, allowed) in ADMIN_STEPS.items() if actor.is_admin and status in allowed]


def compile_version(files: dict[str, str], key: str) -> CompiledProcess:
    """Parse a stored version's own files (never the working tree): what was deployed is what runs."""
    raw = {path: text.encode("utf-8") for path, text in files.items()}
    manifest = next(m for m in manifests(raw) if m.key == key)
    return ParsedWorkspace(raw).compile(manifest)


class Runtime:
    def __init__(self, db: Database, settings: Settings | None = None,
                 dispatch: Callable[[int, int], None] | None = None) -> None:
        """`dispatch`, when given, receives the id of every instance a request stepped and the version counter
        that step wrote: the automatic steps then run in a background worker (scale-out mode) instead of inside
        the request (embedded mode)."""
        self.db = db
        self.dispatch = dispatch
        self.settings = settings or Settings.from_env()
        self._specs = state.SpecCache()
        self._live = state.WorkflowCache(self.settings.workflow_cache)
        #: set by the scenario runner: scripted replies instead of the outside systems
        self.scripted_services: ScriptedReplies | None = None
        self._versions: dict[int, tuple[int, CompiledProcess]] = {}  # immutable rows: cache forever
        self.orgs = Organisations()  # organisation ids and codes, cached
        #: where this runtime's uploads live: the instance folder's blobs/, or the bucket the settings name
        self.blobs = BlobStore(storage_for(self.settings.storage, self.settings.instance_dir))
        #: this runtime's clock, calendar and script budget, entered by every public method (context.py)
        self.context = RunContext(workdays.CalendarSource(self._calendar), self.settings.script_budget)

    def _calendar(self) -> workdays.WorkingDayCalendar:
        with self.db.read() as session:
            return calendar_from_db(session, self.settings.timezone)

    # -- lookups -------------------------------------------------------------------------------
    @in_context
    def actor(self, username: str) -> Actor:
        with self.db.read() as session:
            return load_actor(session, username)

    def compiled_version(self, conn: Connection, version_id: int) -> tuple[int, CompiledProcess]:
        """(version number, compiled process) for a deployed version id."""
        hit = self._versions.get(version_id)
        if hit is None:
            row = conn.execute(statements.VERSION_BY_ID, {"id": version_id}).one()
            compiled = self._specs.get(row.content_hash, lambda: compile_version(row.files, row.process_key))
            hit = self._versions[version_id] = (row.version, compiled)
        return hit

    # -- writing a step (engine/runtime/commit.py) ----------------------------------------------
    def _commit(self, case: Case, compiled: CompiledProcess, version_no: int, step: Step, actor: Actor,
                before: Snapshot, completed_task: str | None = None,
                within: Callable[[Connection], None] | None = None) -> InstanceView:
        """Write a step — on the instance row read before it (guarded by its version counter) or on the case it
        starts — and keep its workflow live for the next step here."""
        view, version = commit(self.db, self.settings, self.orgs, case, compiled, version_no, step, actor, before,
                               completed_task, within)
        self._live.put(view.id, version, step.workflow)
        if step.deferred and self.dispatch is not None:
            self.dispatch(view.id, version)  # after the commit: the worker must see the step it continues
        if step.thrown:
            routing.route(self, view.id)  # after the commit too: each case it reaches takes a step of its own
        return view

    def _workflow(self, row: Row[Any], compiled: CompiledProcess) -> BpmnWorkflow:
        """The instance's workflow at the version just read, for a step to change: taken from the live cache (the
        step owns it until it commits and puts it back), else deserialized."""
        return self._live.take(row.id, row.version) or state.loads(row.state, compiled)

    @contextmanager
    def _looking_at(self, row: Row[Any], compiled: CompiledProcess) -> Iterator[BpmnWorkflow]:
        """The instance's workflow at the version just read, to read and never change: the live cache's, borrowed
        and put back, else deserialized once and left there (it is what the stored state says) for the step
        that likely follows."""
        workflow = self._live.take(row.id, row.version) or state.loads(row.state, compiled)
        try:
            yield workflow
        finally:
            self._live.put(row.id, row.version, workflow)

    # -- public API -----------------------------------------------------------------------------
    @in_context
    @metrics.counted(StepKind.START)
    def start(self, key: str, data: dict[str, Any], actor: Actor) -> InstanceView:
        with self.db.reading() as conn:
            latest = statements.latest_version(conn, key)
            if latest is None:
                raise NotFound(f"流程未部署 (process {key!r} is not deployed; run `tongban deploy`)")
            version_no, compiled = self.compiled_version(conn, latest.id)
        start_role = compiled.start_role.code if compiled.start_role else None
        if start_role not in actor.roles:
            raise Forbidden(f"无权发起此流程 (starting {key!r} needs the role {start_role})")
        data, preset = _validated(compiled.forms.get(compiled.start_form) if compiled.start_form else None, data)
        enterprise_id = actor.org_id if actor.org_kind == OrgKind.ENTERPRISE else None
        events = [{"kind": EventKind.STARTED, "element_id": compiled.start_event,
                   "detail": {"process": key, "version": version_no, "changes": changes.submission({}, data)}},
                  *changes.preset(preset, compiled.start_event)]
        data = {**preset, **data}
        workflow = state.new_workflow(compiled)
        first = workflow.get_next_task(state=TaskState.READY)
        first.data.update(data)
        if compiled.start_form and compiled.start_role:  # the applicant's own step (compiler._applicants_step)
            first.run()
            workflow.get_next_task(state=TaskState.READY, manual=True).run()
        step = self._automatic_steps(workflow, events)
        case = NewCase(key, latest.id, actor.id, enterprise_id, compiled.forms.get(compiled.start_form or ""), data)
        return self._commit(case, compiled, version_no, step, actor, EMPTY)

    @in_context
    @metrics.counted(StepKind.COMPLETE)
    def complete(self, task_id: str, data: dict[str, Any], actor: Actor) -> InstanceView:
        """Complete a ready task with what its form lets the actor write.

        A deadline that passed before the submission goes first: when a timer of the case is already due (the
        sweep has not fired it yet), the case is advanced, and the submission is then judged on what that left —
        a 补正 sent after the art. 32 deadline, or a 容缺 supply after its deadline, finds its task cancelled
        (409) instead of being accepted because the sweep was a second late."""
        return self._complete(task_id, data, actor, caught_up=False)

    def _complete(self, task_id: str, data: dict[str, Any], actor: Actor, caught_up: bool) -> InstanceView:
        with self.db.reading() as conn:
            row, version_no, compiled = self._load_task(conn, task_id, actor)
        if row.task_state != HumanTaskState.READY:
            raise Conflict(f"任务已{_STATE_ZH.get(row.task_state, row.task_state)} (task is already {row.task_state})")
        if row.status != InstanceStatus.RUNNING:
            raise Conflict(f"办件当前状态为 {row.status}，不能办理 (instance is {row.status})")
        if not may_do_task(actor, row.role, row.org_id, row.assignee_id):
            raise Forbidden(f"该任务需要角色 {row.role} (task needs the role {row.role} in its organisation)")
        workflow = self._workflow(row, compiled)
        before = Snapshot.of(workflow)
        if not caught_up and _timer_due(before):
            self.advance(row.id, StepKind.TIMER)
            return self._complete(task_id, data, actor, caught_up=True)
        spiff_task = before.tasks.get(task_id)
        if spiff_task is None:
            raise Conflict("任务状态已变化，请刷新 (task is no longer ready; reload)")
        form = compiled.forms.get(row.form) if row.form else None
        data, preset = _validated(form, data, spiff_task.data)
        check_case_files(self.db, row.id, form, data)
        decided = opinions.recorded(form, data)  # a decision without its opinion is refused here (422)
        # 后加签: kept until the added signers have signed
        if row.signers_open and signers.hold_back(self.db, task_id, data, actor):
            self._live.put(row.id, row.version, workflow)
            return self.instance(row.id, actor)
        events = [{"kind": EventKind.TASK_COMPLETED, "task_id": task_id, "element_id": row.element_id,
                   "detail": {"changes": changes.submission(spiff_task.data, data), **decided}},
                  *changes.preset(preset, row.element_id)]
        data = {**preset, **data}
        spiff_task.data.update(data)
        spiff_task.run()
        step = self._automatic_steps(workflow, events)
        return self._commit(row, compiled, version_no, step, actor, before, completed_task=task_id)

    def _automatic_steps(self, workflow: BpmnWorkflow, events: list[dict[str, Any]]) -> Step:
        """Inline in embedded mode; deferred to a worker (which calls `advance`) in scale-out mode."""
        if self.dispatch is None:
            return self._run(workflow, events)
        return Step(workflow, InstanceStatus.RUNNING, events, deferred=True)

    def _run(self, workflow: BpmnWorkflow, events: list[dict[str, Any]], since: float | None = None) -> Step:
        return run_until_wait(workflow, events, ServiceCalls(self.settings, self.scripted_services), since)

    @in_context
    def tasks(self, actor: Actor) -> list[TaskView]:
        """The first inbox page (all scopes, oldest first): what the CLI shows."""
        return list_tasks(self.db, actor, TaskFilter(), limit=MAX_LIMIT)[0]

    def _load(self, conn: Connection, ref: int | str, actor: Actor) -> tuple[Row[Any], int, CompiledProcess]:
        by_case = isinstance(ref, str) and not ref.isdigit()
        row = None
        if by_case or 0 < int(ref) <= MAX_ID:
            query = select(*statements.INSTANCE_COLUMNS).where(
                Instance.case_number == ref if by_case else Instance.id == int(ref))
            row = conn.execute(scope_instances(query, actor)).first()
        if row is None:
            raise NotFound(f"办件不存在 (no case {ref})")
        return (row, *self.compiled_version(conn, row.version_id))

    def _admin_step(self, ref: int | str, actor: Actor, name: str, reason: Any = None) -> InstanceView:
        kind, allowed_from = ADMIN_STEPS[name]
        if not actor.is_admin:
            raise Forbidden("仅管理员可执行此操作 (administrators only)")
        reason = None if reason is None else checked_reason(reason)
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, actor)
            with_rows = {r["id"] for r in statements.open_tasks(conn, row.id)}
        if row.status not in allowed_from:
            raise Conflict(f"办件状态为 {row.status}，不能{_KIND_ZH[kind]} (cannot do that to a {row.status} case)")
        workflow = self._workflow(row, compiled)
        before = Snapshot.of(workflow)
        # a ready task whose row could not be derived (unknown org, unloaded year) is derived again on resume
        before = Snapshot({k: t for k, t in before.tasks.items() if k in with_rows}, before.timers, before.retries,
                          before.messages)
        events = [{"kind": kind, "detail": {"reason": reason}} if reason else {"kind": kind}]
        if kind == EventKind.TERMINATED:
            workflow.cancel()
            events.append({"kind": EventKind.ENDED, "detail": {"outcome": InstanceStatus.TERMINATED}})
            step = Step(workflow, InstanceStatus.TERMINATED, events, outcome=Outcome.TERMINATED)
        elif kind == EventKind.RESUMED:
            step = self._run(workflow, events)
        elif kind == EventKind.RETRIED:
            for failed in workflow.get_tasks(state=TaskState.ERROR):
                workflow.reset_from_task_id(failed.id)  # runs again from its input data
            step = self._run(workflow, events)
        else:
            step = Step(workflow, InstanceStatus.SUSPENDED, events, row.error_message, row.error_element)
        return self._commit(row, compiled, version_no, step, actor, before)

    @in_context
    def suspend(self, ref: int | str, actor: Actor) -> InstanceView:
        return self._admin_step(ref, actor, "suspend")

    @in_context
    def resume(self, ref: int | str, actor: Actor) -> InstanceView:
        return self._admin_step(ref, actor, "resume")

    @in_context
    def retry(self, ref: int | str, actor: Actor) -> InstanceView:
        """An incident, once its cause is fixed (data, a year table, a service back up): run the failed task again.

        The case stays on its version; a failed script or service task is reset to its input data and
        re-run, a task whose row could not be derived (organisation, deadline) is derived again.
        """
        return self._admin_step(ref, actor, "retry")

    @in_context
    def terminate(self, ref: int | str, actor: Actor, reason: Any = None) -> InstanceView:
        """End the case for good; a reason, when given (the case page asks for one), is recorded and told to the
        applicant (422 when it is blank or too long)."""
        return self._admin_step(ref, actor, "terminate", reason)

    # -- 撤回 and 退回 (engine/runtime/withdrawal.py, engine/runtime/returns.py) ---------------------------
    @in_context
    def withdraw(self, ref: int | str, reason: Any, actor: Actor) -> tuple[InstanceView, bool]:
        """The applicant withdraws its case, or asks to once accepted: (the case, whether it is withdrawn)."""
        return withdrawal.withdraw(self, ref, reason, actor)

    @in_context
    def decide_withdrawal(self, ref: int | str, grant: bool, reason: Any, actor: Actor) -> InstanceView:
        """The office holding the case grants or refuses the applicant's request to withdraw it."""
        return withdrawal.decide(self, ref, grant, reason, actor)

    @in_context
    def withdrawal_state(self, ref: int | str, actor: Actor) -> withdrawal.WithdrawalState:
        return withdrawal.state(self, ref, actor)

    @in_context
    def return_targets(self, task_id: str, actor: Actor) -> list[returns.ReturnTarget]:
        return returns.targets(self, task_id, actor)

    @in_context
    def send_back(self, task_id: str, target: Any, reason: Any, actor: Actor) -> InstanceView:
        """退回: the case of the task goes back to an earlier user task on its path, with a reason."""
        return returns.send_back(self, task_id, target, reason, actor)

    @in_context
    def migrate(self, key: str, from_version: Any, to_version: Any, mapping: Any, cases: Any, actor: Actor,
                dry_run: bool = False) -> migration.Migration:
        """版本迁移: move running cases of a process to a later version (engine/runtime/migration.py)."""
        return migration.migrate(self, key, from_version, to_version, mapping, cases, actor, dry_run)

    @in_context
    def advance(self, ref: int | str, kind: StepKind = StepKind.ADVANCE, after: int | None = None) -> InstanceView:
        """Fire whatever came due (timers) and run automatic steps: the job a worker runs after a step.

        Idempotent: when nothing is due the instance is left untouched and nothing is written but the removal
        of its outbox row (the automatic steps it stood for are done: a committed step removes it itself).
        `kind` says why it runs (after a step, a timer, a service attempt), for the step metrics.  `after` is the
        version counter of the step a dispatched job follows: when a later step has been written since, that
        step ran the automatic steps or left them to its own job, and this one has nothing left to do (two jobs
        racing on one case would only waste a step and count a conflict).
        """
        with metrics.observed(kind) as seen:
            return self._advance(ref, seen, after)

    def _advance(self, ref: int | str, seen: metrics.Observed, after: int | None) -> InstanceView:
        """(`seen` learns the status a step left, when there was one: a case already in error is no new error.)"""
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, SYSTEM)
        if after is not None and row.version > after:
            return self.instance(row.id, SYSTEM)  # superseded: the outbox row, if any, is the later step's
        if row.status != InstanceStatus.RUNNING:
            self._acknowledged(row.id, row.version)  # a stopped case's resume or retry runs them
            return self.instance(row.id, SYSTEM)
        workflow = self._workflow(row, compiled)
        before, fingerprint = Snapshot.of(workflow), progress(workflow)
        step = self._run(workflow, [])
        if step.status == InstanceStatus.RUNNING and progress(workflow) == fingerprint and not step.events:
            self._live.put(row.id, row.version, workflow)  # unchanged: still what the stored state says
            self._acknowledged(row.id, row.version)
            return self.instance(row.id, SYSTEM)
        view = self._commit(row, compiled, version_no, step, SYSTEM, before)
        seen.status = view.status
        return view

    def _acknowledged(self, instance_id: int, version: int) -> None:
        """Remove the outbox row an advance that wrote nothing has done the work of (it read the case at
        `version`, before this looks); a row written by a later step stays for that step's own job."""
        with self.db.reading() as conn:
            pending = statements.follow_up_version(conn, instance_id)
        if pending is not None and pending <= version:
            with self.db.writing() as conn:
                statements.acknowledge_follow_up(conn, instance_id, version)

    @in_context
    def instances(self, actor: Actor, status: str | None = None) -> list[InstanceView]:
        """The newest cases the actor may see: what the CLI shows."""
        return list_instances(self.db, actor, InstanceFilter(status=status), limit=MAX_LIMIT)[0]

    @in_context
    def deliver(self, ref: int | str, message: str, payload: Any, actor: Actor,
                kind: str = correlation.MESSAGE) -> InstanceView:
        """A message (or a signal: `kind`) from outside the case — another system, an integration, another case —
        to a case waiting for it."""
        if not actor.is_admin:
            raise Forbidden("仅管理员或系统集成可投递消息 (administrators and integrations only)")
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, actor)
        if row.status != InstanceStatus.RUNNING:
            raise Conflict(f"办件当前状态为 {row.status}，不能接收消息 (instance is {row.status})")
        workflow = self._workflow(row, compiled)
        before, since = Snapshot.of(workflow), time.time()
        try:
            workflow.send_event(BpmnEvent(correlation.DEFINITIONS[kind](message), payload))
        except WorkflowException:
            raise Conflict(f"办件未在等待{correlation.KIND_ZH[kind]}“{message}” (the case is not waiting for {kind} "
                           f"{message!r})", {"message": ["not awaited"]}) from None
        events = [{"kind": EventKind.MESSAGE_RECEIVED, "detail": correlation.received(kind, message)}]
        return self._commit(row, compiled, version_no, self._run(workflow, events, since), actor, before)

    @in_context
    def correlate(self, message: Any, key: Any, payload: Any, actor: Actor) -> correlation.Correlated:
        """A message by name and correlation key to every case waiting for it, or the cases it starts
        (engine/runtime/correlation.py)."""
        return correlation.correlate(self, message, key, payload, actor)

    @in_context
    def broadcast(self, signal: Any, payload: Any, actor: Actor) -> correlation.Correlated:
        """A signal to every case waiting for it and every process it starts (engine/runtime/correlation.py)."""
        return correlation.broadcast(self, signal, payload, actor)

    @in_context
    def instance(self, ref: int | str, actor: Actor, detail: bool = False) -> InstanceView:
        return self._instance(ref, actor, detail)[0]

    @in_context
    def instance_with_version(self, ref: int | str, actor: Actor, detail: bool = False
                              ) -> tuple[InstanceView, CompiledProcess]:
        """The case and the version it runs on (not the newest): what a case page shows, from one read."""
        return self._instance(ref, actor, detail)

    def _instance(self, ref: int | str, actor: Actor, detail: bool) -> tuple[InstanceView, CompiledProcess]:
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, actor)
            if not detail:
                return self._view(conn, row, version_no, compiled, actor), compiled
            with self._looking_at(row, compiled) as workflow:
                return self._view(conn, row, version_no, compiled, actor, workflow), compiled

    def _view(self, conn: Connection, row: Row[Any], version_no: int, compiled: CompiledProcess, actor: Actor,
              workflow: BpmnWorkflow | None = None) -> InstanceView:
        """A case as `row` (an instance row, or a task row with its instance) has it; in detail with `workflow`."""
        view = InstanceView(row.id, row.case_number, row.process_key, version_no, row.status,
                            row.error_message, row.error_element, outcome=row.outcome)
        open_rows = statements.open_tasks(conn, row.id)
        view.open_tasks = task_views(conn, self.orgs, view, open_rows, actor)
        view.due_at = min((r["due_at"] for r in open_rows if r.get("due_at")), default=None)
        if workflow is None:
            return view
        view.waiting_until = statements.last_waiting_timer(conn, row.id)
        events = [{"at": e.at.isoformat(), "kind": e.kind, "task_id": e.task_id, "element_id": e.element_id,
                   "user_id": e.user_id, "detail": e.detail}
                  for e in conn.execute(select(Event).where(Event.instance_id == row.id).order_by(Event.id))]
        hidden = history.hidden_from(actor, row.enterprise_id, compiled)
        acting = actors_of(conn, events)
        names = {user_id: who.username for user_id, who in acting.items()}
        view.history = history.field_history(events, compiled, names, hidden)
        internal = frozenset() if may_see_internal_opinions(actor) else opinions.internal_fields(compiled.forms)
        view.history = opinions.withheld_history(view.history, internal)
        told = {"changes", *opinions.DETAIL_KEYS}
        steps = history.element_names(compiled)
        for event in events:  # the changes are told by the history and the opinions by the trail, scoped there
            who = acting.get(event["user_id"])
            event["user"] = who.username if who else None
            event["user_name"], event["office"] = (who.name, who.office) if who else (None, None)
            event["element"] = steps.get(event["element_id"] or "", event["element_id"])
            if event["detail"] and not told.isdisjoint(event["detail"]):
                event["detail"] = {k: v for k, v in event["detail"].items() if k not in told} or None
        view.events = events
        view.data = opinions.withheld(history.masked_data(visible_data(workflow), hidden), internal)
        view.diagram = {**diagram_state(workflow), **returns.loops(events)}
        view.withdrawal = withdrawal.describe(conn, row, compiled, workflow, actor).to_dict()
        view.documents = [d.summary() for d in documents.issued(conn, row.id, self.settings.timezone)]
        trail = opinions.trail(conn, row.id, steps, may_see_internal_opinions(actor))
        view.opinions = [asdict(o) for o in trail]
        said = {(o.element_id, o.at.isoformat()): o for o in trail}
        for event in events:  # each step's decision and opinion beside it, as far as the trail lets this actor read
            if (o := said.get((event["element_id"], event["at"]))) and event["kind"] == o.kind:
                event["decision"], event["opinion"] = o.decision, o.opinion
        return view

    @in_context
    def opinion_trail(self, ref: int | str, actor: Actor) -> list[opinions.OpinionRow]:
        """A case's 审批流水 as the actor may read it (engine/case/opinions.py), without the rest of its detail."""
        with self.db.reading() as conn:
            row, _, compiled = self._load(conn, ref, actor)
            return opinions.trail(conn, row.id, history.element_names(compiled), may_see_internal_opinions(actor))

    @in_context
    def document(self, ref: int | str, name: str, actor: Actor, seq: int | None = None) -> IssuedDocument:
        """An issued document of a case the actor may see (the latest issue unless `seq` says which)."""
        with self.db.reading() as conn:
            row, _, _ = self._load(conn, ref, actor)
            return documents.find(documents.issued(conn, row.id, self.settings.timezone, self.settings.public_url),
                                  name, seq)

    @in_context
    def startable(self, actor: Actor) -> list[dict[str, Any]]:
        """The processes the actor may start (newest versions), each with its start form."""
        newest = (select(ProcessVersion.process_key, func.max(ProcessVersion.version).label("version"))
                  .group_by(ProcessVersion.process_key).subquery())
        query = (select(ProcessVersion.id).join(newest, and_(newest.c.process_key == ProcessVersion.process_key,
                                                             newest.c.version == ProcessVersion.version))
                 .order_by(ProcessVersion.process_key))
        out = []
        with self.db.reading() as conn:
            for (version_id,) in conn.execute(query):
                version_no, compiled = self.compiled_version(conn, version_id)
                if compiled.start_role is None or compiled.start_role.code not in actor.roles:
                    continue
                form = compiled.forms.get(compiled.start_form) if compiled.start_form else None
                m = compiled.manifest
                out.append({"key": m.key, "code": m.code, "name": {"zh": m.name_zh, "en": m.name_en},
                            "version": version_no, "start_form": form.schema if form else None,
                            "start_ui_schema": form.ui_schema if form else None})
        return out

    @in_context
    def task_detail(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """A task with its form, the data it currently holds and a summary of its case."""
        with self.db.reading() as conn:
            row, version_no, compiled = self._load_task(conn, task_id, actor)
            org = self.orgs.code(conn, row.org_id)
        with self._looking_at(row, compiled) as workflow:
            return self._task_detail(row, version_no, compiled, org, workflow, actor)

    @in_context
    def task_page(self, task_id: str, actor: Actor) -> tuple[dict[str, Any], InstanceView, CompiledProcess]:
        """`task_detail`, its case as `instance(detail=True)` has it, and the version the case runs on — what the
        task page shows — from one read of the instance row (with the task) and one deserialization at most.
        A task the actor may see makes its case one the actor may see (`scope_instances`)."""
        with self.db.reading() as conn:
            row, version_no, compiled = self._load_task(conn, task_id, actor)
            org = self.orgs.code(conn, row.org_id)
            with self._looking_at(row, compiled) as workflow:
                detail = self._task_detail(row, version_no, compiled, org, workflow, actor)
                view = self._view(conn, row, version_no, compiled, actor, workflow)
        return detail, view, compiled

    @in_context
    def checked_submission(self, task_id: str, data: dict[str, Any], actor: Actor) -> dict[str, Any]:
        """What `complete` would take from this actor for this open task — checked against its form, nothing
        written: a 委派 delegate's work, kept for the delegator to complete (engine/runtime/signers.py)."""
        with self.db.reading() as conn:
            row, _, compiled = self._load_task(conn, task_id, actor)
        if not may_do_task(actor, row.role, row.org_id, row.assignee_id):
            raise Forbidden(f"该任务需要角色 {row.role} (task needs the role {row.role} in its organisation)")
        form = compiled.forms.get(row.form) if row.form else None
        with self._looking_at(row, compiled) as workflow:
            spiff_task = workflow.get_task_from_id(UUID(task_id))
            checked, _ = _validated(form, data, spiff_task.data if spiff_task else None)
        check_case_files(self.db, row.id, form, checked)
        return checked

    def _load_task(self, conn: Connection, task_id: str, actor: Actor) -> tuple[Row[Any], int, CompiledProcess]:
        """A task the actor may see (a signer added to it included), with its instance's row (state included),
        and its version."""
        row = statements.load_task(conn, task_id)
        if row is None or not (can_see_task(actor, row.role, row.org_id, row.assignee_id)
                               or signers.sees_as_signer(conn, task_id, actor)):
            raise NotFound(f"任务不存在 (no task {task_id})")
        return (row, *self.compiled_version(conn, row.version_id))

    def _task_detail(self, row: Row[Any], version_no: int, compiled: CompiledProcess, org: str | None,
                     workflow: BpmnWorkflow, actor: Actor) -> dict[str, Any]:
        task_id = row.task_id
        form = compiled.forms.get(row.form) if row.form else None
        spiff_task = workflow.get_task_from_id(UUID(task_id))
        own = frozenset((form.schema.get("properties") or {}) if form else ())
        hidden = history.hidden_from(actor, row.enterprise_id, compiled) - own
        internal = frozenset() if may_see_internal_opinions(actor) else opinions.internal_fields(compiled.forms)
        meta = compiled.human_tasks.get((spiff_task.workflow.spec.name, spiff_task.task_spec.name)) \
            if spiff_task else None
        return {
            "id": task_id, "element_id": row.element_id, "name": meta.name if meta else row.element_id,
            "state": row.task_state, "role": row.role, "org": org, "org_id": row.org_id,
            "assignee_id": row.assignee_id,
            "due_at": row.due_at, "warn_at": row.warn_at, "completed_at": row.completed_at,
            "form": row.form, "schema": form.schema if form else None, "ui_schema": form.ui_schema if form else None,
            "opinion_field": form.decision.opinion if form and form.decision else None,
            "data": opinions.withheld(history.masked_data(json.loads(json.dumps(spiff_task.data, default=str)),
                                                          hidden), internal) if spiff_task else {},
            "instance": {"id": row.id, "case_number": row.case_number, "process_key": row.process_key,
                         "version": version_no, "status": row.status},
            "return_targets": [t.to_dict() for t in returns.targets_of(row, compiled, spiff_task, actor)],
        }


def _timer_due(snapshot: Snapshot) -> bool:
    """A timer of the case is due and not fired yet (service-task attempts wait for their own sweep)."""
    at = now()
    return any(due <= at for _, due in snapshot.timers.values())


def _validated(form: Form | None, data: Any, stored: dict[str, Any] | None = None
               ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(what the person's submission writes, with the form's defaults; the values the form presets itself),
    or FormInvalid listing every failing field — including each one the form does not let a person write.
    A task without a form takes no data at all."""
    if not isinstance(data, dict):
        raise FormInvalid("提交的数据必须是 JSON 对象 (data must be a JSON object)", {"/": ["not an object"]})
    if bad := jsonvalues.problems(data):  # NaN, 1e999, a lone surrogate: from any caller, not only HTTP
        raise FormInvalid("数据含有无法保存的值 (data holds values JSON cannot store)", bad)
    if form is None:
        if data:
            raise FormInvalid("此步骤没有表单，不能提交数据 (this step has no form: it takes no data)",
                              write_errors({}, data))
        return data, {}
    defaults = {k: v["default"] for k, v in form.schema.get("properties", {}).items()
                if isinstance(v, dict) and "default" in v}
    # a read-only field's default is the process's own value (the sample's approval threshold): set when the
    # case has none yet, never taken from the caller, and recorded as the process's, not the person's
    preset = {k: d for k, d in defaults.items() if k in form.read_only and k not in (stored or {})}
    data = {**{k: d for k, d in defaults.items() if k not in form.read_only}, **data}
    fields, data = form.checked(data, {**preset, **(stored or {})})
    if fields:
        raise FormInvalid(f"表单校验未通过，共 {len(fields)} 个字段 (form validation failed for "
                          f"{len(fields)} fields)", fields)
    return data, preset
