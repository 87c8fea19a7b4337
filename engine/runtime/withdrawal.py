"""撤回 withdraw: the applicant ends its own application, or asks the office to let it (行政许可法 art. 36 ff.).

Before any office has accepted the case the applicant withdraws it outright; once it is accepted (an element
with the `accepts` property completed — 受理, 视为受理, 容缺受理 — or, in a process that marks none, once an
office's task was done) it may only ask, and the office holding the case decides: granted, the case is
withdrawn; refused, it goes on, with the office's reason told to the applicant. Once the case is decided
(its outcome set) neither is possible. A withdrawn case ends `completed` with the outcome `withdrawn`: its
workflow is cancelled — open tasks, timers and service attempts with it, which stops the SLA clocks that run
on open tasks — and whoever was offered one of its tasks is told. Each of the three is one step written by
the runtime's commit path (engine/runtime/commit.py): one transaction, guarded by the case's version, so a
request cannot be granted twice nor race the decision.

A pending request is what the case's history says: the last of its withdrawal events is a request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.task import TaskState
from sqlalchemy import Connection, Row, select

from engine.base.errors import Conflict, Forbidden
from engine.base.notice import Notice
from engine.base.vocabulary import EventKind, InstanceStatus, NoticeKind, OrgKind, Outcome
from engine.bpmn.services import RoleNotice
from engine.bpmn.stepping import Snapshot, Step, element_of
from engine.definitions.compiler import CompiledProcess
from engine.people.access import APPLICANT, Actor, may_decide_withdrawal, may_withdraw
from engine.runtime.reasons import checked_reason
from engine.runtime.views import InstanceView
from engine.store import statements
from engine.store.models import Event, User

if TYPE_CHECKING:
    from engine.runtime.runtime import Runtime

#: the events that open or close a withdrawal request, newest last
_REQUEST_EVENTS = (EventKind.WITHDRAWAL_REQUESTED, EventKind.WITHDRAWAL_REFUSED, EventKind.WITHDRAWN)


@dataclass(frozen=True)
class CaseNotice(RoleNotice):
    """A notice about the case as a whole (withdrawn, a request, its decision, a return), to a role's holders."""

    kind: str = NoticeKind.CASE_WITHDRAWN

    def notice(self, instance_id: int) -> Notice:
        return Notice(self.kind, f"{self.kind}:{self.task_id}", self.text_zh, self.text_en, instance_id)


@dataclass(frozen=True)
class WithdrawalState:
    """What the case page offers about withdrawal to the one asking."""

    #: "withdraw" (not accepted yet), "request" (accepted, undecided) or None (decided, ended, or not theirs)
    mode: str | None
    #: the pending request: reason, by (username), at (ISO time); None when there is none
    pending: dict[str, Any] | None
    #: whether the one asking holds the case and so decides the pending request
    may_decide: bool

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "pending": self.pending, "may_decide": self.may_decide}


def accepted(workflow: BpmnWorkflow, compiled: CompiledProcess) -> bool:
    """Whether an office has accepted the case: an `accepts` element completed; in a process that marks none,
    a task of an office (not the enterprise's own) was completed."""
    done = workflow.get_tasks(state=TaskState.COMPLETED)
    if compiled.acceptance_elements:
        return any(element_of(t) in compiled.acceptance_elements for t in done)
    for task in done:
        meta = compiled.human_tasks.get((task.workflow.spec.name, task.task_spec.name))
        if meta is not None and meta.role is not None and meta.role.org_kind != OrgKind.ENTERPRISE:
            return True
    return False


def pending_request(conn: Connection, instance_id: int) -> dict[str, Any] | None:
    """The open request to withdraw (reason, by, at), when the last withdrawal event of the case is one."""
    last = conn.execute(select(Event.kind, Event.at, Event.detail, User.username)
                        .outerjoin(User, User.id == Event.user_id)
                        .where(Event.instance_id == instance_id, Event.kind.in_(_REQUEST_EVENTS))
                        .order_by(Event.id.desc()).limit(1)).first()
    if last is None or last.kind != EventKind.WITHDRAWAL_REQUESTED:
        return None
    return {"reason": (last.detail or {}).get("reason"), "by": last.username, "at": last.at.isoformat()}


def state(rt: Runtime, ref: int | str, actor: Actor) -> WithdrawalState:
    """What `actor` may do about withdrawing the case `ref` (one it may see; else NotFound)."""
    with rt.db.reading() as conn:
        row, _, compiled = rt._load(conn, ref, actor)
        with rt._looking_at(row, compiled) as workflow:
            return describe(conn, row, compiled, workflow, actor)


def describe(conn: Connection, row: Row[Any], compiled: CompiledProcess, workflow: BpmnWorkflow,
             actor: Actor) -> WithdrawalState:
    """`state` of a case already read (its row and workflow): what the case page shows, from the page's one read."""
    pending = pending_request(conn, row.id) if _undecided(row) else None
    mode = None
    if may_withdraw(actor, row.enterprise_id) and _undecided(row) and pending is None:
        mode = "request" if accepted(workflow, compiled) else "withdraw"
    may_decide = pending is not None and may_decide_withdrawal(actor, statements.open_tasks(conn, row.id))
    return WithdrawalState(mode, pending, may_decide)


def withdraw(rt: Runtime, ref: int | str, reason: Any, actor: Actor) -> tuple[InstanceView, bool]:
    """The applicant withdraws its case, or asks to once it is accepted; (the case, whether it was withdrawn)."""
    reason = checked_reason(reason)
    with rt.db.reading() as conn:
        row, version_no, compiled = rt._load(conn, ref, actor)
        open_rows = statements.open_tasks(conn, row.id)
        pending = pending_request(conn, row.id)
        offered = _offered(rt, conn, open_rows)
    if not may_withdraw(actor, row.enterprise_id):
        raise Forbidden("仅提交办件的企业申请人可撤回 (only the filing enterprise's applicants may withdraw)")
    _check_undecided(row)
    if pending is not None:
        raise Conflict("已申请撤回，等待受理部门决定 (a request to withdraw awaits the office's decision)")
    workflow = rt._workflow(row, compiled)
    before = _derived(Snapshot.of(workflow), open_rows)
    if accepted(workflow, compiled):
        events = [{"kind": EventKind.WITHDRAWAL_REQUESTED, "detail": {"reason": reason}}]
        notices = _told(offered, row, NoticeKind.WITHDRAWAL_REQUESTED,
                        f"办件 {row.case_number} 的申请人申请撤回，请决定：{reason}",
                        f"The applicant asks to withdraw case {row.case_number}; please decide: {reason}")
        step = Step(workflow, InstanceStatus.RUNNING, events, notices=notices)
        return rt._commit(row, compiled, version_no, step, actor, before), False
    step = _withdrawn(workflow, row, offered, {"reason": reason})
    return rt._commit(row, compiled, version_no, step, actor, before), True


def decide(rt: Runtime, ref: int | str, grant: bool, reason: Any, actor: Actor) -> InstanceView:
    """The office holding the case grants (case withdrawn) or refuses (it goes on) the applicant's request.
    A refusal needs the office's reason; a grant records the applicant's, and the office's when given."""
    opinion = checked_reason(reason) if not grant or (isinstance(reason, str) and reason.strip()) else None
    with rt.db.reading() as conn:
        row, version_no, compiled = rt._load(conn, ref, actor)
        open_rows = statements.open_tasks(conn, row.id)
        pending = pending_request(conn, row.id)
        offered = _offered(rt, conn, open_rows)
        enterprise = rt.orgs.code(conn, row.enterprise_id)
    _check_undecided(row)
    if pending is None:
        raise Conflict("没有待决定的撤回申请 (there is no pending request to withdraw)")
    if not may_decide_withdrawal(actor, open_rows):
        raise Forbidden("仅当前办理该件的部门可决定撤回申请 (only the office holding the case decides)")
    workflow = rt._workflow(row, compiled)
    before = _derived(Snapshot.of(workflow), open_rows)
    applicant = [(APPLICANT, enterprise, f"applicant:{row.version}")] if enterprise else []
    detail = {"reason": pending["reason"], "requested_by": pending["by"], "opinion": opinion}
    if grant:
        step = _withdrawn(workflow, row, offered + applicant, {**detail, "granted": True})
    else:
        notices = _told(applicant, row, NoticeKind.WITHDRAWAL_DECIDED,
                        f"办件 {row.case_number} 的撤回申请未获同意，继续办理：{opinion}",
                        f"Your request to withdraw case {row.case_number} was refused; it goes on: {opinion}")
        step = Step(workflow, InstanceStatus.RUNNING, [{"kind": EventKind.WITHDRAWAL_REFUSED, "detail": detail}],
                    notices=notices)
    return rt._commit(row, compiled, version_no, step, actor, before)


def _withdrawn(workflow: BpmnWorkflow, row: Row[Any], told: list[tuple[str, str | None, str]],
               detail: dict[str, Any]) -> Step:
    """The step that ends the case as withdrawn: everything open cancelled, the offered told."""
    workflow.cancel()
    events = [{"kind": EventKind.WITHDRAWN, "detail": detail},
              {"kind": EventKind.ENDED, "detail": {"outcome": InstanceStatus.COMPLETED}}]
    notices = _told(told, row, NoticeKind.CASE_WITHDRAWN, f"办件 {row.case_number} 已撤回，无需再办理",
                    f"Case {row.case_number} was withdrawn; nothing more to do on it")
    return Step(workflow, InstanceStatus.COMPLETED, events, notices=notices, outcome=Outcome.WITHDRAWN)


def _offered(rt: Runtime, conn: Connection, open_rows: list[dict[str, Any]]) -> list[tuple[str, str | None, str]]:
    """(role, organisation code, task id) of each open task: whoever it is offered to (its assignee among them)."""
    return [(t["role"], rt.orgs.code(conn, t["org_id"]), t["id"]) for t in open_rows if t["role"]]


def _told(whom: list[tuple[str, str | None, str]], row: Row[Any], kind: NoticeKind, zh: str,
          en: str) -> list[RoleNotice]:
    """One notice per (role, organisation), subject unique per step (the case's version) so a second request is
    told again."""
    seen: dict[tuple[str, str | None], str] = {}
    for role, org, task in whom:
        seen.setdefault((role, org), task)
    return [CaseNotice(role, org, zh, en, f"{row.id}:{row.version}:{task}", kind)
            for (role, org), task in seen.items()]


def _derived(before: Snapshot, open_rows: list[dict[str, Any]]) -> Snapshot:
    """The snapshot restricted to ready tasks that have rows (one that could not be derived has none to cancel)."""
    with_rows = {r["id"] for r in open_rows}
    return Snapshot({k: t for k, t in before.tasks.items() if k in with_rows}, before.timers, before.retries,
                    before.messages)


def _undecided(row: Row[Any]) -> bool:
    return row.status == InstanceStatus.RUNNING and row.outcome is None


def _check_undecided(row: Row[Any]) -> None:
    """行政许可法 allows withdrawal until the decision: a decided, ended or stopped case cannot be withdrawn."""
    if row.outcome is not None:
        raise Conflict(f"办件已作出决定（{row.outcome}），不能撤回 (the case is decided: {row.outcome})")
    if row.status != InstanceStatus.RUNNING:
        raise Conflict(f"办件当前状态为 {row.status}，不能撤回 (cannot withdraw a {row.status} case)")

