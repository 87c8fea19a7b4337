"""Who may see and do what — the one place every query is scoped.

An enterprise user sees its own enterprise's cases (staff: the cases they started); a reviewer
sees the tasks of the roles it holds within its own organisation and the cases those tasks
belong to; anyone a case was copied to (抄送) sees that case, read-only — a copy never shows or
grants a task; administrators see everything.  What a caller may not see is reported as "not
found", never "forbidden".
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, literal_column, or_, select, true
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeEngine

from engine.base.vocabulary import OrgKind, SignerState
from engine.store.models import (
    CarbonCopy,
    HumanTask,
    Instance,
    Notification,
    Organisation,
    SavedFilter,
    SavedPhrase,
    TaskSigner,
)

#: Role codes the code itself relies on (the catalogue, processes/roles.yaml, holds them all).
ADMIN = "admin"
APPLICANT = "applicant"
CENTRE_HEAD = "centre_head"
DESIGNER = "designer"
DISPATCHER = "dispatcher"
FUND_COMMITTEE = "fund_committee"
FUND_SECRETARIAT = "fund_secretariat"
INSPECTION_OFFICE = "inspection_office"
WINDOW_CLERK = "window_clerk"
#: Who watches deadlines district-wide (the 135 supervision dashboard): the enterprise-service
#: centre's dispatchers and its head, the inspection office (督查室) and administrators.
SUPERVISORS = frozenset({DISPATCHER, CENTRE_HEAD, INSPECTION_OFFICE, ADMIN})
#: Who edits, validates and deploys processes and forms from the browser.
DESIGNERS = frozenset({DESIGNER, ADMIN})


@dataclass(frozen=True)
class Actor:
    """The authenticated caller, with its organisation and roles loaded once."""

    id: int
    username: str
    org_id: int
    org_kind: str
    roles: frozenset[str]

    @property
    def is_admin(self) -> bool:
        return is_admin(self)


@dataclass(frozen=True)
class Branch:
    """One way of seeing rows, as one index range: `where` holds the `fixed` columns constant.

    List queries UNION one ordered, limited read per branch instead of OR-ing the conditions, so
    they stay fast however many rows other people have.  The fixed columns lead each branch's
    ORDER BY: PostgreSQL treats `= value` as a constant but not `IS NULL`, and without them an
    `org_id IS NULL` branch would be read whole and sorted.
    """

    where: ColumnElement[bool]
    fixed: tuple[ColumnElement[Any], ...] = ()


def branch_ids(read: Select[Any], id_type: TypeEngine[Any]) -> Select[Any]:
    """The `id` column (of `id_type`) of one branch's read, ordered and limited, wrapped to be a UNION member.

    Named, not taken from the subquery's `.c`: building that collection copies every selected column, foreign
    keys and all, which cost a clerk's case list (seven branches) ~1.5 ms of Python on each request."""
    return select(literal_column("id", id_type)).select_from(read.subquery())


def task_assigned(actor: Actor) -> Branch:
    return Branch(HumanTask.assignee_id == actor.id, (HumanTask.assignee_id,))


def task_offered(actor: Actor) -> list[Branch]:
    """One branch per (role, own organisation | no organisation) pair a task may be offered under."""
    return [Branch(and_(HumanTask.role == role, org), (HumanTask.role, HumanTask.org_id))
            for role in sorted(actor.roles) for org in (HumanTask.org_id == actor.org_id, HumanTask.org_id.is_(None))]


#: A co-signer or delegate sees the task (and its case) once it is asked to act, and keeps seeing what it signed.
SIGNER_SEES = (SignerState.WAITING, SignerState.PENDING, SignerState.AGREED, SignerState.DISAGREED,
               SignerState.RETURNED)


def task_signing(actor: Actor, states: tuple[str, ...] = SIGNER_SEES) -> Branch:
    """Tasks the actor was added to (加签, 委派) in one of `states`: a few rows of task_signers, by its user index."""
    signed = select(TaskSigner.task_id).where(TaskSigner.user_id == actor.id, TaskSigner.state.in_(states))
    return Branch(HumanTask.id.in_(signed))


def task_visible(actor: Actor) -> ColumnElement[bool]:
    """Tasks offered to one of the actor's roles, in its organisation (or unscoped), assigned to it, or that it
    was added to as a signer."""
    return or_(*(b.where for b in (task_assigned(actor), *task_offered(actor), task_signing(actor))))


def scope_tasks(query: Select, actor: Actor) -> Select:
    return query if actor.is_admin else query.where(task_visible(actor))


def notification_visible(actor: Actor) -> ColumnElement[bool]:
    """Notices are personal: nobody, administrators included, reads or marks anyone else's."""
    return Notification.user_id == actor.id


def phrases_of(actor: Actor) -> ColumnElement[bool]:
    """常用意见 are personal like notices: each user reads and deletes only their own (administrators too)."""
    return SavedPhrase.user_id == actor.id


def filters_of(actor: Actor) -> ColumnElement[bool]:
    """Saved inbox filters are personal too: each user lists, replaces and deletes only their own."""
    return SavedFilter.user_id == actor.id


def copied_to(actor: Actor) -> Branch:
    """The cases copied to the actor (抄送): one index range, (user_id, instance_id)."""
    return Branch(CarbonCopy.user_id == actor.id, (CarbonCopy.user_id,))


def started_by(actor: Actor) -> Branch:
    """The cases the actor started (我发起的): one index range, (started_by, id)."""
    return Branch(Instance.started_by == actor.id, (Instance.started_by,))


def scope_instances(query: Select, actor: Actor) -> Select:
    if actor.is_admin:
        return query
    via_task = exists(
        select(HumanTask.id).where(HumanTask.instance_id == Instance.id, task_visible(actor))
    )
    via_copy = exists(select(CarbonCopy.id).where(CarbonCopy.instance_id == Instance.id, copied_to(actor).where))
    # an enterprise sees its own cases; staff see those they started themselves (我发起的), whoever holds them now
    own = Instance.enterprise_id == actor.org_id if actor.org_kind == OrgKind.ENTERPRISE else started_by(actor).where
    return query.where(or_(own, via_task, via_copy))


def instance_branches(actor: Actor) -> list[tuple[ColumnElement[int], Branch]]:
    """`scope_instances` as (instance-id column, branch) pairs whose union is every case the actor sees.

    Each is answered by one index in instance-id order: the enterprise's own cases (for staff: the cases
    they started), the instances behind the tasks of one `task_visible` branch, or the cases copied to the actor.
    """
    if actor.is_admin:
        return [(Instance.id, Branch(true()))]
    branches: list[tuple[ColumnElement[int], Branch]] = [
        (HumanTask.instance_id, b) for b in (task_assigned(actor), *task_offered(actor), task_signing(actor))]
    branches.append((CarbonCopy.instance_id, copied_to(actor)))
    if actor.org_kind == OrgKind.ENTERPRISE:
        branches.insert(0, (Instance.id, Branch(Instance.enterprise_id == actor.org_id, (Instance.enterprise_id,))))
    else:
        branches.insert(0, (Instance.id, started_by(actor)))
    return branches


#: Who may read a building fund's balances: its secretariat, its committee and administrators.
FUND_VIEWERS = frozenset({FUND_SECRETARIAT, FUND_COMMITTEE, ADMIN})


def may_see_fund(actor: Actor) -> bool:
    """A fund's books are the secretariat's and the committee's; everyone else is told it does not exist."""
    return not FUND_VIEWERS.isdisjoint(actor.roles)


def may_supervise(actor: Actor) -> bool:
    """Supervision figures cover every unit's cases, so only the supervising roles see them."""
    return not SUPERVISORS.isdisjoint(actor.roles)


def is_admin(actor: Actor) -> bool:
    """Administrators see every case and task (`scope_*` leave their queries alone)."""
    return ADMIN in actor.roles


def is_applicant(actor: Actor) -> bool:
    """An enterprise's applicant: its pages start from the services it can apply for, not from an inbox."""
    return APPLICANT in actor.roles


def may_administer(actor: Actor) -> bool:
    """Users, organisations, the role catalogue and the working-day calendar are the administrators' alone."""
    return is_admin(actor)


def may_design(actor: Actor) -> bool:
    """Reading, saving, validating and deploying process and form files (the browser modeler)."""
    return not DESIGNERS.isdisjoint(actor.roles)


#: Who sees a case's personal data (ID numbers) in full: the enterprise it belongs to, the window clerks who
#: check the applicant's identity, and administrators; departments that review one aspect see it masked.
PERSONAL_DATA_VIEWERS = frozenset({WINDOW_CLERK, ADMIN})


def may_see_personal_data(actor: Actor, enterprise_id: int | None) -> bool:
    if actor.org_kind == OrgKind.ENTERPRISE:
        return enterprise_id == actor.org_id
    return not PERSONAL_DATA_VIEWERS.isdisjoint(actor.roles)


def can_see_task(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> bool:
    """`task_visible` for one task already in memory (same rule, no query) — but for `task_signing`, which
    needs its query (engine/runtime/signers.py `sees_as_signer`)."""
    if actor.is_admin or assignee_id == actor.id:
        return True
    return role in actor.roles and org_id in (None, actor.org_id)


def may_do_task(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> bool:
    """Seeing is not doing: an administrator may look at every task but only do its own roles' work."""
    if assignee_id is not None:
        return assignee_id == actor.id
    return role in actor.roles and org_id in (None, actor.org_id)


def may_withdraw(actor: Actor, enterprise_id: int | None) -> bool:
    """撤回: only the applicants of the enterprise that filed the case withdraw it (or ask to)."""
    return actor.org_kind == OrgKind.ENTERPRISE and enterprise_id == actor.org_id and is_applicant(actor)


def may_decide_withdrawal(actor: Actor, open_tasks: list[dict[str, Any]]) -> bool:
    """A request to withdraw an accepted case is decided by the office holding it: whoever may do one of its
    open tasks (never the enterprise itself, whose own 补正 task would otherwise let it grant its request)."""
    return actor.org_kind != OrgKind.ENTERPRISE and any(
        may_do_task(actor, t["role"], t["org_id"], t.get("assignee_id")) for t in open_tasks)


def may_return(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> bool:
    """退回: an office's approver who may do the task sends its case back; an applicant's own task is not theirs
    to send back (they complete it, or withdraw)."""
    return actor.org_kind != OrgKind.ENTERPRISE and may_do_task(actor, role, org_id, assignee_id)


def in_lane(person: Actor, role: str | None, org_id: int | None) -> bool:
    """Whom a task may go to without anyone's leave — for 转办, 委派 and 加签 alike: someone who could do the task
    itself (its role, in its organisation), as `may_do_task` sees it for an unclaimed task."""
    return may_do_task(person, role, org_id, None)


def holds_task(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> bool:
    """The task's holder — its assignee, or, while nobody has claimed it, whoever could claim it — is the one who
    adds and removes signers and delegates it (an administrator only for its own roles' work)."""
    return assignee_id == actor.id or (assignee_id is None and in_lane(actor, role, org_id))


def may_claim(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> bool:
    """认领: an office's staff member takes an unclaimed task of its lane; an enterprise's own step (填写申请, 补正)
    is filled in and submitted by whoever of the enterprise opens it, never claimed."""
    return actor.org_kind != OrgKind.ENTERPRISE and assignee_id is None and in_lane(actor, role, org_id)


def may_release(actor: Actor, assignee_id: int | None) -> bool:
    """退回认领: the assignee gives its task back to the role (an administrator may free anyone's)."""
    return actor.org_kind != OrgKind.ENTERPRISE and assignee_id is not None and (
        assignee_id == actor.id or actor.is_admin)


def may_hand_over(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> bool:
    """转办: the task's holder (`holds_task`) hands it to a colleague of its lane (an administrator any task);
    never the enterprise, whose step is its own to do."""
    return actor.org_kind != OrgKind.ENTERPRISE and (actor.is_admin or holds_task(actor, role, org_id, assignee_id))


def task_actions(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> frozenset[str]:
    """What the task page offers the actor on an open task: "claim", "unclaim" and "delegate" (转办)."""
    offered = {"claim": may_claim(actor, role, org_id, assignee_id), "unclaim": may_release(actor, assignee_id),
               "delegate": may_hand_over(actor, role, org_id, assignee_id)}
    return frozenset(name for name, allowed in offered.items() if allowed)


def may_approve_signer(actor: Actor) -> bool:
    """A signer outside the task's lane sees another unit's case: the supervising roles (`SUPERVISORS`) decide."""
    return may_supervise(actor)


def may_see_internal_opinions(actor: Actor) -> bool:
    """A case's internal opinions (review notes, engine/case/opinions.py) are staff's working papers: whoever may
    see the case reads them, except the enterprise, which reads the public 办理意见 of its own case only."""
    return actor.org_kind != OrgKind.ENTERPRISE


def may_carbon_copy(actor: Actor, open_tasks: Iterable[tuple[str | None, int | None, int | None]]) -> bool:
    """抄送 ad hoc is the approver's: staff who may do one of the case's open tasks (role, org, assignee) — never the
    enterprise, whose own 填写申请 or 补正 step would otherwise let it notify any staff member it names."""
    return actor.org_kind != OrgKind.ENTERPRISE and any(
        may_do_task(actor, role, org_id, assignee_id) for role, org_id, assignee_id in open_tasks)


def may_be_copied(org_kind: str, org_id: int, enterprise_id: int | None) -> bool:
    """Who a case may be copied to: staff of any department or office, or people of the enterprise whose case it
    is — never another enterprise (it would read a competitor's application)."""
    return org_kind != OrgKind.ENTERPRISE or org_id == enterprise_id


def copyable(enterprise_id: int | None) -> ColumnElement[bool]:
    """`may_be_copied` as a condition on a query joined to the users' organisation (a role's holders)."""
    return or_(Organisation.kind != OrgKind.ENTERPRISE, Organisation.id == enterprise_id)


def may_urge(actor: Actor, enterprise_id: int | None) -> bool:
    """催办: the enterprise whose case it is, and the supervisors (who watch every unit's deadlines)."""
    if actor.org_kind == OrgKind.ENTERPRISE:
        return enterprise_id is not None and enterprise_id == actor.org_id
    return may_supervise(actor)


def own_step(actor: Actor, task_org_id: int | None) -> bool:
    """The task is the actor's own enterprise's to do (its 补正, its rating): nobody else to urge about it."""
    return actor.org_kind == OrgKind.ENTERPRISE and task_org_id is not None and task_org_id == actor.org_id
