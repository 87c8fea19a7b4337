"""What a case page shows beyond the instance view: its own diagram, and its data under human names.

A page is built from one read of the instance row and one deserialization of its workflow at most: the
task page from `Runtime.task_page` (the task, its case in detail and its version together), the case page
from `Runtime.instance_with_version`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from engine.base.clock import now
from engine.base.vocabulary import EventKind, InstanceStatus, Outcome
from engine.base.workdays import WorkingDayCalendar
from engine.base.xmlsafe import parse_xml
from engine.case.attachments import AttachmentView, file_fields, list_attachments
from engine.case.history import field_titles
from engine.definitions.compiler import BPMN_NS, CompiledProcess
from engine.definitions.stages import StageSpec
from engine.people.access import Actor
from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView

Fields = list[tuple[str, Any]]
Files = dict[int, AttachmentView]

#: the stages every case passes (DOMAIN.md) unless its process declares its own: 申请 → 受理 → 审查 → 决定 → 送达
STAGES = ("apply", "accept", "review", "decide", "deliver")
#: outcomes that end a case short of its last stage: the bar shows where it stopped
STOPPING = frozenset({Outcome.REFUSED, Outcome.NOT_ACCEPTED, Outcome.LAPSED, Outcome.WITHDRAWN, Outcome.TERMINATED,
                      Outcome.REVOKED})
LIVE = (InstanceStatus.RUNNING, InstanceStatus.ERROR, InstanceStatus.SUSPENDED)


@dataclass(frozen=True)
class Stage:
    """One stage of the case's progress bar: `done`, `current`, `todo`, or `stopped` (where a refusal ended it).

    `name` is (zh, en) for a stage the process declares; None for a general one, which the page names by key."""

    key: str
    state: str
    name: tuple[str, str] | None = None


def stages(view: InstanceView, compiled: CompiledProcess) -> list[Stage]:
    """Where a detailed case stands: on its process's declared stages, else on 申请 → 受理 → 审查 → 决定 → 送达."""
    return declared_stages(view, compiled.manifest.stages) if compiled.manifest.stages else \
        general_stages(view, compiled)


def declared_stages(view: InstanceView, declared: tuple[StageSpec, ...]) -> list[Stage]:
    """The stage a case reached is the last one with an element it passed or waits at; the ones before are done.

    It is current while one of its elements waits (or, its own elements all passed, the next one is current while
    the case runs on between them; past the last one's elements every stage is done); a case that ended with a
    refusal, withdrawal or termination stopped there, one that ended otherwise went through (an answered enquiry,
    a closed request: nothing left to wait for).
    """
    diagram = view.diagram or {}
    active, passed = set(diagram.get("active") or ()), set(diagram.get("completed") or ())
    touched = [i for i, s in enumerate(declared) if set(s.elements) & (active | passed)]
    reached = touched[-1] if touched else 0
    waiting = bool(set(declared[reached].elements) & active)
    if view.outcome in STOPPING:
        states = ["done"] * reached + ["stopped"] + ["todo"] * (len(declared) - reached - 1)
    elif view.status not in LIVE or (reached == len(declared) - 1 and not waiting):
        states = ["done"] * len(declared)  # through: what still runs (a validity period, a rating) is no stage
    else:
        current = reached if waiting else reached + 1
        states = ["done"] * current + ["current"] + ["todo"] * (len(declared) - current - 1)
    return [Stage(s.key, state, (s.name_zh, s.name_en)) for s, state in zip(declared, states, strict=True)]


def general_stages(view: InstanceView, compiled: CompiledProcess) -> list[Stage]:
    """Where a detailed case stands on 申请 → 受理 → 审查 → 决定 → 送达.

    Accepted: an element flagged `accepts` completed (for a process without one, any step after the start did).
    Decided: the case has its outcome; a case decided without being accepted (不予受理, a negative-list refusal,
    a lapsed 补正) stops at 受理, a withdrawn or terminated one where it stood. Delivered: a document was issued
    with or after the decision (or the case is closed).
    """
    completed = set((view.diagram or {}).get("completed") or ())
    events = view.events or []
    accepted = bool(completed & compiled.acceptance_elements) if compiled.acceptance_elements else any(
        e["kind"] == EventKind.TASK_COMPLETED for e in events)
    decided_at = max((datetime.fromisoformat(e["at"]) for e in events if e["kind"] == EventKind.OUTCOME_SET),
                     default=None)
    decided = accepted and view.outcome not in (None, Outcome.WITHDRAWN, Outcome.TERMINATED)
    delivered = decided and (view.status == InstanceStatus.COMPLETED or (decided_at is not None and any(
        d["issued_at"] >= decided_at for d in view.documents or ())))
    reached = sum((True, accepted, decided, decided, delivered))  # each stage needs the ones before it
    halted = (view.outcome is not None and not decided) or (view.status == InstanceStatus.COMPLETED and not decided)
    following = "stopped" if halted else "current" if view.status in LIVE else "todo"
    return [Stage(key, "done" if i < reached else following if i == reached else "todo")
            for i, key in enumerate(STAGES)]


def diagram_xml(runtime: Runtime, ref: int | str, actor: Actor) -> str:
    """The BPMN file of the case's own version, for viewers that mark completed and active steps."""
    _, compiled = runtime.instance_with_version(ref, actor)
    process_id = compiled.spec.name
    for path, content in sorted(compiled.files.items()):
        if path.endswith(".bpmn") and any(
                p.get("id") == process_id for p in parse_xml(content, path).iter(f"{{{BPMN_NS}}}process")):
            return content.decode("utf-8")
    raise LookupError(f"no BPMN file defines process {process_id}")  # cannot happen for a deployed version


def labelled(view: InstanceView, compiled: CompiledProcess, files: Files) -> Fields:
    """(title, value) for each field of a detailed case's data that one of its forms asked for, in form order;
    a file field's ids as the files themselves (name, size, link), a moment as a datetime the page formats.

    Bookkeeping variables of scripts and decisions have no form, so they stay out of what people read.
    """
    data = view.data or {}
    schemas = _field_schemas(compiled)
    attached = {name for form in compiled.forms.values() for name in file_fields(form)}
    return [(title, _files(data[name], files) if name in attached else shown(data[name], schemas.get(name)))
            for name, title in field_titles(compiled).items() if name in data]


def labelled_changes(rows: list[dict[str, Any]], compiled: CompiledProcess, files: Files) -> list[dict[str, Any]]:
    """The field history (engine/case/history.py) with its old and new values shown as the forms offered them."""
    schemas = _field_schemas(compiled)
    attached = {name for form in compiled.forms.values() for name in file_fields(form)}
    out = []
    for row in rows:
        field, *rest = row["path"].strip("/").split("/")
        schema = schemas.get(field)
        for part in rest:  # down a nested path: an object's property, an array's item
            schema = (schema.get("items") if part.isdigit() else (schema.get("properties") or {}).get(part)) \
                if isinstance(schema, dict) else None
        whole_files = field in attached and not rest
        out.append({**row, **{side: _files(row[side], files) if whole_files else shown(row[side], schema)
                              for side in ("old", "new") if side in row}})
    return out


def _files(value: Any, files: Files) -> list[Any]:
    """Attachment ids (one, or a list; numbers or digits) as the case's files; an id it has not is kept as sent."""
    ids = value if isinstance(value, list) else [] if value in (None, "") else [value]
    return [files.get(int(v), v) if isinstance(v, int | str) and str(v).isdigit() else v for v in ids]


def _field_schemas(compiled: CompiledProcess) -> dict[str, Any]:
    """Top-level field → its schema in the first form that declares it (the one its title comes from)."""
    schemas: dict[str, Any] = {}
    for form in compiled.forms.values():
        for name, field in (form.schema.get("properties") or {}).items():
            if isinstance(field, dict) and field.get("title"):
                schemas.setdefault(name, field)
    return schemas


def shown(value: Any, schema: Any) -> Any:
    """A value as its form offered it: a choice by its label (an organisation code by its name, `approved` by
    通过), the fields of an object by their titles; anything else as stored."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, str | int) and not isinstance(value, bool):
        for option in schema.get("oneOf") or ():
            if isinstance(option, dict) and option.get("const") == value and option.get("title"):
                return option["title"]
        return _moment(value) if isinstance(value, str) else value
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        return {_title(properties.get(k), k): shown(v, properties.get(k)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [shown(v, schema["items"]) for v in value]
    return value


def _moment(text: str) -> Any:
    """An ISO date-time with its offset (a deadline a script set) as a datetime, for the page to show in local
    time; any other text as it is."""
    if "T" not in text or len(text) < 19:
        return text
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    return moment if moment.tzinfo is not None else text


def _title(schema: Any, key: str) -> str:
    return str(schema.get("title") or key) if isinstance(schema, dict) else key


@dataclass(frozen=True)
class Countdown:
    """The promised date of the step a case waits at, in working days (the district's calendar): `days` left, or
    past it when `overdue` (0: due today, or overdue since earlier today)."""

    due: datetime
    days: int
    overdue: bool


def countdown(view: InstanceView, calendar: WorkingDayCalendar, at: datetime) -> Countdown | None:
    """None once the case is decided or stopped, or when none of its open steps has a deadline."""
    if view.due_at is None or view.status != InstanceStatus.RUNNING or view.outcome is not None:
        return None
    return Countdown(view.due_at, abs(calendar.working_days_between(at, view.due_at)), view.due_at < at)


@dataclass(frozen=True)
class CasePage:
    """What the case page shows: the case in detail, its labelled data, its files, its stages and its countdown."""

    view: InstanceView
    fields: Fields
    files: list[AttachmentView]
    stages: list[Stage]
    countdown: Countdown | None = None


def case_page(runtime: Runtime, ref: int | str, actor: Actor) -> CasePage:
    """A case in detail, its labelled data, files, stages and countdown: what the case page shows."""
    view, compiled = runtime.instance_with_version(ref, actor, detail=True)
    files = list_attachments(runtime.db, view.id, actor)
    by_id = {f.id: f for f in files}
    view.history = labelled_changes(view.history or [], compiled, by_id)
    return CasePage(view, labelled(view, compiled, by_id), files, stages(view, compiled),
                    countdown(view, runtime.context.calendar.get(), now()))


def task_page(runtime: Runtime, task_id: str, actor: Actor) -> tuple[dict[str, Any], InstanceView, Fields]:
    """A task (`Runtime.task_detail`), its case in detail and the case's labelled data: what the task page shows."""
    detail, view, compiled = runtime.task_page(task_id, actor)
    files = list_attachments(runtime.db, view.id, actor)
    return detail, view, labelled(view, compiled, {f.id: f for f in files})
