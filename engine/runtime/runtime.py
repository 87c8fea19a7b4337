"""The runtime API: start, list and complete human tasks, suspend/resume/terminate, advance.

Used by the CLI, the HTTP API and the background workers alike.  Every step has the same
shape: one read (the instance, with the task being completed), the workflow worked on in
memory with nothing written yet, then one transaction — instance state guarded by its version
counter, derived task rows and events — so a step is either wholly there or not at all.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnEvent, BpmnWorkflow
from SpiffWorkflow.exceptions import WorkflowException
from SpiffWorkflow.spiff.specs.event_definitions import MessageEventDefinition
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import Connection, Row, and_, func, select

from engine.base import jsonvalues, workdays
from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound, TongbanError
from engine.base.paging import MAX_ID, MAX_LIMIT
from engine.base.settings import Settings
from engine.bpmn import changes, state
from engine.bpmn.scripting import RestrictedEnvironment, as_moment
from engine.bpmn.services import ScriptedReplies, ServiceCalls
from engine.bpmn.stepping import (
    EMPTY,
    ENDED,
    ERROR,
    RUNNING,
    SUSPENDED,
    TERMINATED,
    Snapshot,
    Step,
    diagram_state,
    element_of,
    progress,
    run_until_wait,
    visible_data,
)
from engine.case import casefacts, documents, history, ledger, notifications
from engine.case.attachments import bind_drafts, check_case_files
from engine.case.documents import IssuedDocument
from engine.definitions.compiler import DUE_PROPERTY, ORG_PROPERTY, WARN_PROPERTY, CompiledProcess, ParsedWorkspace
from engine.definitions.forms import Form
from engine.definitions.workspace import manifests
from engine.definitions.writescope import write_errors
from engine.people.access import Actor, can_see_task, may_do_task, scope_instances
from engine.people.accounts import load_actor, usernames
from engine.runtime.inbox import InstanceFilter, TaskFilter, list_instances, list_tasks
from engine.runtime.views import InstanceView, TaskView
from engine.store import statements as store
from engine.store.casenumbers import next_case_number
from engine.store.db import Database
from engine.store.models import Event, Instance, ProcessVersion

#: The engine acting on its own (timers, workers): unscoped, recorded without a user.
SYSTEM = Actor(id=0, username="system", org_id=0, org_kind="department", roles=frozenset({"admin"}))

_STATE_ZH = {"completed": "完成", "cancelled": "取消"}
_KIND_ZH = {"suspended": "挂起", "resumed": "恢复", "terminated": "终止", "retried": "重试"}


def compile_version(files: dict[str, str], key: str) -> CompiledProcess:
    """Parse a stored version's own files (never the working tree): what was deployed is what runs."""
    raw = {path: text.encode("utf-8") for path, text in files.items()}
    manifest = next(m for m in manifests(raw) if m.key == key)
    return ParsedWorkspace(raw).compile(manifest)


class Runtime:
    def __init__(self, db: Database, settings: Settings | None = None,
                 dispatch: Callable[[int], None] | None = None) -> None:
        """`dispatch`, when given, receives the id of every instance a request stepped: the automatic steps
        then run in a background worker (scale-out mode) instead of inside the request (embedded mode)."""
        self.db = db
        self.dispatch = dispatch
        self.settings = settings or Settings.from_env()
        self._specs = state.SpecCache()
        self._live = state.WorkflowCache(self.settings.workflow_cache)
        #: set by the scenario runner: scripted replies instead of the outside systems
        self.scripted_services: ScriptedReplies | None = None
        self._versions: dict[int, tuple[int, CompiledProcess]] = {}  # immutable rows: cache forever
        self._org_ids: dict[str, int] = {}
        self._org_codes: dict[int, str] = {}
        workdays.use(workdays.CalendarSource(self._calendar))  # what workdays_after() in expressions counts with

    def _calendar(self) -> workdays.WorkingDayCalendar:
        with self.db.read() as session:
            return workdays.calendar_from_db(session, self.settings.timezone)

    # -- lookups -------------------------------------------------------------------------------
    def actor(self, username: str) -> Actor:
        with self.db.read() as session:
            return load_actor(session, username)

    def compiled_version(self, conn: Connection, version_id: int) -> tuple[int, CompiledProcess]:
        """(version number, compiled process) for a deployed version id."""
        hit = self._versions.get(version_id)
        if hit is None:
            row = conn.execute(store.VERSION_BY_ID, {"id": version_id}).one()
            compiled = self._specs.get(row.content_hash, lambda: compile_version(row.files, row.process_key))
            hit = self._versions[version_id] = (row.version, compiled)
        return hit

    def _org_id(self, conn: Connection, code: str) -> int:
        if code not in self._org_ids:
            org_id = conn.execute(store.ORG_ID_BY_CODE, {"code": code}).scalar()
            if org_id is None:
                raise TongbanError(f"组织不存在 (organisation {code!r} named by the process does not exist)")
            self._org_ids[code] = org_id
        return self._org_ids[code]

    def _org_code(self, conn: Connection, org_id: int | None) -> str | None:
        if org_id is None:
            return None
        if org_id not in self._org_codes:
            self._org_codes[org_id] = conn.execute(store.ORG_CODE_BY_ID, {"id": org_id}).scalar_one()
        return self._org_codes[org_id]

    # -- deriving task rows from a workflow -----------------------------------------------------
    def _task_row(self, conn: Connection, compiled: CompiledProcess, task: Task, enterprise_id: int | None,
                  at: datetime) -> dict[str, Any]:
        """A ready task's row; TongbanError naming the element when its organisation or times cannot be had."""
        meta = compiled.human_tasks.get((task.workflow.spec.name, task.task_spec.name))
        role = meta.role if meta else None
        if role is None:
            org_id = None
        elif role.org_kind == "enterprise":
            org_id = enterprise_id
        elif role.org:
            org_id = self._org_id(conn, role.org)
        elif meta.candidate_org:
            org_id = self._org_id(conn, str(_evaluated(ORG_PROPERTY, meta.candidate_org, task)))
        else:
            org_id = None
        return {
            "id": str(task.id), "process_id": task.workflow.spec.name, "process_key": compiled.manifest.key,
            "element_id": element_of(task), "name": meta.name if meta else element_of(task),
            "role": role.code if role else None, "org_id": org_id, "form": meta.form if meta else None,
            "state": "ready", "created_at": at, "due_at": _moment(DUE_PROPERTY, meta.due_date if meta else None, task),
            "warn_at": _moment(WARN_PROPERTY, meta.warn_at if meta else None, task),
        }

    def _new_task_rows(self, conn: Connection, compiled: CompiledProcess, step: Step, after: Snapshot,
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
                rows.append(self._task_row(conn, compiled, task, enterprise_id, at))
            except TongbanError as exc:
                if step.status != ERROR:
                    step.status, step.error, step.error_element = ERROR, exc.message, element_of(task)
                    step.events.append({"kind": "error", "element_id": element_of(task),
                                        "detail": {"message": exc.message}})
        return rows

    def _write(self, conn: Connection, compiled: CompiledProcess, step: Step, after: Snapshot, instance_id: int,
               new_tasks: list[dict[str, Any]], actor: Actor, at: datetime, before: Snapshot,
               completed_task: str | None = None) -> list[dict[str, Any]]:
        """Derived task and timer rows and events for a step (in the caller's transaction); returns new tasks."""
        was_open = set(before.tasks) - {completed_task}
        new_tasks = [{**row, "instance_id": instance_id} for row in new_tasks]
        cancelled = sorted(was_open - set(after.tasks))
        step.events.extend({"kind": "task_cancelled", "task_id": t} for t in cancelled)
        step.events.extend({"kind": "task_ready", "task_id": t["id"], "element_id": t["element_id"]}
                           for t in new_tasks)
        new_timers = [{"instance_id": instance_id, "task_id": task_id, "element_id": element, "due_at": due,
                       "state": "waiting", "kind": "timer"} for task_id, (element, due) in after.timers.items()
                      if task_id not in before.timers]
        ended_timers = {t: _timer_outcome(step.workflow, t) for t in before.timers.keys() - after.timers.keys()}
        step.events.extend({"kind": f"timer_{outcome}", "task_id": t, "element_id": before.timers[t][0]}
                           for t, outcome in ended_timers.items())
        # a service task's attempt rows: its events (retry scheduled, called) come from the task itself
        new_timers += [{"instance_id": instance_id, "task_id": key, "element_id": element, "due_at": due,
                        "state": "waiting", "kind": "service"}
                       for key, (element, due) in after.retries.items() if key not in before.retries]
        attempt_outcome = "cancelled" if step.status == TERMINATED else "fired"
        ended_timers.update(dict.fromkeys(before.retries.keys() - after.retries.keys(), attempt_outcome))
        user_id = actor.id or None
        events = [{"instance_id": instance_id, "at": at, "kind": e["kind"], "task_id": e.get("task_id"),
                   "element_id": e.get("element_id"), "user_id": e.get("user_id", user_id),
                   "data_hash": None, "detail": e.get("detail")} for e in step.events]
        store.write_tasks_and_events(conn, at, user_id, completed_task, cancelled, new_tasks, events)
        store.write_timers(conn, at, new_timers, ended_timers)
        for asked in step.notices:
            org_id = self._org_id(conn, asked.org_code) if asked.org_code else None
            notifications.raise_notice(conn, asked.notice(instance_id), notifications.holders(conn, asked.role, org_id),
                                       asked.role, org_id)
        casefacts.record(conn, compiled.manifest.report, instance_id, step.workflow)
        documents.issue(conn, instance_id, step.workflow, compiled.document_elements, compiled.documents, at,
                        self.settings.timezone)
        ledger.post(conn, compiled, step.workflow, instance_id, at, user_id)  # may refuse the step (422)
        return new_tasks

    def _commit(self, instance: Row[Any], compiled: CompiledProcess, version_no: int, step: Step, actor: Actor,
                before: Snapshot, completed_task: str | None = None) -> InstanceView:
        """Write a step on an existing instance, guarded by the version counter read before the step."""
        at = now()
        after = Snapshot.of(step.workflow)
        blob = state.dumps(step.workflow)  # before the write lock is taken: it is the step's largest piece of work
        with self.db.writing() as conn:
            new_rows = self._new_task_rows(conn, compiled, step, after, before, instance.enterprise_id, at,
                                           completed_task)
            view = InstanceView(instance.id, instance.case_number, instance.process_key, version_no, step.status,
                                step.error, step.error_element)
            store.guarded_update(conn, instance.id, instance.version, {
                "state": blob, "status": step.status, "updated_at": at,
                "ended_at": at if step.status in ENDED else None, "error_message": step.error,
                "error_element": step.error_element,
            })
            new_tasks = self._write(conn, compiled, step, after, instance.id, new_rows, actor, at, before,
                                    completed_task)
            carried_over = after.tasks.keys() - {t["id"] for t in new_tasks}
            rows = new_tasks if not carried_over else store.open_tasks(conn, instance.id)
            view.open_tasks = self._task_views(conn, view, rows, actor)
        self._live.put(instance.id, instance.version + 1, step.workflow)
        return view

    def _workflow(self, row: Row[Any], compiled: CompiledProcess) -> BpmnWorkflow:
        """The instance's workflow at the version just read: from the live cache, else deserialized."""
        return self._live.take(row.id, row.version) or state.loads(row.state, compiled)

    def _task_views(self, conn: Connection, view: InstanceView, rows: list[dict[str, Any]],
                    actor: Actor) -> list[TaskView]:
        if view.status != RUNNING:
            return []
        return [TaskView(r["id"], view.id, view.case_number, view.process_key, r["element_id"], r["name"], r["role"],
                         self._org_code(conn, r["org_id"]), r["form"], r["state"], r["created_at"],
                         r.get("due_at"), r.get("warn_at"))
                for r in rows if can_see_task(actor, r["role"], r["org_id"], r.get("assignee_id"))]

    # -- public API -----------------------------------------------------------------------------
    def start(self, key: str, data: dict[str, Any], actor: Actor) -> InstanceView:
        with self.db.reading() as conn:
            latest = store.latest_version(conn, key)
            if latest is None:
                raise NotFound(f"流程未部署 (process {key!r} is not deployed; run `tongban deploy`)")
            version_no, compiled = self.compiled_version(conn, latest.id)
        start_role = compiled.start_role.code if compiled.start_role else None
        if start_role not in actor.roles:
            raise Forbidden(f"无权发起此流程 (starting {key!r} needs the role {start_role})")
        data, preset = _validated(compiled.forms.get(compiled.start_form) if compiled.start_form else None, data)
        enterprise_id = actor.org_id if actor.org_kind == "enterprise" else None
        events = [{"kind": "started", "element_id": compiled.start_event,
                   "detail": {"process": key, "version": version_no, "changes": changes.submission({}, data)}},
                  *changes.preset(preset, compiled.start_event)]
        data = {**preset, **data}
        workflow = state.new_workflow(compiled)
        workflow.get_next_task(state=TaskState.READY).data.update(data)
        step = self._automatic_steps(workflow, events)
        at = now()
        after = Snapshot.of(step.workflow)
        blob = state.dumps(step.workflow)
        with self.db.writing() as conn:
            new_rows = self._new_task_rows(conn, compiled, step, after, EMPTY, enterprise_id, at)
            case_number = next_case_number(conn, self.settings.district, compiled.manifest.code,
                                            at.astimezone(self.settings.timezone).date())
            instance_id = store.insert_instance(conn, {
                "case_number": case_number, "process_key": key, "version_id": latest.id, "status": step.status,
                "started_by": actor.id, "enterprise_id": enterprise_id, "created_at": at, "updated_at": at,
                "ended_at": at if step.status in ENDED else None, "version": 1, "error_message": step.error,
                "error_element": step.error_element, "state": blob,
            })
            bind_drafts(conn, instance_id, compiled.forms.get(compiled.start_form or ""), data, actor)
            new_tasks = self._write(conn, compiled, step, after, instance_id, new_rows, actor, at, before=EMPTY)
            view = InstanceView(instance_id, case_number, key, version_no, step.status, step.error, step.error_element)
            view.open_tasks = self._task_views(conn, view, new_tasks, actor)
        self._live.put(instance_id, 1, step.workflow)
        self._dispatched(instance_id)
        return view

    def complete(self, task_id: str, data: dict[str, Any], actor: Actor) -> InstanceView:
        with self.db.reading() as conn:
            row = store.load_task(conn, task_id)
            if row is None or not can_see_task(actor, row.role, row.org_id, row.assignee_id):
                raise NotFound(f"任务不存在 (no task {task_id})")
            version_no, compiled = self.compiled_version(conn, row.version_id)
        if row.task_state != "ready":
            raise Conflict(f"任务已{_STATE_ZH.get(row.task_state, row.task_state)} (task is already {row.task_state})")
        if row.status != RUNNING:
            raise Conflict(f"办件当前状态为 {row.status}，不能办理 (instance is {row.status})")
        if not may_do_task(actor, row.role, row.org_id, row.assignee_id):
            raise Forbidden(f"该任务需要角色 {row.role} (task needs the role {row.role} in its organisation)")
        workflow = self._workflow(row, compiled)
        before = Snapshot.of(workflow)
        spiff_task = before.tasks.get(task_id)
        if spiff_task is None:
            raise Conflict("任务状态已变化，请刷新 (task is no longer ready; reload)")
        form = compiled.forms.get(row.form) if row.form else None
        data, preset = _validated(form, data, spiff_task.data)
        check_case_files(self.db, row.id, form, data)
        events = [{"kind": "task_completed", "task_id": task_id, "element_id": row.element_id,
                   "detail": {"changes": changes.submission(spiff_task.data, data)}},
                  *changes.preset(preset, row.element_id)]
        data = {**preset, **data}
        spiff_task.data.update(data)
        spiff_task.run()
        step = self._automatic_steps(workflow, events)
        view = self._commit(row, compiled, version_no, step, actor, before, completed_task=task_id)
        self._dispatched(view.id)
        return view

    def _automatic_steps(self, workflow: BpmnWorkflow, events: list[dict[str, Any]]) -> Step:
        """Inline in embedded mode; deferred to a worker (which calls `advance`) in scale-out mode."""
        return self._run(workflow, events) if self.dispatch is None else Step(workflow, RUNNING, events)

    def _run(self, workflow: BpmnWorkflow, events: list[dict[str, Any]], since: float | None = None) -> Step:
        return run_until_wait(workflow, events, ServiceCalls(self.settings, self.scripted_services), since)

    def _dispatched(self, instance_id: int) -> None:
        if self.dispatch is not None:
            self.dispatch(instance_id)  # after the commit: the worker must see the step it continues

    def tasks(self, actor: Actor) -> list[TaskView]:
        """The first inbox page (all scopes, oldest first): what the CLI shows."""
        return list_tasks(self.db, actor, TaskFilter(), limit=MAX_LIMIT)[0]

    def _load(self, conn: Connection, ref: int | str, actor: Actor) -> tuple[Row[Any], int, CompiledProcess]:
        by_case = isinstance(ref, str) and not ref.isdigit()
        row = None
        if by_case or 0 < int(ref) <= MAX_ID:
            query = select(*store.INSTANCE_COLUMNS).where(
                Instance.case_number == ref if by_case else Instance.id == int(ref))
            row = conn.execute(scope_instances(query, actor)).first()
        if row is None:
            raise NotFound(f"办件不存在 (no case {ref})")
        return (row, *self.compiled_version(conn, row.version_id))

    def _admin_step(self, ref: int | str, actor: Actor, allowed_from: set[str], kind: str) -> InstanceView:
        if not actor.is_admin:
            raise Forbidden("仅管理员可执行此操作 (administrators only)")
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, actor)
            with_rows = {r["id"] for r in store.open_tasks(conn, row.id)}
        if row.status not in allowed_from:
            raise Conflict(f"办件状态为 {row.status}，不能{_KIND_ZH[kind]} (cannot do that to a {row.status} case)")
        workflow = self._workflow(row, compiled)
        before = Snapshot.of(workflow)
        # a ready task whose row could not be derived (unknown org, unloaded year) is derived again on resume
        before = Snapshot({k: t for k, t in before.tasks.items() if k in with_rows}, before.timers, before.retries)
        events = [{"kind": kind}]
        if kind == "terminated":
            workflow.cancel()
            events.append({"kind": "ended", "detail": {"outcome": "terminated"}})
            step = Step(workflow, TERMINATED, events)
        elif kind == "resumed":
            step = self._run(workflow, events)
        elif kind == "retried":
            for failed in workflow.get_tasks(state=TaskState.ERROR):
                workflow.reset_from_task_id(failed.id)  # runs again from its input data
            step = self._run(workflow, events)
        else:
            step = Step(workflow, SUSPENDED, events, row.error_message, row.error_element)
        return self._commit(row, compiled, version_no, step, actor, before)

    def suspend(self, ref: int | str, actor: Actor) -> InstanceView:
        return self._admin_step(ref, actor, {RUNNING, ERROR}, "suspended")

    def resume(self, ref: int | str, actor: Actor) -> InstanceView:
        return self._admin_step(ref, actor, {SUSPENDED}, "resumed")

    def retry(self, ref: int | str, actor: Actor) -> InstanceView:
        """An incident, once its cause is fixed (data, a year table, a service back up): run the failed task again.

        The case stays on its version; a failed script or service task is reset to its input data and
        re-run, a task whose row could not be derived (organisation, deadline) is derived again.
        """
        return self._admin_step(ref, actor, {ERROR}, "retried")

    def terminate(self, ref: int | str, actor: Actor) -> InstanceView:
        return self._admin_step(ref, actor, {RUNNING, SUSPENDED, ERROR}, "terminated")

    def advance(self, ref: int | str) -> InstanceView:
        """Fire whatever came due (timers) and run automatic steps: the job a worker runs after a step.

        Idempotent: when nothing is due the instance is left untouched and nothing is written.
        """
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, SYSTEM)
        if row.status != RUNNING:
            return self.instance(row.id, SYSTEM)
        workflow = self._workflow(row, compiled)
        before, fingerprint = Snapshot.of(workflow), progress(workflow)
        step = self._run(workflow, [])
        if step.status == RUNNING and progress(workflow) == fingerprint and not step.events:
            self._live.put(row.id, row.version, workflow)  # unchanged: still what the stored state says
            return self.instance(row.id, SYSTEM)
        return self._commit(row, compiled, version_no, step, SYSTEM, before)

    def instances(self, actor: Actor, status: str | None = None) -> list[InstanceView]:
        """The newest cases the actor may see: what the CLI shows."""
        return list_instances(self.db, actor, InstanceFilter(status=status), limit=MAX_LIMIT)[0]

    def deliver(self, ref: int | str, message: str, payload: Any, actor: Actor) -> InstanceView:
        """A message from outside the case (another system, an integration) to a case waiting for it."""
        if not actor.is_admin:
            raise Forbidden("仅管理员或系统集成可投递消息 (administrators and integrations only)")
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, actor)
        if row.status != RUNNING:
            raise Conflict(f"办件当前状态为 {row.status}，不能接收消息 (instance is {row.status})")
        workflow = self._workflow(row, compiled)
        before, since = Snapshot.of(workflow), time.time()
        try:
            workflow.send_event(BpmnEvent(MessageEventDefinition(message), payload))
        except WorkflowException:
            raise Conflict(f"办件未在等待消息“{message}” (the case is not waiting for message {message!r})",
                           {"message": ["not awaited"]}) from None
        events = [{"kind": "message_received", "detail": {"message": message}}]
        return self._commit(row, compiled, version_no, self._run(workflow, events, since), actor, before)

    def instance(self, ref: int | str, actor: Actor, detail: bool = False) -> InstanceView:
        with self.db.reading() as conn:
            row, version_no, compiled = self._load(conn, ref, actor)
            view = InstanceView(row.id, row.case_number, row.process_key, version_no, row.status,
                                row.error_message, row.error_element)
            rows = store.open_tasks(conn, row.id)
            view.open_tasks = self._task_views(conn, view, rows, actor)
            if detail:
                events = [{"at": e.at.isoformat(), "kind": e.kind, "task_id": e.task_id, "element_id": e.element_id,
                           "user_id": e.user_id, "detail": e.detail}
                          for e in conn.execute(select(Event).where(Event.instance_id == row.id).order_by(Event.id))]
                hidden = history.hidden_from(actor, row.enterprise_id, compiled)
                view.history = history.field_history(events, compiled, usernames(conn, events), hidden)
                for event in events:  # the changes are told by the history, masked where they must be
                    if event["detail"] and "changes" in event["detail"]:
                        event["detail"] = {k: v for k, v in event["detail"].items() if k != "changes"} or None
                view.events = events
                workflow = state.loads(row.state, compiled)
                view.data = history.masked_data(visible_data(workflow), hidden)
                view.diagram = diagram_state(workflow)
                view.documents = [d.summary() for d in documents.issued(conn, row.id, self.settings.timezone)]
        return view

    def document(self, ref: int | str, name: str, actor: Actor, seq: int | None = None) -> IssuedDocument:
        """An issued document of a case the actor may see (the latest issue unless `seq` says which)."""
        with self.db.reading() as conn:
            row, _, _ = self._load(conn, ref, actor)
            return documents.find(documents.issued(conn, row.id, self.settings.timezone), name, seq)

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

    def task_detail(self, task_id: str, actor: Actor) -> dict[str, Any]:
        """A task with its form, the data it currently holds and a summary of its case."""
        with self.db.reading() as conn:
            row = store.load_task(conn, task_id)
            if row is None or not can_see_task(actor, row.role, row.org_id, row.assignee_id):
                raise NotFound(f"任务不存在 (no task {task_id})")
            version_no, compiled = self.compiled_version(conn, row.version_id)
            org = self._org_code(conn, row.org_id)
        form = compiled.forms.get(row.form) if row.form else None
        spiff_task = state.loads(row.state, compiled).get_task_from_id(UUID(task_id))
        own = frozenset((form.schema.get("properties") or {}) if form else ())
        hidden = history.hidden_from(actor, row.enterprise_id, compiled) - own
        meta = compiled.human_tasks.get((spiff_task.workflow.spec.name, spiff_task.task_spec.name)) \
            if spiff_task else None
        return {
            "id": task_id, "element_id": row.element_id, "name": meta.name if meta else row.element_id,
            "state": row.task_state, "role": row.role, "org": org, "assignee_id": row.assignee_id,
            "form": row.form, "schema": form.schema if form else None, "ui_schema": form.ui_schema if form else None,
            "data": history.masked_data(json.loads(json.dumps(spiff_task.data, default=str)), hidden)
            if spiff_task else {},
            "instance": {"id": row.id, "case_number": row.case_number, "process_key": row.process_key,
                         "version": version_no, "status": row.status},
        }


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


def _timer_outcome(workflow: Any, task_id: str) -> str:
    """A timer that left the waiting set either fired (its task completed) or was cancelled with its scope."""
    task = workflow.get_task_from_id(UUID(task_id))
    return "fired" if task is not None and task.state == TaskState.COMPLETED else "cancelled"


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
