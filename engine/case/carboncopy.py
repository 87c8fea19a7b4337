"""抄送 (carbon copy): a case sent to people to read, by the process (`cc` on an element) or by an approver.

A copy never grants a task: it only widens who sees the case (engine/people/access.py `copied_to`), read-only,
with personal data masked as for any department that reviews one aspect. Roles are resolved to their holders
when the copy is made, so each recipient has a read status (已阅) of their own. Every copy is an event of the
case's history (who, when, to whom, why) and a notice to each recipient (with its e-mail copy).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from SpiffWorkflow.task import TaskState
from sqlalchemy import Connection, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.base.notice import Notice
from engine.base.vocabulary import EventKind, HumanTaskState, InstanceStatus, NoticeKind
from engine.case.notifications import raise_notice
from engine.case.output import StepOutput
from engine.definitions.copies import Recipients
from engine.people.access import Actor, copyable, may_be_copied, may_carbon_copy, scope_instances
from engine.people.accounts import role_holders
from engine.store.db import Database
from engine.store.models import CarbonCopy, Event, HumanTask, Instance, Organisation, User, UserRole

MAX_REASON = 500
#: one refusal for an unknown user and one the case may not be copied to: the answer tells no one who exists
NOT_COPYABLE = ("不能抄送给该用户：不存在、已停用或属于其他企业 (cannot copy to this user: unknown, disabled or of "
                "another enterprise)")


@dataclass(frozen=True)
class CaseRef:
    """What a copy needs to know of its case."""

    id: int
    case_number: str
    enterprise_id: int | None


def role_recipients(conn: Connection, role: str, case: CaseRef) -> list[int]:
    """The active holders of `role` whom this case may be copied to."""
    query = (role_holders(role, None, User.id).join(Organisation, Organisation.id == User.org_id)
             .where(copyable(case.enterprise_id)).order_by(User.id))
    return list(conn.execute(query).scalars())


def user_recipients(conn: Connection, usernames: tuple[str, ...], case: CaseRef) -> tuple[dict[str, int], list[str]]:
    """(username → id of those the case may be copied to, the names refused)."""
    if not usernames:
        return {}, []
    rows = conn.execute(select(User.username, User.id, Organisation.kind, Organisation.id)
                        .join(Organisation, Organisation.id == User.org_id)
                        .where(User.username.in_(usernames), User.disabled.is_(False))).all()
    found = {name: uid for name, uid, kind, org in rows if may_be_copied(kind, org, case.enterprise_id)}
    return found, [u for u in usernames if u not in found]


def copy_case(conn: Connection, case: CaseRef, recipients: dict[int, str | None], by: int | None,
              element_id: str | None, task_id: str | None, reason: str | None, at: datetime,
              detail: dict[str, Any]) -> list[int]:
    """Copy the case to `recipients` (user id → the role it was addressed by, or None): one row each (a copy made
    again moves the row and makes it unread), one event, one notice each. Returns the users copied."""
    users = sorted(u for u in recipients if u != by)  # the sender does not copy itself
    if not users:
        return []
    rows = [{"instance_id": case.id, "user_id": u, "role": recipients[u], "by_user_id": by, "element_id": element_id,
             "reason": reason, "at": at, "read_at": None} for u in users]
    dialect_insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
    stmt = dialect_insert(CarbonCopy).values(rows)
    conn.execute(stmt.on_conflict_do_update(index_elements=["user_id", "instance_id"], set_={
        k: stmt.excluded[k] for k in ("role", "by_user_id", "element_id", "reason", "at", "read_at")}))
    conn.execute(insert(Event).values(instance_id=case.id, at=at, kind=EventKind.CARBON_COPIED, task_id=task_id,
                                      element_id=element_id, user_id=by,
                                      detail={**detail, "reason": reason} if reason else detail))
    stamp = f"{at.timestamp():.6f}"
    notice = Notice(NoticeKind.CARBON_COPY, f"cc:{case.id}:{stamp}"[:80],
                    f"办件 {case.case_number} 抄送给您，请查阅" + (f"：{reason}" if reason else ""),
                    f"Case {case.case_number} was copied to you to read" + (f": {reason}" if reason else ""),
                    instance_id=case.id)
    raise_notice(conn, notice, users)
    return users


def _resolved(conn: Connection, case: CaseRef, wanted: Recipients) -> tuple[dict[int, str | None], dict[str, int],
                                                                           list[str], list[str]]:
    """(recipients, users by name, usernames refused, roles nobody in scope holds)."""
    by_name, refused = user_recipients(conn, wanted.users, case)
    recipients: dict[int, str | None] = {}
    empty = []
    for role in wanted.roles:
        holders = role_recipients(conn, role, case)
        empty += [] if holders else [role]
        recipients.update({u: role for u in holders if u not in recipients})
    recipients.update({uid: None for uid in by_name.values()})  # named in person: not "as the role"
    return recipients, by_name, refused, empty


def record(conn: Connection, out: StepOutput) -> None:
    """The copies the step's completed elements ask for (their `cc`), once per element completion (a side product).

    A role nobody holds, or a user gone since the process was deployed, copies to nobody: the event says so
    (`unresolved`) instead of refusing the step — the applicant's submission must not fail for it."""
    elements = out.compiled.cc_elements
    if not elements:
        return
    pending = [t for t in out.workflow.get_tasks(state=TaskState.COMPLETED)
               if getattr(t.task_spec, "bpmn_id", None) in elements]
    if not pending:
        return
    done = set(conn.execute(select(Event.task_id).where(Event.instance_id == out.instance_id,
                                                        Event.kind == EventKind.CARBON_COPIED,
                                                        Event.user_id.is_(None))).scalars())
    todo = [t for t in pending if str(t.id) not in done]
    if not todo:
        return
    row = conn.execute(select(Instance.case_number, Instance.enterprise_id)
                       .where(Instance.id == out.instance_id)).one()
    case = CaseRef(out.instance_id, row.case_number, row.enterprise_id)
    for task in todo:
        element = task.task_spec.bpmn_id
        wanted = elements[element]
        recipients, by_name, refused, empty = _resolved(conn, case, wanted)
        detail = {"roles": list(wanted.roles), "users": sorted(by_name)}
        if refused or empty:
            detail["unresolved"] = [*empty, *(f"user:{u}" for u in refused)]
        if not copy_case(conn, case, recipients, None, element, str(task.id), None, out.at, detail):
            conn.execute(insert(Event).values(instance_id=case.id, at=out.at, kind=EventKind.CARBON_COPIED,
                                              task_id=str(task.id), element_id=element, user_id=None,
                                              detail={**detail, "copied": 0}))


def carbon_copy(db: Database, instance_id: int, wanted: Recipients, reason: str | None, actor: Actor) -> list[str]:
    """An approver's ad hoc copy of a case it is working on, to staff or to the case's own enterprise; returns
    the usernames copied. Not found unless the actor sees the case; forbidden unless it may do one of its open
    tasks; a user or role outside the case's reach is refused naming the entry (422), and nothing is copied."""
    reason = (reason or "").strip() or None
    if reason is not None and len(reason) > MAX_REASON:
        raise FormInvalid("抄送说明不能超过 500 字 (the reason is over 500 characters)", {"/reason": ["too long"]})
    if not wanted:
        raise FormInvalid("请选择抄送对象 (name at least one user or role)", {"/users": ["empty"], "/roles": ["empty"]})
    with db.writing() as conn:
        row = conn.execute(scope_instances(select(Instance.id, Instance.case_number, Instance.enterprise_id,
                                                  Instance.status).where(Instance.id == instance_id), actor)).first()
        if row is None:
            raise NotFound(f"办件不存在 (no case {instance_id})")
        if row.status != InstanceStatus.RUNNING:
            raise Conflict(f"办件当前状态为 {row.status}，不能抄送 (only a running case can be copied by an approver)")
        tasks = conn.execute(select(HumanTask.role, HumanTask.org_id, HumanTask.assignee_id).where(
            HumanTask.instance_id == instance_id, HumanTask.state == HumanTaskState.READY)).all()
        if not may_carbon_copy(actor, [tuple(t) for t in tasks]):
            raise Forbidden("只有正在办理该办件的人员可以抄送 (only who may do one of the case's open tasks may "
                            "copy it)")
        case = CaseRef(row.id, row.case_number, row.enterprise_id)
        recipients, by_name, refused, empty = _resolved(conn, case, wanted)
        fields = {f"/users/{wanted.users.index(u)}": [NOT_COPYABLE] for u in refused}
        fields.update({f"/roles/{wanted.roles.index(r)}": ["没有可抄送的人员持有该角色 (nobody the case may be copied "
                                                           "to holds this role)"] for r in empty})
        if fields:
            raise FormInvalid("抄送对象不可用 (some recipients cannot be copied)", fields)
        users = copy_case(conn, case, recipients, actor.id, None, None, reason, now(),
                          {"roles": list(wanted.roles), "users": sorted(by_name)})
        return list(conn.execute(select(User.username).where(User.id.in_(users)).order_by(User.username)).scalars())


#: the picker offers at most this many people (a district's staff); anyone else is still typed by username
MAX_CHOICES = 300


@dataclass(frozen=True)
class Choices:
    """Whom an approver may copy a case to, for the page's picker: (username, display name) and role codes."""

    users: list[tuple[str, str]]
    roles: list[str]


def choices(db: Database, instance_id: int, actor: Actor) -> Choices | None:
    """The picker of the 抄送 form: the active people the case may be copied to (staff, the case's own enterprise;
    not the actor) and the roles they hold. None when the actor may not copy the case — the page then shows no
    form rather than one that is refused (the same rule `carbon_copy` applies: `access.may_carbon_copy`)."""
    with db.reading() as conn:
        row = conn.execute(scope_instances(select(Instance.id, Instance.enterprise_id, Instance.status)
                                           .where(Instance.id == instance_id), actor)).first()
        if row is None or row.status != InstanceStatus.RUNNING:
            return None
        tasks = conn.execute(select(HumanTask.role, HumanTask.org_id, HumanTask.assignee_id).where(
            HumanTask.instance_id == instance_id, HumanTask.state == HumanTaskState.READY)).all()
        if not may_carbon_copy(actor, [tuple(t) for t in tasks]):
            return None
        reachable = (select(User.id).join(Organisation, Organisation.id == User.org_id)
                     .where(User.disabled.is_(False), copyable(row.enterprise_id)))
        users = conn.execute(select(User.username, User.display_name).where(User.id.in_(reachable),
                                                                             User.id != actor.id)
                             .order_by(User.username).limit(MAX_CHOICES)).all()
        roles = conn.execute(select(UserRole.role).where(UserRole.user_id.in_(reachable)).distinct()
                             .order_by(UserRole.role)).scalars().all()
        return Choices([(u, d or u) for u, d in users], list(roles))


def copies_of(conn: Connection, instance_id: int) -> list[dict[str, Any]]:
    """A case's recipients with their read status, oldest copy first (for those who already see the case)."""
    sender = User.__table__.alias("sender")
    rows = conn.execute(select(User.username, User.display_name, CarbonCopy.role, sender.c.username.label("by"),
                               CarbonCopy.element_id, CarbonCopy.reason, CarbonCopy.at, CarbonCopy.read_at)
                        .join(User, User.id == CarbonCopy.user_id)
                        .outerjoin(sender, sender.c.id == CarbonCopy.by_user_id)
                        .where(CarbonCopy.instance_id == instance_id).order_by(CarbonCopy.id))
    return [{"user": r.username, "display_name": r.display_name, "role": r.role, "by": r.by,
             "element_id": r.element_id, "reason": r.reason, "at": r.at, "read_at": r.read_at} for r in rows]


def mark_read(db: Database, instance_id: int, actor: Actor, quiet: bool = False) -> datetime | None:
    """已阅: the caller's copy of the case marked read (again is harmless; the first time is kept). Not found when
    the case was not copied to the caller, unless `quiet` (opening a case page marks it read when it is a copy)."""
    mine = (CarbonCopy.instance_id == instance_id, CarbonCopy.user_id == actor.id)
    with db.reading() as conn:  # most page views are not of a copy, or of one already read: nothing to write
        found = conn.execute(select(CarbonCopy.id, CarbonCopy.read_at).where(*mine)).first()
    if found is None:
        if quiet:
            return None
        raise NotFound(f"该办件未抄送给您 (case {instance_id} was not copied to you)")
    if found.read_at is not None:
        return found.read_at
    with db.writing() as conn:
        conn.execute(update(CarbonCopy).where(*mine, CarbonCopy.read_at.is_(None)).values(read_at=now()))
        return conn.execute(select(CarbonCopy.read_at).where(*mine)).scalar()


def copies(db: Database, instance_id: int, actor: Actor) -> list[dict[str, Any]]:
    """`copies_of` a case the actor sees (not found otherwise)."""
    with db.reading() as conn:
        if conn.execute(scope_instances(select(Instance.id).where(Instance.id == instance_id), actor)).first() is None:
            raise NotFound(f"办件不存在 (no case {instance_id})")
        return copies_of(conn, instance_id)
