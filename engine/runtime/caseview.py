"""What a case page shows beyond the instance view: its own diagram, and its data under human names.

A page is built from one read of the instance row and one deserialization of its workflow at most: the
task page from `Runtime.task_page` (the task, its case in detail and its version together), the case page
from `Runtime.instance_with_version`.
"""

from __future__ import annotations

from typing import Any

from engine.base.xmlsafe import parse_xml
from engine.case.history import field_titles
from engine.definitions.compiler import BPMN_NS, CompiledProcess
from engine.people.access import Actor
from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView

Fields = list[tuple[str, Any]]


def diagram_xml(runtime: Runtime, ref: int | str, actor: Actor) -> str:
    """The BPMN file of the case's own version, for viewers that mark completed and active steps."""
    _, compiled = runtime.instance_with_version(ref, actor)
    process_id = compiled.spec.name
    for path, content in sorted(compiled.files.items()):
        if path.endswith(".bpmn") and any(
                p.get("id") == process_id for p in parse_xml(content, path).iter(f"{{{BPMN_NS}}}process")):
            return content.decode("utf-8")
    raise LookupError(f"no BPMN file defines process {process_id}")  # cannot happen for a deployed version


def labelled(view: InstanceView, compiled: CompiledProcess) -> Fields:
    """(title, value) for each field of a detailed case's data that one of its forms asked for, in form order.

    Bookkeeping variables of scripts and decisions have no form, so they stay out of what people read.
    """
    data = view.data or {}
    schemas = _field_schemas(compiled)
    return [(title, shown(data[name], schemas.get(name))) for name, title in field_titles(compiled).items()
            if name in data]


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
        return value
    properties = schema.get("properties")
    if isinstance(value, dict) and isinstance(properties, dict):
        return {_title(properties.get(k), k): shown(v, properties.get(k)) for k, v in value.items()}
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [shown(v, schema["items"]) for v in value]
    return value


def _title(schema: Any, key: str) -> str:
    return str(schema.get("title") or key) if isinstance(schema, dict) else key


def case_page(runtime: Runtime, ref: int | str, actor: Actor) -> tuple[InstanceView, Fields]:
    """A case in detail and its labelled data: what the case page shows."""
    view, compiled = runtime.instance_with_version(ref, actor, detail=True)
    return view, labelled(view, compiled)


def task_page(runtime: Runtime, task_id: str, actor: Actor) -> tuple[dict[str, Any], InstanceView, Fields]:
    """A task (`Runtime.task_detail`), its case in detail and the case's labelled data: what the task page shows."""
    detail, view, compiled = runtime.task_page(task_id, actor)
    return detail, view, labelled(view, compiled)
