"""退回 return: an approver sends the case back to an earlier user task on the path it actually took.

The targets come from the workflow's own task tree: walking up from the task being returned through its
ancestors (into the parent process when it sits in a subprocess), each completed user task is one — the
nearest completion of each element — except
- a parallel region the walk passes from its join back to its split (the branches of a join are not the
  path of the task after it: returning into one of them would leave the others done and the join confused);
- beyond an element that decided the case (its `outcome`): a decision taken is not undone by a return;
- nothing while someone added to the task (加签, 委派) has yet to act, see `NOT_WHILE_SIGNING`;
- a task whose designer forbade it (`allowReturnTo="false"`), and none at all from a task with
  `allowReturnFrom="false"`.
The applicant's start event is one of them when it has a form (engine/definitions/compiler.py
`_applicants_step`): returned to, it waits for the applicant, who edits its original submission on the start form
and resubmits it — the case goes on from the start event, its automatic steps (registration) run again.
The return itself is SpiffWorkflow's own reset (`BpmnWorkflow.reset_from_task_id`): the target's branch is
dropped and it becomes ready again with the case's current data (what the returning task holds), so the
steps in between are done again; their task rows are cancelled and the target gets a new row whose deadline
is computed anew by the commit path. One step, one transaction (engine/runtime/commit.py).
"""

from __future__ import annotations

from copy import deepcopy
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.mixins.inclusive_gateway import InclusiveGateway
from SpiffWorkflow.bpmn.specs.mixins.parallel_gateway import ParallelGateway
from SpiffWorkflow.task import Task, TaskState
from sqlalchemy import Connection, select

from engine.base.errors import Conflict, Forbidden, FormInvalid
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus, NoticeKind
from engine.bpmn.stepping import Snapshot, element_of
from engine.definitions.compiler import CompiledProcess
from engine.people.access import Actor, may_return
from engine.runtime.reasons import checked_reason
from engine.runtime.signers import has_open
from engine.runtime.views import InstanceView
from engine.runtime.withdrawal import CaseNotice
from engine.store.models import HumanTask

if TYPE_CHECKING:
    from engine.runtime.runtime import Runtime

#: 退回 is the holder's decision, taken once everyone added to the task has acted: never the delegate's while it is
#: entrusted, nor over the heads of open co-signers or a submission held for them (the commit path would cancel them)
NOT_WHILE_SIGNING = ("尚有加签人未签署或委派未交回，不能退回：请先减签或等待 "
                     "(co-signers have not signed or the task is entrusted: remove them or wait, then return)")


@dataclass(frozen=True)
class ReturnTarget:
    """An earlier user task the case may be sent back to (its element, as the select on the task page lists)."""

    element_id: str
    name: str
    role: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"element_id": self.element_id, "name": self.name, "role": self.role}


def targets(rt: Runtime, task_id: str, actor: Actor) -> list[ReturnTarget]:
    """Where the task `task_id` (one the actor may see) may send its case back to, nearest first; empty when the
    actor may not return it or the case is not running."""
    with rt.db.reading() as conn:
        row, _, compiled = rt._load_task(conn, task_id, actor)
        if has_open(conn, task_id):
            return []
    with rt._looking_at(row, compiled) as workflow:
        return targets_of(row, compiled, workflow.get_task_from_id(UUID(task_id)), actor)


def targets_of(row: Any, compiled: CompiledProcess, task: Task | None, actor: Actor) -> list[ReturnTarget]:
    """`targets` of a task already read (its row with the instance's, its workflow task): for the task page."""
    if not _returnable(row, actor):
        return []
    return [_target(t, compiled) for t in _earlier(task, compiled)]


def send_back(rt: Runtime, task_id: str, target: Any, reason: Any, actor: Actor) -> InstanceView:
    """Return the case of task `task_id` to the earlier user task `target` (an element id), with a reason."""
    reason = checked_reason(reason)
    with rt.db.reading() as conn:
        row, version_no, compiled = rt._load_task(conn, task_id, actor)
        done_by = _done_by(rt, conn, row.id)
        if compiled.start_event and compiled.start_role:  # the applicant's own step has no task row: its starter
            done_by[compiled.start_event] = (compiled.start_role.code, rt.orgs.code(conn, row.enterprise_id))
        added_open = has_open(conn, task_id)
    if row.task_state != HumanTaskState.READY:
        raise Conflict(f"任务已{'完成' if row.task_state == HumanTaskState.COMPLETED else '取消'}，不能退回 "
                       f"(task is already {row.task_state})")
    if row.status != InstanceStatus.RUNNING:
        raise Conflict(f"办件当前状态为 {row.status}，不能退回 (cannot return a {row.status} case)")
    if not may_return(actor, row.role, row.org_id, row.assignee_id):
        raise Forbidden("仅可办理该任务的审批人可退回 (only an approver who may do this task may return it)")
    if added_open:
        raise Conflict(NOT_WHILE_SIGNING)
    workflow = rt._workflow(row, compiled)
    before = Snapshot.of(workflow)
    current = before.tasks.get(task_id)
    if current is None:
        raise Conflict("任务状态已变化，请刷新 (task is no longer ready; reload)")
    chosen = next((t for t in _earlier(current, compiled) if element_of(t) == target), None)
    if chosen is None:
        raise FormInvalid("不能退回到该步骤：办件未经过、禁止退回或已作出决定 "
                          "(not a step this case may be returned to: never passed, forbidden by the process, "
                          "or beyond a decision)",
                          {"/target": ["not a return target of this task"]})
    to, came_from = _target(chosen, compiled), _target(current, compiled)
    workflow.reset_from_task_id(chosen.id, data=deepcopy(current.data))
    _forget_dropped(workflow)
    _renumbered(chosen)
    events = [{"kind": EventKind.RETURNED, "task_id": task_id, "element_id": row.element_id,
               "detail": {"from": came_from.element_id, "from_name": came_from.name, "to": to.element_id,
                          "to_name": to.name, "reason": reason}}]
    step = rt._automatic_steps(workflow, events)
    if to.element_id in done_by:
        step.notices.append(_told(row, to, done_by[to.element_id], reason))
    return rt._commit(row, compiled, version_no, step, actor, before)


def loops(events: list[dict[str, Any]]) -> dict[str, list[str]]:
    """The returns a case's history holds, for its diagram: the steps sent back from and those reopened (the
    reset drops the completed steps in between from the workflow, so only the history still shows the loop)."""
    done = [e["detail"] or {} for e in events if e["kind"] == EventKind.RETURNED]
    return {"returned_from": sorted({d["from"] for d in done if "from" in d}),
            "returned_to": sorted({d["to"] for d in done if "to" in d})}


def _returnable(row: Any, actor: Actor) -> bool:
    return (row.task_state == HumanTaskState.READY and row.status == InstanceStatus.RUNNING
            and may_return(actor, row.role, row.org_id, row.assignee_id))


def _earlier(task: Task | None, compiled: CompiledProcess) -> list[Task]:
    """The completed user tasks `task` may return to (see the module docstring), nearest first."""
    if task is None or not _meta_allows(task, compiled, "return_from"):
        return []
    found: dict[str, Task] = {}
    depth, node = 0, _up(task)
    while node is not None:
        if element_of(node) in compiled.outcome_elements and node.state == TaskState.COMPLETED:
            break  # the case was decided here: nothing before it may be reopened
        if _gateway(node, "inputs"):
            depth += 1
        elif _gateway(node, "outputs") and depth:
            depth -= 1
        elif (depth == 0 and node.state == TaskState.COMPLETED and element_of(node) not in found
              and _meta_allows(node, compiled, "return_to")):
            found[element_of(node)] = node
        node = _up(node)
    return list(found.values())


def _forget_dropped(workflow: Any) -> None:
    """Spiff's reset drops the branch but leaves its waiting catch events (a boundary timer of a task in it, e.g.
    ZZS 预审's deemed acceptance) registered with the event manager, which would update them, parentless, on the
    next `refresh_timers`: they go with their branch."""
    manager = workflow.event_manager
    for task_id, task in list(manager.tasks.items()):
        if task.workflow.tasks.get(task_id) is not task:
            manager.remove_task(task)


def _renumbered(task: Task) -> None:
    """Give the reset task (and the boundary events reset with it) fresh ids: Spiff reuses the completed task's
    id, but each occurrence of a step is a row of its own (the first one stays completed, by whom it was done;
    a boundary timer gets a new timer row), as a loop through the same element would have made it."""
    split = task.parent
    reset = split.children if isinstance(split.task_spec, BoundaryEventSplit) else [task]
    for one in reset:
        old, tasks = one.id, one.workflow.tasks
        del tasks[old]
        one.id = uuid4()
        tasks[one.id] = one
        # the tree links tasks by id (Task.parent/children read them from workflow.tasks): relink both ways
        split._children = [one.id if c == old else c for c in split._children]
        for child in one.children:
            child._parent = one.id


def _up(task: Task) -> Task | None:
    """The task before `task` on its path: its parent, or the subprocess task that started its workflow."""
    if task.parent is not None:
        return task.parent
    parent_id = task.workflow.parent_task_id
    return task.workflow.top_workflow.get_task_from_id(parent_id) if parent_id is not None else None


def _gateway(task: Task, side: str) -> bool:
    """A parallel or inclusive gateway joining (`inputs`) or splitting (`outputs`) several flows."""
    spec = task.task_spec
    return isinstance(spec, ParallelGateway | InclusiveGateway) and len(getattr(spec, side)) > 1


def _meta_allows(task: Task, compiled: CompiledProcess, flag: str) -> bool:
    meta = compiled.human_tasks.get((task.workflow.spec.name, task.task_spec.name))
    return meta is not None and getattr(meta, flag)


def _target(task: Task, compiled: CompiledProcess) -> ReturnTarget:
    meta = compiled.human_tasks[(task.workflow.spec.name, task.task_spec.name)]
    return ReturnTarget(element_of(task), meta.name, meta.role.code if meta.role else None)


def _done_by(rt: Runtime, conn: Connection, instance_id: int) -> dict[str, tuple[str, str | None]]:
    """(role, organisation code) each element's latest completed task row was offered to: who is told when the
    case comes back to that step."""
    rows = conn.execute(select(HumanTask.element_id, HumanTask.role, HumanTask.org_id)
                        .where(HumanTask.instance_id == instance_id, HumanTask.state == HumanTaskState.COMPLETED,
                               HumanTask.role.is_not(None))
                        .order_by(HumanTask.created_at)).all()
    return {r.element_id: (r.role, rt.orgs.code(conn, r.org_id)) for r in rows}


def _told(row: Any, to: ReturnTarget, offered: tuple[str, str | None], reason: str) -> CaseNotice:
    """Whoever did the reopened step before is told it came back, and why."""
    return CaseNotice(offered[0], offered[1], f"办件 {row.case_number} 被退回至“{to.name}”，请重新办理：{reason}",
                      f"Case {row.case_number} was returned to “{to.name}”; please do it again: {reason}",
                      f"{row.id}:{row.version}:{to.element_id}", NoticeKind.CASE_RETURNED)
