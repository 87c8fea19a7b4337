"""A case's field history as people read it: when, who (a person, or a step of the process), which field,
old → new — with personal data masked for those who may not see it.

The changes themselves are recorded with each step's events (engine/bpmn/changes.py); this turns them into
rows with the forms' field titles and the elements' names, so the case page, the API and `tongban show`
all tell the same story.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from engine.definitions.compiler import CompiledProcess
from engine.people.access import Actor, may_see_personal_data


def field_titles(compiled: CompiledProcess) -> dict[str, str]:
    """Top-level field → the title the first form that asks for it gives it, in form order."""
    titles: dict[str, str] = {}
    for form in compiled.forms.values():
        for name, field in (form.schema.get("properties") or {}).items():
            if isinstance(field, dict) and field.get("title"):
                titles.setdefault(name, str(field["title"]))
    return titles


def personal_fields(compiled: CompiledProcess) -> frozenset[str]:
    return frozenset(name for form in compiled.forms.values() for name in form.personal)


def hidden_from(actor: Actor, enterprise_id: int | None, compiled: CompiledProcess) -> frozenset[str]:
    """The personal fields this actor sees masked in a case of this enterprise (none, for those who may)."""
    return frozenset() if may_see_personal_data(actor, enterprise_id) else personal_fields(compiled)


def element_names(compiled: CompiledProcess) -> dict[str, str]:
    """BPMN element id → its name, across the process and the subprocesses it calls."""
    names: dict[str, str] = {}
    for spec in (compiled.spec, *compiled.subprocess_specs.values()):
        for task_spec in spec.task_specs.values():
            element = getattr(task_spec, "bpmn_id", None)
            if element and getattr(task_spec, "bpmn_name", None):
                names.setdefault(element, task_spec.bpmn_name)
    return names


def mask(value: Any) -> Any:
    """Enough of an ID number to tell two apart, not enough to use it: 3702**********0012."""
    if value is None:
        return None
    text = str(value)
    return text[:4] + "*" * (len(text) - 8) + text[-4:] if len(text) > 8 else "*" * len(text)


def masked_data(data: Mapping[str, Any], personal: frozenset[str]) -> dict[str, Any]:
    return {k: mask(v) if k in personal else v for k, v in data.items()}


def field_history(events: Iterable[dict[str, Any]], compiled: CompiledProcess, usernames: Mapping[int, str],
                  hidden: frozenset[str]) -> list[dict[str, Any]]:
    """One row per changed field, oldest first; values of the `hidden` top-level fields are masked."""
    titles, names = field_titles(compiled), element_names(compiled)
    rows = []
    for event in events:
        for change in (event.get("detail") or {}).get("changes") or []:
            field = change["path"].split("/")[1] if change["path"] != "/" else ""
            rest = change["path"][len(field) + 1:]
            row: dict[str, Any] = {
                "at": event["at"], "path": change["path"], "field": titles.get(field, field) + rest,
                "user": usernames.get(event["user_id"]) if event.get("user_id") else None,
                "element_id": event.get("element_id"),
                "element": names.get(event.get("element_id") or "", event.get("element_id")),
            }
            for side in ("old", "new"):
                if side in change:
                    row[side] = mask(change[side]) if field in hidden else change[side]
            rows.append(row)
    return rows
