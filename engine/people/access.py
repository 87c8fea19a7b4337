"""Who may see and do what — the one place every query is scoped.

An enterprise user sees its own enterprise's cases; a reviewer sees the tasks of the roles
it holds within its own organisation and the cases those tasks belong to; administrators
see everything.  What a caller may not see is reported as "not found", never "forbidden".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select, true
from sqlalchemy.sql.elements import ColumnElement

from engine.base.vocabulary import OrgKind
from engine.store.models import HumanTask, Instance, Notification

#: Role codes the code itself relies on (the catalogue, processes/roles.yaml, holds them all).
ADMIN = "admin"
APPLICANT = "applicant"
DESIGNER = "designer"
DISPATCHER = "dispatcher"
FUND_COMMITTEE = "fund_committee"
FUND_SECRETARIAT = "fund_secretariat"
INSPECTION_OFFICE = "inspection_office"
WINDOW_CLERK = "window_clerk"
#: Who watches deadlines district-wide (the 135 supervision dashboard): the enterprise-service
#: centre's dispatchers, the inspection office (督查室) and administrators.
SUPERVISORS = frozenset({DISPATCHER, INSPECTION_OFFICE, ADMIN})
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


def task_assigned(actor: Actor) -> Branch:
    return Branch(HumanTask.assignee_id == actor.id, (HumanTask.assignee_id,))


def task_offered(actor: Actor) -> list[Branch]:
    """One branch per (role, own organisation | no organisation) pair a task may be offered under."""
    return [Branch(and_(HumanTask.role == role, org), (HumanTask.role, HumanTask.org_id))
            for role in sorted(actor.roles) for org in (HumanTask.org_id == actor.org_id, HumanTask.org_id.is_(None))]


def task_visible(actor: Actor) -> ColumnElement[bool]:
    """Tasks offered to one of the actor's roles, in its organisation (or unscoped), or assigned to it."""
    return or_(*(b.where for b in (task_assigned(actor), *task_offered(actor))))


def scope_tasks(query: Select, actor: Actor) -> Select:
    return query if actor.is_admin else query.where(task_visible(actor))


def notification_visible(actor: Actor) -> ColumnElement[bool]:
    """Notices are personal: nobody, administrators included, reads or marks anyone else's."""
    return Notification.user_id == actor.id


def scope_instances(query: Select, actor: Actor) -> Select:
    if actor.is_admin:
        return query
    own = Instance.enterprise_id == actor.org_id if actor.org_kind == OrgKind.ENTERPRISE else None
    via_task = exists(
        select(HumanTask.id).where(HumanTask.instance_id == Instance.id, task_visible(actor))
    )
    return query.where(or_(own, via_task) if own is not None else via_task)


def instance_branches(actor: Actor) -> list[tuple[ColumnElement[int], Branch]]:
    """`scope_instances` as (instance-id column, branch) pairs whose union is every case the actor sees.

    Each is answered by one index in instance-id order: the enterprise's own cases, or the
    instances behind the tasks of one `task_visible` branch.
    """
    if actor.is_admin:
        return [(Instance.id, Branch(true()))]
    branches: list[tuple[ColumnElement[int], Branch]] = [
        (HumanTask.instance_id, b) for b in (task_assigned(actor), *task_offered(actor))]
    if actor.org_kind == OrgKind.ENTERPRISE:
        branches.insert(0, (Instance.id, Branch(Instance.enterprise_id == actor.org_id, (Instance.enterprise_id,))))
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
    """`task_visible` for one task already in memory (same rule, no query)."""
    if actor.is_admin or assignee_id == actor.id:
        return True
    return role in actor.roles and org_id in (None, actor.org_id)


def may_do_task(actor: Actor, role: str | None, org_id: int | None, assignee_id: int | None) -> bool:
    """Seeing is not doing: an administrator may look at every task but only do its own roles' work."""
    if assignee_id is not None:
        return assignee_id == actor.id
    return role in actor.roles and org_id in (None, actor.org_id)
