"""加签 / 减签 and 委派 on an open task: people added to someone else's task, and what they must do before it moves.

- 前加签 (会签, `before`): every co-signer gives an opinion (agree / disagree) before the holder may complete, and
  all must agree: a co-signer who disagreed keeps the task from completing (409) until it agrees when the holder
  asks it again (a new row: `add_signers` once more, after changing what it objected to), or the holder returns
  the case (退回) — the disagreement stays in the record and the 审批流水 either way.
- 后加签 (`after`): the holder submits; its submission is checked against the form and *held* (held_submissions),
  the task stays open in the workflow, and the added signers sign one after the other, each seeing the opinions
  before it.  When the last agrees, the held submission is completed in the workflow as the holder's — so the
  process (gateways, documents, deadlines) sees one completion by the person responsible for the step, never a
  half-signed one.  A disagreement gives the task back to the holder (the held submission is dropped).
- 委派 (`delegate`): the delegate becomes the assignee, fills the form or gives an opinion, and gives the task
  back; the delegator completes it, seeing what the delegate did.  Unlike 转办 (engine/people/assignment.py) the
  task comes back.

Whom one may add or delegate to without anyone's leave is `access.in_lane` (the task's role, in its
organisation: the same colleagues 转办 offers).  A co-signer outside the lane is *proposed* and waits until a
supervisor (`access.may_approve_signer`) approves it.  Every change is one transaction with its history event and
notices; the signer rows stay as the task's signing record.  A task that stops being open otherwise (withdrawn,
terminated, returned, cancelled by a boundary event) has its open rows `cancelled` and its held submission dropped
by the step that cancels it (engine/store/statements.py `close_signers`, from the commit path).  Applying a held
submission is the holder's workflow step, written by the runtime's one commit path after the last signature's own
transaction: if that step fails (the case moved on meanwhile) the signatures stand and the held submission stays
for the holder to complete.

Concurrency: every change here begins by locking the task's row (`_task`), so changes to one task's signers
happen one after the other, and the loser of a race finds the state the winner left (409: already signed,
removed, the task closed).  A completion writes the task's row in its step and then asks again whether anyone
added to it has yet to act (engine/store/statements.py `SIGNING_HOLDS`): a signer added after the completion
read the task, but committed before it, makes the completion 409 — no task is completed with an open signer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.orm import Session

from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.notice import Notice
from engine.base.vocabulary import (
    OPEN_SIGNER_STATES,
    EventKind,
    HumanTaskState,
    InstanceStatus,
    NoticeKind,
    SignerKind,
    SignerState,
)
from engine.case.notifications import holders, raise_notice
from engine.people.access import (
    ADMIN,
    SIGNER_SEES,
    SUPERVISORS,
    Actor,
    can_see_task,
    holds_task,
    in_lane,
    may_approve_signer,
)
from engine.people.accounts import load_actor
from engine.runtime.reasons import checked_reason
from engine.store.db import Database
from engine.store.models import Event, HeldSubmission, HumanTask, Instance, TaskSigner, User

if TYPE_CHECKING:
    from engine.runtime.runtime import Runtime

#: at most this many people asked at once, and open on one task (a task is not a mailing list)
MAX_SIGNERS = 20
OPEN = OPEN_SIGNER_STATES
DECISIONS = {"agree": SignerState.AGREED, "disagree": SignerState.DISAGREED}
_DECISION_LABELS = {"agree": "加签同意 (agreed)", "disagree": "加签不同意 (disagreed)"}
_MODE_ZH = {SignerKind.BEFORE: "会签", SignerKind.AFTER: "后加签", SignerKind.DELEGATE: "委派"}


@dataclass(frozen=True)
class OpenTask:
    """The task being worked on, with what notices and checks need of its case."""

    id: str
    instance_id: int
    case_number: str
    name: str
    element_id: str
    role: str | None
    org_id: int | None
    assignee_id: int | None


# -- reading ------------------------------------------------------------------------------------------------------
def sees_as_signer(conn: Session | Connection, task_id: str, actor: Actor) -> bool:
    """The actor was added to this task (co-signer or delegate) and may read it (`access.SIGNER_SEES`)."""
    return (conn.scalar(select(func.count()).select_from(TaskSigner).where(
        TaskSigner.task_id == task_id, TaskSigner.user_id == actor.id, TaskSigner.state.in_(SIGNER_SEES))) or 0) > 0


def has_open(conn: Session | Connection, task_id: str) -> bool:
    """Someone added to the task has yet to act (or a proposal waits): `Runtime.complete` then asks `hold_back`."""
    return conn.scalar(select(TaskSigner.id).where(TaskSigner.task_id == task_id, TaskSigner.state.in_(OPEN))
                       .limit(1)) is not None


def _task(session: Session, task_id: str, actor: Actor | None, lock: bool = True) -> OpenTask:
    """The open task, if `actor` may see it (None: the caller was authorised otherwise); `lock` takes its row
    for the transaction (PostgreSQL: FOR UPDATE; SQLite's BEGIN IMMEDIATE already lets one writer in)."""
    query = (select(HumanTask, Instance.case_number, Instance.status)
             .join(Instance, Instance.id == HumanTask.instance_id).where(HumanTask.id == task_id))
    row = session.execute(query.with_for_update(of=HumanTask) if lock else query).first()
    if row is None:
        raise NotFound(f"任务不存在 (no task {task_id})")
    task, case_number, status = row
    if actor is not None and not (can_see_task(actor, task.role, task.org_id, task.assignee_id)
                                  or sees_as_signer(session, task_id, actor)):
        raise NotFound(f"任务不存在 (no task {task_id})")
    if task.state != HumanTaskState.READY or status != InstanceStatus.RUNNING:
        raise Conflict("任务已不可办理 (task is no longer open)")
    return OpenTask(task.id, task.instance_id, case_number, task.name, task.element_id, task.role, task.org_id,
                    task.assignee_id)


def _rows(session: Session, task_id: str) -> list[TaskSigner]:
    return list(session.scalars(select(TaskSigner).where(TaskSigner.task_id == task_id).order_by(TaskSigner.id)))


def _open_delegation(rows: list[TaskSigner]) -> TaskSigner | None:
    return next((r for r in rows if r.kind == SignerKind.DELEGATE and r.state == SignerState.PENDING), None)


def _view(row: TaskSigner, names: dict[int, tuple[str, str]]) -> dict[str, Any]:
    user, display = names.get(row.user_id, ("", ""))
    return {"id": row.id, "kind": row.kind, "seq": row.seq, "user": user, "display_name": display,
            "state": row.state, "reason": row.reason, "opinion": row.opinion, "data": row.data,
            "added_by": names.get(row.added_by, ("", ""))[0],
            "decided_by": names[row.decided_by][0] if row.decided_by in names else None,
            "created_at": row.created_at, "acted_at": row.acted_at}


def _names(session: Session, ids: set[int]) -> dict[int, tuple[str, str]]:
    found = session.execute(select(User.id, User.username, User.display_name).where(User.id.in_(ids)))
    return {i: (u, d or u) for i, u, d in found}


def signing(db: Database, task_id: str, actor: Actor) -> dict[str, Any]:
    """The task's signing record as its holder, its signers and whoever sees the task read it: every signer with
    its opinion, the held submission (后加签), the 会签 co-signers whose disagreement holds the task, and what
    the actor may do now."""
    with db.read() as session:
        task = session.get(HumanTask, task_id)
        if task is None or not (can_see_task(actor, task.role, task.org_id, task.assignee_id)
                                or sees_as_signer(session, task_id, actor)):
            raise NotFound(f"任务不存在 (no task {task_id})")
        rows = _rows(session, task_id)
        held = session.get(HeldSubmission, task_id)
        names = _names(session, {r.user_id for r in rows} | {r.added_by for r in rows}
                       | {r.decided_by for r in rows if r.decided_by})
        mine = next((r for r in rows if r.user_id == actor.id and r.state == SignerState.PENDING
                     and r.kind != SignerKind.DELEGATE), None)
        delegation = _open_delegation(rows)
        is_open = task.state == HumanTaskState.READY
        dissent = _dissent(rows)
        return {
            "dissent": sorted(names[u][0] for u in dissent) if is_open else [],
            "signers": [_view(r, names) for r in rows if r.kind != SignerKind.DELEGATE],
            "delegations": [_view(r, names) for r in rows if r.kind == SignerKind.DELEGATE],
            "held": {"data": held.data, "held_at": held.held_at} if held is not None else None,
            "holder": is_open and delegation is None and holds_task(actor, task.role, task.org_id, task.assignee_id),
            "my_turn": mine.kind if is_open and mine is not None else None,
            "returned": next((r.data for r in reversed(rows) if r.kind == SignerKind.DELEGATE
                              and r.state == SignerState.RETURNED), None) if is_open else None,
        }


def proposals(db: Database, actor: Actor) -> list[dict[str, Any]]:
    """Outside signers waiting for a supervisor's decision, oldest first (supervisors only; others see none)."""
    if not may_approve_signer(actor):
        return []
    with db.read() as session:
        rows = list(session.scalars(select(TaskSigner).where(TaskSigner.state == SignerState.PROPOSED)
                                    .order_by(TaskSigner.id).limit(200)))
        names = _names(session, {r.user_id for r in rows} | {r.added_by for r in rows})
        cases = dict(session.execute(select(Instance.id, Instance.case_number)
                                     .where(Instance.id.in_({r.instance_id for r in rows}))).all())
        tasks = dict(session.execute(select(HumanTask.id, HumanTask.name)
                                     .where(HumanTask.id.in_({r.task_id for r in rows}))).all())
        return [{**_view(r, names), "task_id": r.task_id, "task_name": tasks.get(r.task_id),
                 "case_number": cases.get(r.instance_id)} for r in rows]


# -- writing ------------------------------------------------------------------------------------------------------
def _event(session: Session, task: OpenTask, kind: str, actor: Actor, detail: dict[str, Any]) -> None:
    session.execute(insert(Event).values(instance_id=task.instance_id, at=now(), kind=kind, task_id=task.id,
                                         element_id=task.element_id, user_id=actor.id, detail=detail))


def _notify(session: Session, task: OpenTask, kind: str, subject: str, user_ids: list[int], zh: str, en: str) -> None:
    raise_notice(session.connection(), Notice(kind, subject, f"{zh}：{task.name}（{task.case_number}）",
                                              f"{en}: {task.name} ({task.case_number})", task.instance_id, task.id),
                 user_ids)


def _ask(session: Session, task: OpenTask, row: TaskSigner) -> None:
    """The signer's turn: its notice (its inbox lists the task from now on)."""
    _notify(session, task, NoticeKind.COSIGN_REQUESTED, f"signer:{row.id}", [row.user_id],
            f"请{_MODE_ZH[SignerKind(row.kind)]}", "Your signature is asked" if row.kind != SignerKind.DELEGATE
            else "A task was entrusted to you")


def _take_hold(session: Session, task: OpenTask, actor: Actor) -> OpenTask:
    """The actor must hold the task; an unclaimed task it could claim is claimed on the way (recorded as such)."""
    if not holds_task(actor, task.role, task.org_id, task.assignee_id):
        raise Forbidden("只有任务的办理人可以加签或委派 (only the task's holder may add signers or delegate it)")
    if task.assignee_id is None:
        done = session.execute(update(HumanTask).where(HumanTask.id == task.id, HumanTask.assignee_id.is_(None))
                               .values(assignee_id=actor.id))
        if done.rowcount != 1:
            raise Conflict("任务已被他人认领 (the task was claimed by someone else; reload)")
        _event(session, task, EventKind.TASK_CLAIMED, actor, {})
        return OpenTask(**{**task.__dict__, "assignee_id": actor.id})
    return task


def _refuse_busy(session: Session, task: OpenTask, rows: list[TaskSigner]) -> None:
    if _open_delegation(rows) is not None:
        raise Conflict("任务已委派，须待受托人交回 (the task is entrusted to someone; wait until it comes back)")
    if session.get(HeldSubmission, task.id) is not None:
        raise Conflict("已提交，正等待后加签人签署 (submitted: the added signers are signing)")


def _person(session: Session, username: str, field: str) -> Actor:
    try:
        return load_actor(session, username)
    except NotFound:
        raise NotFound(f"用户不存在 (no active user {username!r})", {field: [f"unknown user {username}"]}) from None


def add_signers(db: Database, task_id: str, usernames: list[str], kind: SignerKind, reason: Any,
                actor: Actor, ask_approval: bool = False) -> dict[str, Any]:
    """加签: co-signers before (会签) or after (后加签) the holder, with why they are asked (required, see
    `checked_reason`).  Someone outside the task's lane is refused unless `ask_approval`, which proposes it to the
    supervisors (a supervisor adding one approves it at once)."""
    reason = checked_reason(reason)
    if kind not in (SignerKind.BEFORE, SignerKind.AFTER):
        raise FormInvalid("加签方式只能是 before 或 after (mode must be before or after)", {"/mode": ["before|after"]})
    wanted = list(usernames)
    if twice := next((i for i, name in enumerate(wanted) if name in wanted[:i]), None):
        raise FormInvalid(f"{wanted[twice]} 重复 ({wanted[twice]} is listed twice)", {f"/users/{twice}": ["twice"]})
    if not wanted or len(wanted) > MAX_SIGNERS:
        raise FormInvalid(f"请选择 1 至 {MAX_SIGNERS} 位加签人 (choose 1 to {MAX_SIGNERS} signers)",
                          {"/users": [f"1 to {MAX_SIGNERS} users"]})
    with db.write() as session:
        task = _take_hold(session, _task(session, task_id, actor), actor)
        rows = _rows(session, task_id)
        _refuse_busy(session, task, rows)
        active = {r.user_id for r in rows if r.state in OPEN}
        if len(active) + len(wanted) > MAX_SIGNERS:
            raise Conflict(f"一个任务最多 {MAX_SIGNERS} 位未签署的加签人 (at most {MAX_SIGNERS} open signers per task)",
                           {"/users": ["too many open signers"]})
        seq = max((r.seq for r in rows if r.kind == SignerKind.AFTER), default=0)
        added, outside = [], []
        for index, username in enumerate(wanted):
            field = f"/users/{index}"
            person = _person(session, username, field)
            if person.id == actor.id:
                raise FormInvalid("不能给自己加签 (you cannot add yourself)", {field: ["yourself"]})
            if person.id in active:
                raise Conflict(f"{username} 已是加签人 ({username} is already an open signer)", {field: ["already"]})
            approved = in_lane(person, task.role, task.org_id) or may_approve_signer(actor)
            if not approved and not ask_approval:
                raise Forbidden(f"{username} 不在本任务的办理范围内，须经主管批准 ({username} is outside the task's "
                                f"roles and organisation: ask a supervisor's approval)", {field: ["outside the lane"]})
            if not in_lane(person, task.role, task.org_id):
                outside.append(username)
            seq += kind == SignerKind.AFTER
            state = (SignerState.PROPOSED if not approved else
                     SignerState.PENDING if kind == SignerKind.BEFORE else SignerState.WAITING)
            row = TaskSigner(task_id=task.id, instance_id=task.instance_id, kind=kind,
                             seq=seq if kind == SignerKind.AFTER else 0, user_id=person.id, added_by=actor.id,
                             state=state, reason=reason, created_at=now(),
                             decided_by=actor.id if approved and username in outside else None)
            session.add(row)
            session.flush()
            added.append(row)
        _event(session, task, EventKind.SIGNERS_ADDED, actor, {"mode": kind, "users": wanted, "reason": reason,
                                                               "outside": outside})
        for row in added:
            if row.state == SignerState.PENDING:
                _ask(session, task, row)
        if any(r.state == SignerState.PROPOSED for r in added):
            supervisors = sorted({u for role in SUPERVISORS - {ADMIN} for u in holders(session.connection(), role)})
            _notify(session, task, NoticeKind.COSIGN_APPROVAL, f"signers:{task.id}:{added[0].id}", supervisors,
                    "加签人待批准", "An outside signer waits for your approval")
    return signing(db, task_id, actor)


def decide(db: Database, signer_id: int, approve: bool, reason: Any, actor: Actor) -> dict[str, Any]:
    """A supervisor lets an outside signer in (it is then asked like one in the lane) or refuses it, saying why
    (required to refuse, see `checked_reason`); returns the decided proposal (the supervisor need not see the task
    itself)."""
    if not may_approve_signer(actor):
        raise NotFound(f"加签申请不存在 (no signer proposal {signer_id})")
    reason = checked_reason(reason) if not approve or reason is not None else None  # a refusal says why
    with db.write() as session:
        row = session.get(TaskSigner, signer_id)
        if row is None:
            raise NotFound(f"加签申请不存在 (no signer proposal {signer_id})")
        if row.state != SignerState.PROPOSED:
            raise Conflict("加签申请已被处理 (the proposal was decided meanwhile)")
        task = _task(session, row.task_id, None)  # supervisors decide the proposals of every unit
        # an open proposal keeps the holder from submitting (`hold_back`): an after-signer waits for that
        state = (SignerState.REJECTED if not approve else
                 SignerState.PENDING if row.kind == SignerKind.BEFORE else SignerState.WAITING)
        done = session.execute(update(TaskSigner).where(TaskSigner.id == signer_id,
                                                        TaskSigner.state == SignerState.PROPOSED)
                               .values(state=state, decided_by=actor.id, acted_at=now()))
        if done.rowcount != 1:
            raise Conflict("加签申请已被处理 (the proposal was decided meanwhile)")
        username = session.scalar(select(User.username).where(User.id == row.user_id))
        _event(session, task, EventKind.SIGNER_APPROVED if approve else EventKind.SIGNER_REJECTED, actor,
               {"user": username, "reason": reason, "signer": signer_id})
        session.refresh(row)
        if state == SignerState.PENDING:
            _ask(session, task, row)
        _notify(session, task, NoticeKind.COSIGNED, f"signer:{row.id}:decided", [row.added_by],
                "加签申请已批准" if approve else "加签申请未获批准",
                "Your outside signer was approved" if approve else "Your outside signer was refused")
        names = _names(session, {row.user_id, row.added_by, actor.id})
        return {**_view(row, names), "task_id": task.id, "task_name": task.name, "case_number": task.case_number}


def _next_after(session: Session, task: OpenTask) -> bool:
    """After an after-signer agreed or was removed: ask the next one; True when none is left and a held
    submission is due to be completed."""
    rows = _rows(session, task.id)
    if any(r.state in (SignerState.PENDING, SignerState.PROPOSED) and r.kind != SignerKind.DELEGATE for r in rows):
        return False
    waiting = [r for r in rows if r.kind == SignerKind.AFTER and r.state == SignerState.WAITING]
    if waiting:
        first = min(waiting, key=lambda r: r.seq)
        first.state = SignerState.PENDING
        _ask(session, task, first)
        return False
    return session.get(HeldSubmission, task.id) is not None


def _apply_held(runtime: Runtime, task_id: str) -> None:
    """The last after-signer agreed: the held submission is completed as the holder's workflow step."""
    with runtime.db.read() as session:
        held = session.get(HeldSubmission, task_id)
        if held is None:
            return
        holder = load_actor(session, session.scalar(select(User.username).where(User.id == held.user_id)))
        data = held.data
    runtime.complete(task_id, data, holder)
    with runtime.db.write() as session:
        session.execute(delete(HeldSubmission).where(HeldSubmission.task_id == task_id))


def remove_signer(runtime: Runtime, task_id: str, signer_id: int, reason: Any, actor: Actor) -> dict[str, Any]:
    """减签: the holder takes back a co-signer who has not signed yet, saying why (required, see
    `checked_reason`)."""
    reason = checked_reason(reason)
    with runtime.db.write() as session:
        task = _task(session, task_id, actor)
        if task.assignee_id != actor.id:
            raise Forbidden("只有任务的办理人可以减签 (only the task's holder may remove a signer)")
        row = session.get(TaskSigner, signer_id)
        if row is None or row.task_id != task_id or row.kind == SignerKind.DELEGATE:
            raise NotFound(f"加签人不存在 (no signer {signer_id} on this task)")
        done = session.execute(update(TaskSigner).where(TaskSigner.id == signer_id, TaskSigner.state.in_(OPEN))
                               .values(state=SignerState.REMOVED, acted_at=now()))
        if done.rowcount != 1:
            raise Conflict("该加签人已签署或已移除，不能减签 (this signer has already signed or was removed)")
        username = session.scalar(select(User.username).where(User.id == row.user_id))
        _event(session, task, EventKind.SIGNER_REMOVED, actor, {"user": username, "reason": reason,
                                                                "signer": signer_id})
        due = row.kind == SignerKind.AFTER and _next_after(session, task)
    if due:
        _apply_held(runtime, task_id)
    return signing(runtime.db, task_id, actor)


def _refuse_signing(mine: list[TaskSigner]) -> None:
    """Why a co-signer cannot sign now, by its last row on the task: signed already or removed meanwhile (409: a
    race it lost, or a second click), or never asked (403)."""
    last = mine[-1].state if mine else None
    if last in (SignerState.AGREED, SignerState.DISAGREED):
        raise Conflict("您已签署过意见 (you have already signed)")
    if last == SignerState.REMOVED:
        raise Conflict("您已被减签，无需再签署 (you were removed from this task's signers)")
    if last == SignerState.WAITING:
        raise Forbidden("尚未轮到您签署 (it is not your turn to sign yet)")
    raise Forbidden("您不是本任务待签署的加签人 (you are not a signer whose turn it is)")


def _dissent(rows: list[TaskSigner]) -> list[int]:
    """会签 co-signers whose last opinion on the task is a disagreement (see `statements.SIGNING_HOLDS`)."""
    last = {r.user_id: r for r in rows if r.kind == SignerKind.BEFORE and r.state in (SignerState.AGREED,
                                                                                      SignerState.DISAGREED)}
    return [user for user, r in last.items() if r.state == SignerState.DISAGREED]


def sign(runtime: Runtime, task_id: str, decision: str, opinion: str, actor: Actor) -> dict[str, Any]:
    """A co-signer's opinion — agree or disagree, with its text — once; the holder is told.  The last after-signer's
    agreement completes the held submission."""
    if decision not in DECISIONS:
        raise FormInvalid("意见只能是同意或不同意 (decision must be agree or disagree)",
                          {"/decision": ["agree|disagree"]})
    if not opinion.strip():
        raise FormInvalid("请填写意见 (an opinion is required)", {"/opinion": ["required"]})
    with runtime.db.write() as session:
        task = _task(session, task_id, actor)
        mine = [r for r in _rows(session, task_id) if r.user_id == actor.id and r.kind != SignerKind.DELEGATE]
        row = next((r for r in mine if r.state == SignerState.PENDING), None)
        if row is None:
            _refuse_signing(mine)
        state = DECISIONS[decision]
        done = session.execute(update(TaskSigner).where(TaskSigner.id == row.id,
                                                        TaskSigner.state == SignerState.PENDING)
                               .values(state=state, opinion=opinion.strip(), acted_at=now()))
        if done.rowcount != 1:
            _refuse_signing(mine)
        # the 审批流水's shape (engine/case/opinions.py): each co-signer's line with its decision as people read it;
        # internal — a colleague's working opinion on the holder's step, not the office's decision
        _event(session, task, EventKind.SIGNED, actor, {
            "mode": row.kind, "decision": _DECISION_LABELS[decision], "decision_value": decision,
            "opinion": opinion.strip(), "internal": True, "signer": row.id})
        _notify(session, task, NoticeKind.COSIGNED, f"signer:{row.id}:signed", [row.added_by],
                f"{actor.username} {'同意' if state == SignerState.AGREED else '不同意'}",
                f"{actor.username} {'agreed' if state == SignerState.AGREED else 'disagreed'}")
        due = False
        if row.kind == SignerKind.AFTER:
            if state == SignerState.AGREED:
                due = _next_after(session, task)
            else:  # the holder decides again: its submission is not completed
                session.execute(delete(HeldSubmission).where(HeldSubmission.task_id == task_id))
    if due:
        _apply_held(runtime, task_id)
    return signing(runtime.db, task_id, actor)


def hold_back(db: Database, task_id: str, data: dict[str, Any], actor: Actor) -> bool:
    """Runtime.complete asks first, when `has_open`: refused while a co-signer, a proposal or a delegate is open;
    True when the submission is held for after-signers (nothing is completed in the workflow yet); False to go on."""
    with db.write() as session:
        task = _task(session, task_id, actor)
        rows = _rows(session, task_id)
        if _open_delegation(rows) is not None:
            raise Conflict("任务已委派，须由受托人交回 (the task is entrusted: the delegate gives it back first)")
        if any(r.state == SignerState.PROPOSED for r in rows):
            raise Conflict("尚有加签人待主管批准 (a signer waits for a supervisor's approval; remove it or wait)")
        if any(r.state == SignerState.PENDING for r in rows):
            raise Conflict("尚有加签人未签署 (a co-signer has not signed yet)")
        if dissent := _dissent(rows):
            who = ", ".join(sorted(_names(session, set(dissent)).get(u, ("", ""))[0] for u in dissent))
            raise Conflict(f"会签人 {who} 不同意：请修改后再请其会签，或退回 (co-signer {who} disagreed: all must "
                           f"agree — ask again after changing what they objected to, or return the case)",
                           {"/signers": [f"disagreed: {who}"]})
        if session.get(HeldSubmission, task_id) is not None:
            return False  # the signers have all signed: the held submission (or the holder's new one) goes through
        waiting = [r for r in rows if r.kind == SignerKind.AFTER and r.state == SignerState.WAITING]
        if not waiting:
            return False
        session.add(HeldSubmission(task_id=task_id, user_id=actor.id, data=data, held_at=now()))
        _event(session, task, EventKind.SUBMISSION_HELD, actor, {"signers": len(waiting)})
        first = min(waiting, key=lambda r: r.seq)
        first.state = SignerState.PENDING
        _ask(session, task, first)
        return True


# -- 委派 ---------------------------------------------------------------------------------------------------------
def entrust(db: Database, task_id: str, username: str, reason: Any, actor: Actor) -> None:
    """委派: the delegate (a colleague in the task's lane, as for 转办) becomes its assignee until it gives it back;
    the delegator says why (required, see `checked_reason`)."""
    reason = checked_reason(reason)
    with db.write() as session:
        task = _take_hold(session, _task(session, task_id, actor), actor)
        rows = _rows(session, task_id)
        _refuse_busy(session, task, rows)
        if any(r.state in OPEN for r in rows):
            raise Conflict("尚有加签人未签署，不能委派 (co-signers are still open: remove them or wait)")
        person = _person(session, username, "/user")
        if person.id == actor.id:
            raise FormInvalid("不能委派给自己 (you cannot entrust a task to yourself)", {"/user": ["yourself"]})
        if not in_lane(person, task.role, task.org_id):
            raise Forbidden(f"{username} 不具备该任务的角色 (user lacks the role {task.role} in the organisation)",
                            {"/user": ["cannot do this task"]})
        done = session.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee_id == actor.id)
                               .values(assignee_id=person.id))
        if done.rowcount != 1:
            raise Conflict("任务已被他人认领 (the task was claimed by someone else; reload)")
        row = TaskSigner(task_id=task_id, instance_id=task.instance_id, kind=SignerKind.DELEGATE, seq=0,
                         user_id=person.id, added_by=actor.id, state=SignerState.PENDING, reason=reason,
                         created_at=now())
        session.add(row)
        session.flush()
        _event(session, task, EventKind.TASK_ENTRUSTED, actor, {"to": username, "reason": reason})
        _ask(session, task, row)


def give_back(runtime: Runtime, task_id: str, data: dict[str, Any], opinion: str, actor: Actor) -> None:
    """The delegate's work — the form filled in (checked against it) and/or an opinion — goes back with the task to
    the delegator, who completes it."""
    with runtime.db.read() as session:
        _task(session, task_id, actor, lock=False)  # a task the caller may not see is not found, whatever the body says
    if not data and not opinion.strip():
        raise FormInvalid("请填写表单或意见 (fill in the form or give an opinion)", {"/opinion": ["required"]})
    checked = runtime.checked_submission(task_id, data, actor) if data else None
    with runtime.db.write() as session:
        task = _task(session, task_id, actor)
        row = _open_delegation(_rows(session, task_id))
        if row is None or row.user_id != actor.id or task.assignee_id != actor.id:
            raise Forbidden("只有受托人可以交回委派的任务 (only the delegate gives an entrusted task back)")
        done = session.execute(update(TaskSigner).where(TaskSigner.id == row.id,
                                                        TaskSigner.state == SignerState.PENDING)
                               .values(state=SignerState.RETURNED, data=checked, opinion=opinion.strip() or None,
                                       acted_at=now()))
        moved = session.execute(update(HumanTask).where(HumanTask.id == task_id, HumanTask.assignee_id == actor.id)
                                .values(assignee_id=row.added_by))
        if done.rowcount != 1 or moved.rowcount != 1:
            raise Conflict("委派已交回 (the task was already given back)")
        _event(session, task, EventKind.ENTRUST_RETURNED, actor,
               {"opinion": opinion.strip() or None, "fields": sorted(checked or {})})
        _notify(session, task, NoticeKind.ENTRUSTED, f"signer:{row.id}:returned", [row.added_by],
                "委派任务已交回", "An entrusted task came back")

