"""What a case page shows beyond the instance view: its own diagram, and its data under human names."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from engine.base.xmlsafe import parse_xml
from engine.case.history import field_titles
from engine.definitions.compiler import BPMN_NS, CompiledProcess
from engine.people.access import Actor
from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView
from engine.store.models import Instance


def _case(runtime: Runtime, ref: int | str, actor: Actor, detail: bool = False) -> tuple[InstanceView, CompiledProcess]:
    """The case (scoped: NotFound when the actor may not see it) and the version it runs on, not the newest."""
    view = runtime.instance(ref, actor, detail=detail)
    with runtime.db.reading() as conn:
        version_id = conn.execute(select(Instance.version_id).where(Instance.id == view.id)).scalar_one()
        _, compiled = runtime.compiled_version(conn, version_id)
    return view, compiled


def diagram_xml(runtime: Runtime, ref: int | str, actor: Actor) -> str:
    """The BPMN file of the case's own version, for viewers that mark completed and active steps."""
    _, compiled = _case(runtime, ref, actor)
    process_id = compiled.spec.name
    for path, content in sorted(compiled.files.items()):
        if path.endswith(".bpmn") and any(
                p.get("id") == process_id for p in parse_xml(content, path).iter(f"{{{BPMN_NS}}}process")):
            return content.decode("utf-8")
    raise LookupError(f"no BPMN file defines process {process_id}")  # cannot happen for a deployed version


def labelled_data(runtime: Runtime, ref: int | str, actor: Actor) -> list[tuple[str, Any]]:
    """(title, value) for each field of the case's data that one of its forms asked for, in form order.

    Bookkeeping variables of scripts and decisions have no form, so they stay out of what people read.
    """
    view, compiled = _case(runtime, ref, actor, detail=True)
    data = view.data or {}
    return [(title, data[name]) for name, title in field_titles(compiled).items() if name in data]
