"""版本迁移: an administrator moves running cases of a process from version n to a later deployed version.

Everything is checked before anything moves: the versions, the mapping of elements (old id → new id; same ids by
default), and for every selected case each element it waits at or has passed (engine/bpmn/respec.py: it exists
in the new version, mapped or by its id, and is of the same kind; a waiting element sits where it did), and its
forms: the new start form's required fields are in the case's data (the new version's steps may read them), and
a waiting user task's new form finds every required read-only field it shows in the case. One refused case
refuses the whole request and nothing is written (a dry run lists it all the same).

Each case then moves in its own step through the one commit path (engine/runtime/commit.py): guarded by the
instance's version counter, its state on the new spec, the instance row on the new version, the open task rows
re-derived for their new elements (ids, due times and SLA clock kept; the assignee kept unless the role or the
office changed), the timer rows renamed with their elements (due times kept), the case facts the new version
reports (the others removed), and a `migrated` event in the case history — together or not at all. A case that
changed between the check and its move is checked again on what it now is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Row, delete, select, update

from engine.base.clock import now
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound, TongbanError
from engine.base.vocabulary import EventKind, InstanceStatus
from engine.bpmn import respec, state
from engine.bpmn.stepping import Snapshot, Step, element_of, visible_data
from engine.definitions.compiler import CompiledProcess
from engine.people.access import Actor
from engine.runtime.commit import task_row
from engine.store import statements
from engine.store.models import CaseFact, HumanTask, Instance, MessageWait, ProcessVersion, Timer

if TYPE_CHECKING:
    from engine.runtime.runtime import Runtime

#: the cases a migration takes: running, and stopped ones (their resume continues on the new version)
MOVABLE = (InstanceStatus.RUNNING, InstanceStatus.SUSPENDED)
MAX_CASES = 1000  # one request; more are moved in batches (`--case` or several runs)
MAX_VERSION = 2**31 - 1  # process_versions.version is an INTEGER


@dataclass
class CaseMigration:
    """One case: where it waits and where that goes, or why it cannot move; what became of it."""

    id: int
    case_number: str
    outcome: str = "would_move"  # would_move | moved | refused | conflict
    moves: list[respec.Move] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "case_number": self.case_number, "outcome": self.outcome,
                "moves": [m.to_dict() for m in self.moves], "problems": self.problems}


@dataclass
class Migration:
    process_key: str
    from_version: int
    to_version: int
    mapping: dict[str, str]
    dry_run: bool
    cases: list[CaseMigration] = field(default_factory=list)

    @property
    def refused(self) -> list[CaseMigration]:
        return [c for c in self.cases if c.problems]

    def to_dict(self) -> dict[str, Any]:
        return {"process_key": self.process_key, "from_version": self.from_version, "to_version": self.to_version,
                "mapping": self.mapping, "dry_run": self.dry_run, "cases": [c.to_dict() for c in self.cases]}


def migrate(rt: Runtime, key: str, from_version: Any, to_version: Any, mapping: Any, cases: Any, actor: Actor,
            dry_run: bool) -> Migration:
    """Check, then (unless `dry_run`) move; Forbidden for anyone but an administrator, NotFound for a process or
    version not deployed, FormInvalid (with field paths) for a wrong request, Conflict when a case is refused."""
    if not actor.is_admin:
        raise Forbidden("仅管理员可迁移办件 (administrators only)")
    mapping = _checked_mapping(mapping)
    refs = _checked_cases(cases)
    with rt.db.reading() as conn:
        old_id, old_no, new_id, new_no = _versions(conn, key, from_version, to_version)
        _, old = rt.compiled_version(conn, old_id)
        _, new = rt.compiled_version(conn, new_id)
        _check_mapping(mapping, old, new)
        rows = _selected(conn, key, old_id, refs)
    result = Migration(key, old_no, new_no, mapping, dry_run)
    for ref, row in rows:
        if row is None or row.version_id != old_id or row.status not in MOVABLE:
            result.cases.append(CaseMigration(0 if row is None else row.id, ref, "refused",
                                              problems=[_unselectable(row, old_no)]))
            continue
        result.cases.append(_checked(row, old, new, mapping))
    if result.refused:
        for case in result.refused:
            case.outcome = "refused"
        if not dry_run:
            raise MigrationRefused(result)
        return result
    if dry_run:
        return result
    target = _Target(old_id, old_no, old, new_id, new_no, new, mapping)
    for case in result.cases:
        _move(rt, case, target, actor)
    return result


@dataclass(frozen=True)
class _Target:
    """The versions a migration moves between and its mapping."""

    old_id: int
    old_no: int
    old: CompiledProcess
    new_id: int
    new_no: int
    new: CompiledProcess
    mapping: dict[str, str]


class MigrationRefused(Conflict):
    """Some selected case cannot move: nothing moved; the report says which and why (409)."""

    def __init__(self, migration: Migration) -> None:
        fields = {f"/cases/{c.case_number}": c.problems for c in migration.refused}
        super().__init__(f"{len(migration.refused)} 件办件不能迁移，未迁移任何办件 ({len(migration.refused)} cases "
                         "cannot be moved: none was moved)", fields)
        self.migration = migration


def _checked_mapping(mapping: Any) -> dict[str, str]:
    if mapping is None:
        return {}
    if not isinstance(mapping, dict):
        raise FormInvalid("映射必须是对象 (the mapping must be an object: old element id → new element id)",
                          {"/mapping": ["not an object"]})
    bad = {f"/mapping/{k}": ["必须是环节标识 (must be an element id)"] for k, v in mapping.items()
           if not isinstance(v, str) or not v or len(v) > 200 or len(str(k)) > 200}
    if bad:
        raise FormInvalid("映射有误 (the mapping is wrong)", bad)
    return dict(mapping)


def _checked_cases(cases: Any) -> list[str] | None:
    if cases is None:
        return None
    if not isinstance(cases, list) or not all(isinstance(c, str) and 0 < len(c) <= 40 for c in cases) \
            or len(cases) > MAX_CASES:
        raise FormInvalid(f"办件须为至多 {MAX_CASES} 个办件编号 (cases must be a list of at most {MAX_CASES} case "
                          "numbers)", {"/cases": ["not a list of case numbers"]})
    return list(dict.fromkeys(cases))


def _version_number(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_VERSION:
        raise FormInvalid(f"{name} 须为版本号 ({name} must be a version number)",
                          {f"/{name}": ["not a version number"]})
    return value


def _versions(conn: Connection, key: str, from_version: Any, to_version: Any) -> tuple[int, int, int, int]:
    """(id, number) of the version the cases leave and of the one they go to (default: the newest)."""
    old_no = _version_number(from_version, "from_version")
    latest = statements.latest_version(conn, key)
    if latest is None:
        raise NotFound(f"流程未部署 (process {key!r} is not deployed)")
    new_no = latest.version if to_version is None else _version_number(to_version, "to_version")
    found = dict(conn.execute(select(ProcessVersion.version, ProcessVersion.id).where(
        ProcessVersion.process_key == key, ProcessVersion.version.in_((old_no, new_no)))).all())
    for no, name in ((old_no, "from_version"), (new_no, "to_version")):
        if no not in found:
            raise NotFound(f"流程 {key} 没有版本 {no} (process {key!r} has no version {no})",
                           {f"/{name}": ["not deployed"]})
    if new_no <= old_no:
        raise FormInvalid(f"只能迁移到更新的版本 (cases move to a later version only: {new_no} is not after {old_no})",
                          {"/to_version": [f"not after {old_no}"]})
    return found[old_no], old_no, found[new_no], new_no


def _check_mapping(mapping: dict[str, str], old: CompiledProcess, new: CompiledProcess) -> None:
    """Each entry names an element of the old version and one of the same kind in the new."""
    old_kinds, new_kinds = respec.element_kinds(old), respec.element_kinds(new)
    bad: dict[str, list[str]] = {}
    for source, target in mapping.items():
        if source not in old_kinds:
            bad[f"/mapping/{source}"] = [f"旧版本没有环节 {source} (version n has no element {source})"]
        elif target not in new_kinds:
            bad[f"/mapping/{source}"] = [f"新版本没有环节 {target} (the new version has no element {target})"]
        elif old_kinds[source] != new_kinds[target]:
            bad[f"/mapping/{source}"] = [f"{source} 是 {old_kinds[source]}，{target} 是 {new_kinds[target]} "
                                         f"(not the same kind: {old_kinds[source]} → {new_kinds[target]})"]
    if bad:
        raise FormInvalid("映射有误 (the mapping is wrong)", bad)


def _selected(conn: Connection, key: str, old_id: int, refs: list[str] | None) -> list[tuple[str, Row[Any] | None]]:
    """The named cases of the process (None where it has no such case), or all its movable cases on version n."""
    query = select(*statements.INSTANCE_COLUMNS).where(Instance.process_key == key)
    if refs is None:
        rows = conn.execute(query.where(Instance.version_id == old_id, Instance.status.in_(MOVABLE))
                            .order_by(Instance.id).limit(MAX_CASES)).all()
        return [(r.case_number, r) for r in rows]
    found = {r.case_number: r for r in conn.execute(query.where(Instance.case_number.in_(refs)))}
    return [(ref, found.get(ref)) for ref in refs]


def _unselectable(row: Row[Any] | None, old_no: int) -> str:
    if row is None:
        return "该流程没有此办件 (the process has no such case)"
    if row.status not in MOVABLE:
        return f"办件状态为 {row.status}，只迁移办理中或挂起的办件 (the case is {row.status}: only running or " \
               "suspended cases move)"
    return f"办件不在版本 {old_no} 上 (the case is not on version {old_no})"


def _checked(row: Row[Any], old: CompiledProcess, new: CompiledProcess,
             mapping: dict[str, str]) -> CaseMigration:
    workflow = state.loads(row.state, old)
    moves, problems = respec.plan(workflow, new, mapping)
    case = CaseMigration(row.id, row.case_number, moves=moves, problems=problems)
    if not problems:
        case.problems = _form_problems(workflow, new, moves)
    return case


def _form_problems(workflow: Any, new: CompiledProcess, moves: list[respec.Move]) -> list[str]:
    """The forms check: the new start form's required fields are in the case data; a waiting user task's new form
    finds each required read-only field it shows (nobody can enter those) in the case."""
    data = visible_data(workflow)
    problems = []
    start = new.forms.get(new.start_form) if new.start_form else None
    if start is not None and (missing := [f for f in start.schema.get("required", []) if f not in data]):
        problems.append(f"新版本的申请表单要求的 {', '.join(missing)} 在办件数据中没有 (the new version's start form "
                        f"requires {', '.join(missing)}, which the case's data lacks)")
    forms = {spec.form for (_, name), spec in new.human_tasks.items() for m in moves if m.to == name and spec.form}
    for name in sorted(forms):
        form = new.forms.get(name)
        if form is None:
            continue
        missing = [f for f in form.schema.get("required", []) if f in form.read_only and f not in data]
        if missing:
            problems.append(f"新版本表单 {name} 只读显示的必填项 {', '.join(missing)} 在办件数据中没有 (the new form "
                            f"{name} shows the required read-only {', '.join(missing)}, which the case's data lacks)")
    return problems


def _move(rt: Runtime, case: CaseMigration, target: _Target, actor: Actor, tries: int = 2) -> None:
    """One case in one step; a case somebody stepped meanwhile is read and checked again."""
    with rt.db.reading() as conn:
        row = conn.execute(select(*statements.INSTANCE_COLUMNS).where(Instance.id == case.id)).one()
    if row.version_id != target.old_id or row.status not in MOVABLE:
        case.outcome, case.problems = "conflict", [_unselectable(row, target.old_no)]
        return
    workflow = state.loads(row.state, target.old)  # never the live cache's: this step replaces its spec
    before = Snapshot.of(workflow)
    try:
        case.moves = respec.move(workflow, target.new, target.mapping)
    except ValueError as exc:  # it changed since the check, to something that cannot move
        case.outcome, case.problems = "conflict", [str(exc)]
        return
    event = {"kind": EventKind.MIGRATED, "detail": {
        "from": target.old_no, "to": target.new_no, "moves": [m.to_dict() for m in case.moves]}}
    step = Step(workflow, InstanceStatus(row.status), [event])
    try:
        rt._commit(row, target.new, target.new_no, step, actor, before,
                   within=lambda conn: _rederive(rt, conn, row, target, before, workflow))
    except Conflict:
        if tries > 1:
            _move(rt, case, target, actor, tries - 1)
            return
        case.outcome, case.problems = "conflict", ["办件正被他人办理，请重试 (the case is being stepped: try again)"]
        return
    except TongbanError as exc:  # e.g. the new lane's office cannot be worked out: nothing was written
        case.outcome, case.problems = "conflict", [exc.message]
        return
    case.outcome = "moved"


def _rederive(rt: Runtime, conn: Connection, row: Row[Any], target: _Target, before: Snapshot,
              workflow: Any) -> None:
    """In the move's transaction: the instance on the new version, its open task rows and timer rows for their new
    elements, and the case facts the new version no longer reports removed (the step upserts the others)."""
    conn.execute(update(Instance).where(Instance.id == row.id).values(version_id=target.new_id))
    after = Snapshot.of(workflow)
    at = now()
    for task_id, task in after.tasks.items():
        was = conn.execute(select(HumanTask.role, HumanTask.org_id).where(HumanTask.id == task_id)).one_or_none()
        if was is None:
            continue
        fresh = task_row(conn, rt.orgs, target.new, task, row.enterprise_id, at)
        values = {k: fresh[k] for k in ("process_id", "element_id", "name", "role", "org_id", "form")}
        if (was.role, was.org_id) != (fresh["role"], fresh["org_id"]):
            values["assignee_id"] = None  # claimed under a role or office the task no longer has
        conn.execute(update(HumanTask).where(HumanTask.id == task_id).values(**values))
    for task_id, (element, _) in after.timers.items():
        conn.execute(update(Timer).where(Timer.task_id == task_id).values(element_id=element))
    for task_id, (task, awaited) in after.messages.items():  # keys kept: the case was told them when it began to wait
        names = [name for _, name in awaited]
        conn.execute(update(MessageWait).where(MessageWait.task_id == task_id, MessageWait.message.not_in(names))
                     .values(message=names[0], kind=awaited[0][0]))
        conn.execute(update(MessageWait).where(MessageWait.task_id == task_id).values(element_id=element_of(task)))
    conn.execute(delete(CaseFact).where(CaseFact.instance_id == row.id,
                                        CaseFact.name.not_in([k.name for k in target.new.manifest.report])))
