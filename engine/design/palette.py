"""What the modeler's properties panel offers for one diagram, and which files each of its elements uses.

The panel sets tongban's own element properties (engine/definitions/compiler.py and lint.py read them); offering
the forms, document templates, decision tables, service operators, organisations and outcomes that exist keeps a
designer from typing a name validation would refuse. `uses` lets the page mark a problem of a form or decision
file on the elements that use that file.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from lxml import etree

from engine.base.settings import Settings
from engine.base.xmlsafe import UnsafeXml, parse_xml
from engine.bpmn.services import operators
from engine.definitions.compiler import BPMN_NS, FORM_PROPERTY, NS, UI_PROPERTY, properties
from engine.definitions.organisations import organisations_in
from engine.definitions.outcomes import DESIGNER_OUTCOMES
from engine.definitions.templates import TEMPLATES_NAME, folder_of, load_templates
from engine.definitions.workspace import FORMS, Files
from engine.design.designer import read_source, workspace
from engine.people.access import Actor


@dataclass(frozen=True)
class Palette:
    forms: list[str]
    documents: list[str]
    #: decision id → the .dmn file that holds it
    decisions: dict[str, str]
    #: operator name → {"required": [...], "optional": [...], "description": "…"}
    operators: dict[str, dict[str, Any]]
    #: organisation code → "名称 (name)"
    organisations: dict[str, str]
    outcomes: list[str]
    #: element id → the other files it uses (forms, decision tables, called processes)
    uses: dict[str, list[str]]


def _trees(files: Files, suffix: str) -> dict[str, etree._Element]:
    out = {}
    for path, content in files.items():
        if path.endswith(suffix):
            try:
                out[path] = parse_xml(content, path).getroot()
            except UnsafeXml:
                continue  # validation reports it
    return out


def _documents(files: Files, path: str) -> list[str]:
    source = folder_of(path) + TEMPLATES_NAME
    try:
        return sorted(load_templates(source, files[source])) if source in files else []
    except ValueError:
        return []


def _uses(root: etree._Element, decisions: dict[str, str], processes: dict[str, str]) -> dict[str, list[str]]:
    uses: dict[str, list[str]] = {}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        if not element.get("id"):
            continue
        props = properties(element)
        used = [FORMS + props[k] for k in (FORM_PROPERTY, UI_PROPERTY) if props.get(k)]
        used += [decisions[d.text.strip()] for d in element.xpath("./bpmn:extensionElements/spiffworkflow:"
                                                                  "calledDecisionId", namespaces=NS)
                 if d.text and d.text.strip() in decisions]
        if element.get("calledElement") in processes:
            used.append(processes[element.get("calledElement")])
        if used:
            uses[element.get("id")] = used
    return uses


def palette(settings: Settings, path: str, actor: Actor) -> Palette:
    """The choices for the diagram at `path` (designers only; anything not editable is not found)."""
    read_source(settings, path, actor)
    files = workspace(settings)
    decisions = {d.get("id"): p for p, root in _trees(files, ".dmn").items() for d in root.iter("{*}decision")
                 if d.get("id")}
    diagrams = _trees(files, ".bpmn")
    processes = {e.get("id"): p for p, root in diagrams.items() for e in root.iterfind(f"{{{BPMN_NS}}}process")}
    try:
        listed = organisations_in(files)
    except ValueError:
        listed = None
    return Palette(
        forms=sorted(p.removeprefix(FORMS) for p in files if p.startswith(FORMS) and p.endswith(".json")),
        documents=_documents(files, path),
        decisions=dict(sorted(decisions.items())),
        operators={name: {"required": sorted(op.required), "optional": sorted(op.optional),
                          "description": op.description} for name, op in sorted(operators().items())},
        organisations={o.code: f"{o.zh} ({o.en})" for o in listed} if listed else {},
        outcomes=list(DESIGNER_OUTCOMES),
        uses=_uses(diagrams[path], decisions, processes) if path in diagrams else {})
