"""Parse a set of process files with SpiffWorkflow and keep everything tongban needs beside the specs.

Both `tongban validate` and the run-time spec cache go through `ParsedWorkspace`, so what is
validated is exactly what runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from lxml import etree
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.bpmn_process_spec import BpmnProcessSpec
from SpiffWorkflow.bpmn.specs.defaults import EndEvent
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.manual_task import ManualTask as ManualTaskMixin
from SpiffWorkflow.bpmn.specs.mixins.user_task import UserTask as UserTaskMixin
from SpiffWorkflow.dmn.parser.BpmnDmnParser import SCHEMAS as DMN_SCHEMAS
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.spiff.parser.process import VALIDATOR as BPMN_VALIDATOR
from SpiffWorkflow.spiff.parser.process import SpiffBpmnParser, full_tag
from SpiffWorkflow.spiff.parser.task_spec import ServiceTaskParser
from SpiffWorkflow.spiff.specs.defaults import SubWorkflowTask

from engine.base.problems import Problem
from engine.base.xmlsafe import UnsafeXml, parse_xml
from engine.bpmn import eventsubprocesses
from engine.bpmn.decisions import DecisionEngine, DecisionTable, load_decisions
from engine.bpmn.servicetask import ServiceTask
from engine.definitions.catalogue import Role, RoleCatalogue
from engine.definitions.copies import CC_PROPERTY, Recipients, parse
from engine.definitions.forms import Form, load_form
from engine.definitions.organisations import ORGANISATIONS_PATH, OrganisationList, organisations_in
from engine.definitions.rewrite import for_spiff
from engine.definitions.structure import structure_problems
from engine.definitions.templates import (
    DOCUMENT_PROPERTY,
    ORG_NAME_HELPER,
    TEMPLATES_NAME,
    Template,
    folder_of,
    names,
    templates_for,
)
from engine.definitions.unsupported import find_unsupported
from engine.definitions.workspace import FORMS, ROLES_PATH, Files, Manifest, content_hash, manifests

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "spiffworkflow": SPIFF_NS}
FORM_PROPERTY = "formJsonSchemaFilename"
UI_PROPERTY = "formUiSchemaFilename"
ORG_PROPERTY = "candidateOrg"
#: on an enterprise role's task: an expression giving another case's number; the task goes to the enterprise that
#: filed that case (a donor asked, in the spending project's case, to consent to a change of use of its donation)
ENTERPRISE_PROPERTY = "candidateEnterprise"
DUE_PROPERTY = "dueDate"
WARN_PROPERTY = "warnAt"
#: on a message catch event: an expression over the case data whose value delivers a message to this case
KEY_PROPERTY = "correlationKey"
OUTCOME_PROPERTY = "outcome"  # the case outcome an element sets on completion (engine/base/vocabulary.py Outcome)
#: `true` on the element whose completion means an office has accepted the case (受理, 视为受理, 容缺受理): from
#: then on the applicant may only *ask* to withdraw (engine/runtime/withdrawal.py)
ACCEPTS_PROPERTY = "accepts"
#: what the applicant is told when the element issues its documents or its task becomes the applicant's:
#: `false` says nothing, any other text replaces the default line (engine/case/applicantnotices.py)
NOTIFY_APPLICANT_PROPERTY = "notifyApplicant"
#: `false` on a user task forbids sending a case back to it / from it (退回, engine/runtime/returns.py)
RETURN_TO_PROPERTY = "allowReturnTo"
RETURN_FROM_PROPERTY = "allowReturnFrom"


@dataclass(frozen=True)
class HumanTaskSpec:
    """What tongban knows about one user task element: who may do it and with which form."""

    process_id: str
    element_id: str
    name: str
    lane: str | None
    role: Role | None
    form: str | None
    candidate_org: str | None
    #: expressions over the task's data: another case's number, whose enterprise the task goes to (enterprise roles)
    candidate_enterprise: str | None = None
    #: expressions over the task's data giving ISO datetimes: its deadline and its SLA warning time
    due_date: str | None = None
    warn_at: str | None = None
    #: whether an approver may send the case back to this task / from this task (`allowReturnTo`/`allowReturnFrom`)
    return_to: bool = True
    return_from: bool = True


@dataclass
class CompiledProcess:
    """A deployable, runnable process: specs parsed once and cached by content hash."""

    manifest: Manifest
    content_hash: str
    spec: BpmnProcessSpec
    subprocess_specs: dict[str, BpmnProcessSpec]
    human_tasks: dict[tuple[str, str], HumanTaskSpec]
    forms: dict[str, Form]
    start_form: str | None
    start_role: Role | None
    files: Files = field(repr=False)
    start_event: str | None = None  # the BPMN id of the start event people trigger
    #: ("message" | "signal", name) a message or signal start event starts the process with
    #: (engine/runtime/correlation.py), if it has one
    start_trigger: tuple[str, str] | None = None
    #: the process folder's document templates, and which elements issue which of them on completion
    documents: dict[str, Template] = field(default_factory=dict, repr=False)
    document_elements: dict[str, list[str]] = field(default_factory=dict)
    #: element id → the case outcome its completion sets (its `outcome` property)
    outcome_elements: dict[str, str] = field(default_factory=dict)
    #: the elements whose completion means the case was accepted (their `accepts` property)
    acceptance_elements: frozenset[str] = frozenset()
    #: element id → whom its completion copies the case to (its `cc` property, engine/definitions/copies.py)
    cc_elements: dict[str, Recipients] = field(default_factory=dict)
    #: element id → its `notifyApplicant` property, where it has one
    applicant_notice_elements: dict[str, str] = field(default_factory=dict)


def _applicants_step(process_id: str, start: Any, role: Role, props: dict[str, str]) -> HumanTaskSpec:
    """The start event people trigger with a form is the applicant's own step: made manual, it waits like a user
    task whenever it is ready — which is only when an approver returned the case to it (退回 to the applicant:
    SpiffWorkflow resets the start event, the applicant edits its submission on the start form and the case goes
    on from there); `Runtime.start` runs it itself with what the applicant submitted."""
    start.manual = True
    return HumanTaskSpec(process_id=process_id, element_id=start.name, name=start.bpmn_name or start.name,
                         lane=start.lane, role=role, form=props[FORM_PROPERTY], candidate_org=None,
                         return_to=props.get(RETURN_TO_PROPERTY) != "false", return_from=False)


def _trigger_of(start: Any) -> tuple[str, str] | None:
    """("message" | "signal", name) when the start event is a message or signal start event."""
    definition = getattr(start, "event_definition", None)
    if isinstance(definition, MessageEventDefinition):
        return "message", definition.name
    if isinstance(definition, SignalEventDefinition):
        return "signal", definition.name
    return None


class TongbanParser(SpiffBpmnParser):
    """Spiff's parser; XSD validation is run separately so that *every* error is collected. Decision tables are
    tongban's own (engine/bpmn/decisions.py), loaded and checked by `ParsedWorkspace`, not Spiff's DMN parser."""

    PROCESS_PARSER_CLASS = eventsubprocesses.ProcessParser
    OVERRIDE_PARSER_CLASSES: ClassVar = {**SpiffBpmnParser.OVERRIDE_PARSER_CLASSES,
                               full_tag("serviceTask"): (ServiceTaskParser, ServiceTask),
                               full_tag("startEvent"): (eventsubprocesses.StartEventParser,
                                                        eventsubprocesses.ScopedStartEvent),
                               full_tag("endEvent"): (eventsubprocesses.EndEventParser, EndEvent),
                               full_tag("subProcess"): (eventsubprocesses.SubprocessParser, SubWorkflowTask)}

    def __init__(self) -> None:
        super().__init__()
        self.decision_tables: dict[str, DecisionTable] = {}

    def get_engine(self, decision_ref: str, node: etree._Element) -> DecisionEngine:
        if decision_ref not in self.decision_tables:
            raise ValidationException(f"决策表 {decision_ref!r} 不存在或未通过校验 (no valid decision table "
                                      f"{decision_ref!r})", node=node, file_name="")
        return DecisionEngine(self.decision_tables[decision_ref])


def properties(element: etree._Element) -> dict[str, str]:
    return {
        p.get("name"): p.get("value")
        for p in element.xpath("./bpmn:extensionElements/spiffworkflow:properties/spiffworkflow:property",
                               namespaces=NS)
    }


class ParsedWorkspace:
    """Every BPMN/DMN file parsed safely, XSD-checked and fed to SpiffWorkflow, problems collected."""

    def __init__(self, files: Files) -> None:
        self.files = files
        self.problems: list[Problem] = []
        self.trees: dict[str, etree._ElementTree] = {}
        self.process_file: dict[str, str] = {}
        #: process id → the file that holds it, for processes in a file refused before parsing (its errors say why)
        self.refused: dict[str, str] = {}
        self.decision_file: dict[str, str] = {}
        self.lines: dict[str, dict[str, int]] = {}
        self.parser = TongbanParser()
        self.catalogue = self._load_catalogue()
        self.manifests = self._load_manifests()
        for path in sorted(p for p in files if p.endswith(".bpmn")):
            self._add(path, self._add_bpmn)
        for path in sorted(p for p in files if p.endswith(".dmn")):
            self._add(path, self._add_dmn)

    # -- loading -----------------------------------------------------------------------------------
    def problem(self, path: str, element_id: str | None, message: str, severity: str = "error",
                line: int | None = None) -> None:
        if line is None and element_id:
            line = self.lines.get(path, {}).get(element_id)
        self.problems.append(Problem(path, line, element_id, message, severity))  # type: ignore[arg-type]

    def _load_catalogue(self) -> RoleCatalogue:
        if ROLES_PATH not in self.files:
            self.problem(ROLES_PATH, None, "缺少角色目录 (the role catalogue processes/roles.yaml is missing)")
            return RoleCatalogue({})
        try:
            return RoleCatalogue.from_yaml(self.files[ROLES_PATH])
        except (KeyError, TypeError, ValueError) as exc:
            self.problem(ROLES_PATH, None, f"角色目录格式错误 (malformed role catalogue): {exc}")
            return RoleCatalogue({})

    def _load_manifests(self) -> list[Manifest]:
        try:
            return manifests(self.files)
        except ValueError as exc:
            self.problem(str(exc).split(":", 1)[0], None, str(exc), line=getattr(exc, "line", None))
            return []

    def _add(self, path: str, add: Any) -> None:
        try:
            tree = parse_xml(self.files[path], path)
        except UnsafeXml as exc:
            self.problems.append(exc.problem)
            return
        self.trees[path] = tree
        self.lines[path] = {el.get("id"): el.sourceline for el in tree.iter() if el.get("id")}
        try:
            add(path, tree)
        except ValidationException as exc:
            self.problem(path, exc.id or None, str(exc).rstrip(". "))
        except SpiffWorkflowException as exc:
            self.problem(path, None, str(exc).rstrip(". "))

    def _xsd(self, path: str, tree: etree._ElementTree, validator: BpmnValidator) -> bool:
        validator.preprocess(tree.getroot())
        if validator.validator.validate(tree):
            return True
        by_line: dict[int, etree._Element] = {}
        for el in tree.iter():
            if isinstance(el.tag, str):
                by_line.setdefault(el.sourceline, el)  # the element that opens on the reported line
        for err in validator.validator.error_log:
            element = by_line.get(err.line)
            while element is not None and element.get("id") is None:
                element = element.getparent()
            self.problem(path, element.get("id") if element is not None else None,
                         f"不符合 XSD (schema violation): {err.message}", line=err.line)
        return False

    def _add_bpmn(self, path: str, tree: etree._ElementTree) -> None:
        unsupported = find_unsupported(tree, path) + structure_problems(tree, path)
        self.problems.extend(unsupported)
        if not self._xsd(path, tree, BPMN_VALIDATOR) or unsupported:
            self.refused.update({p.get("id"): path for p in tree.getroot().iterfind(f"{{{BPMN_NS}}}process")})
            return
        for process in tree.getroot().iterfind(f"{{{BPMN_NS}}}process"):
            if process.get("id") in self.process_file:
                self.problem(path, process.get("id"), f"流程 id 重复 (duplicate process id, also in "
                             f"{self.process_file[process.get('id')]})")
                return
            self.process_file[process.get("id")] = path
        self.parser.add_bpmn_xml(for_spiff(tree.getroot()), filename=path)

    def _add_dmn(self, path: str, tree: etree._ElementTree) -> None:
        root = tree.getroot()
        schema = DMN_SCHEMAS.get(root.nsmap.get(None) or "")
        if schema is None:
            self.problem(path, None, f"不支持的 DMN 命名空间 (unsupported DMN namespace {root.nsmap.get(None)})")
            return
        for decision in root.iterfind("{*}decision"):  # known even when refused: its errors say why, not "missing"
            self.decision_file[decision.get("id")] = path
        if not self._xsd(path, tree, _dmn_validator(schema)):
            return
        tables, problems = load_decisions(root, path)
        self.problems.extend(problems)
        self.parser.decision_tables.update(tables)

    # -- queries -----------------------------------------------------------------------------------
    def process_elements(self) -> Iterator[tuple[str, etree._Element]]:
        for process_id, path in self.process_file.items():
            yield path, self.trees[path].getroot().find(f"{{{BPMN_NS}}}process[@id='{process_id}']")

    def dependencies(self, key: str) -> set[str]:
        """Paths of every file a process needs: its BPMN, called processes, DMN tables and forms."""
        needed: set[str] = {ROLES_PATH}
        needed.update(m.path for m in self.manifests if m.key == key)
        needed.update(folder_of(m.path) + TEMPLATES_NAME for m in self.manifests if m.key == key)
        pending, seen = [key], set()
        while pending:
            process_id = pending.pop()
            if process_id in seen or process_id not in self.process_file:
                continue
            seen.add(process_id)
            path = self.process_file[process_id]
            needed.add(path)
            process = self.trees[path].getroot().find(f"{{{BPMN_NS}}}process[@id='{process_id}']")
            pending.extend(c.get("calledElement") for c in process.iter(f"{{{BPMN_NS}}}callActivity"))
            for ref in process.xpath(".//spiffworkflow:calledDecisionId", namespaces=NS):
                if (ref.text or "").strip() in self.decision_file:
                    needed.add(self.decision_file[ref.text.strip()])
            for element in process.iter():
                props = properties(element) if isinstance(element.tag, str) else {}
                needed.update(FORMS + props[k] for k in (FORM_PROPERTY, UI_PROPERTY) if k in props)
                if FORM_PROPERTY in props:  # the UI schema beside a form travels (and is hashed) with it
                    needed.add(FORMS + props[FORM_PROPERTY].removesuffix(".json") + ".ui.json")
        if any(self._uses_organisations(p) for p in needed):  # forms offering, documents naming, organisations
            needed.add(ORGANISATIONS_PATH)
        return {p for p in needed if p in self.files}

    def _uses_organisations(self, path: str) -> bool:
        if path.startswith(FORMS) and path in self.files and not path.endswith(".ui.json"):
            form = self.forms.get(path[len(FORMS):])
            return form is not None and form.uses_organisations
        return path.endswith("/" + TEMPLATES_NAME) and ORG_NAME_HELPER.encode() in self.files.get(path, b"")

    def bundle(self, key: str) -> Files:
        return {p: self.files[p] for p in sorted(self.dependencies(key))}

    @cached_property
    def organisations(self) -> OrganisationList | None:
        """The district's organisation list (None without one; a malformed one is a problem on the file)."""
        try:
            return organisations_in(self.files)
        except ValueError as exc:
            self.problem(ORGANISATIONS_PATH, None, str(exc))
            return None

    @cached_property
    def forms(self) -> dict[str, Form]:
        """Every form file that parses as a valid JSON Schema (problems recorded for the rest)."""
        forms: dict[str, Form] = {}
        for path, content in self.files.items():
            if path.startswith(FORMS) and path.endswith(".json") and not path.endswith(".ui.json"):
                try:
                    # the UI schema lives beside its form: `x.json` + `x.ui.json` (the property names it too)
                    ui = self.files.get(path[: -len(".json")] + ".ui.json")
                    forms[path[len(FORMS):]] = load_form(path[len(FORMS):], content, ui, self.organisations)
                except ValueError as exc:
                    self.problem(path, None, str(exc))
        return forms

    def compile(self, manifest: Manifest) -> CompiledProcess:
        """Specs and task metadata for one startable process; raises SpiffWorkflow's errors as they come."""
        spec = self.parser.get_spec(manifest.key)
        subprocess_specs = self.parser.get_subprocess_specs(manifest.key)
        human_tasks: dict[tuple[str, str], HumanTaskSpec] = {}
        for process_spec in (spec, *subprocess_specs.values()):
            for task_spec in process_spec.task_specs.values():
                if isinstance(task_spec, UserTaskMixin | ManualTaskMixin):
                    props = (getattr(task_spec, "extensions", None) or {}).get("properties", {})
                    human_tasks[(process_spec.name, task_spec.name)] = HumanTaskSpec(
                        process_id=process_spec.name,
                        element_id=task_spec.name,
                        name=task_spec.bpmn_name or task_spec.name,
                        lane=task_spec.lane,
                        role=self.catalogue.role_for_lane(task_spec.lane),
                        form=props.get(FORM_PROPERTY),
                        candidate_org=props.get(ORG_PROPERTY),
                        candidate_enterprise=props.get(ENTERPRISE_PROPERTY),
                        due_date=props.get(DUE_PROPERTY),
                        warn_at=props.get(WARN_PROPERTY),
                        return_to=props.get(RETURN_TO_PROPERTY) != "false",
                        return_from=props.get(RETURN_FROM_PROPERTY) != "false",
                    )
        start = spec.start.outputs[0] if spec.start.outputs else None
        start_props = (getattr(start, "extensions", None) or {}).get("properties", {}) if start else {}
        start_role = self.catalogue.role_for_lane(getattr(start, "lane", None))
        # a message or signal start event is triggered by its event, never by a person: nobody's step to return to
        if start is not None and start_props.get(FORM_PROPERTY) and start_role is not None and not _trigger_of(start):
            human_tasks[(spec.name, start.name)] = _applicants_step(spec.name, start, start_role, start_props)
        known = {getattr(t, "bpmn_id", None) for s in (spec, *subprocess_specs.values()) for t in s.task_specs.values()}
        for stage in manifest.stages:
            for element in sorted(set(stage.elements) - known):
                self.problem(manifest.path, element, f"阶段 {stage.key} 列出的元素 {element} 不在流程图中 (stage "
                             f"{stage.key} lists {element}, which the diagram does not have)")
        bundle = self.bundle(manifest.key)
        return CompiledProcess(
            manifest=manifest,
            content_hash=content_hash(bundle),
            spec=spec,
            subprocess_specs=subprocess_specs,
            human_tasks=human_tasks,
            forms=self.forms,
            start_form=start_props.get(FORM_PROPERTY),
            start_role=start_role,
            start_event=getattr(start, "bpmn_id", None),
            start_trigger=_trigger_of(start),
            files=bundle,
            documents=templates_for(bundle, manifest.path),
            document_elements=self.document_elements(bundle),
            outcome_elements=self.outcome_elements(bundle),
            acceptance_elements=frozenset(self.flagged_elements(bundle, ACCEPTS_PROPERTY)),
            cc_elements=self.cc_elements(bundle),
            applicant_notice_elements=self.valued_elements(bundle, NOTIFY_APPLICANT_PROPERTY),
        )

    def document_elements(self, bundle: Files) -> dict[str, list[str]]:
        """Element id → the document templates it issues when it completes (its `document` property)."""
        out: dict[str, list[str]] = {}
        for path in bundle:
            if path in self.trees:
                for element in self.trees[path].iter():
                    wanted = names(properties(element).get(DOCUMENT_PROPERTY)) if isinstance(element.tag, str) else []
                    if wanted:
                        out[element.get("id")] = wanted
        return out


    def outcome_elements(self, bundle: Files) -> dict[str, str]:
        """Element id → the outcome it sets when it completes (its `outcome` property; the lint checks values)."""
        return self.valued_elements(bundle, OUTCOME_PROPERTY)

    def cc_elements(self, bundle: Files) -> dict[str, Recipients]:
        """Element id → the recipients its `cc` property names (the lint reports entries it cannot read)."""
        found = {element.get("id"): parse(props[CC_PROPERTY])[0]
                 for path in bundle if path in self.trees
                 for element in self.trees[path].iter()
                 if isinstance(element.tag, str) and CC_PROPERTY in (props := properties(element))}
        return {element: recipients for element, recipients in found.items() if recipients}


    def valued_elements(self, bundle: Files, prop: str) -> dict[str, str]:
        """Element id → the value of its `prop`, for the elements that have one."""
        return {element.get("id"): props[prop] for path in bundle if path in self.trees
                for element in self.trees[path].iter()
                if isinstance(element.tag, str) and prop in (props := properties(element))}

    def flagged_elements(self, bundle: Files, prop: str) -> list[str]:
        """The ids of the elements whose `prop` is `true` (the lint checks the values)."""
        return [element.get("id") for path in bundle if path in self.trees
                for element in self.trees[path].iter()
                if isinstance(element.tag, str) and properties(element).get(prop) == "true"]


_DMN_VALIDATORS: dict[str, BpmnValidator] = {}


def _dmn_validator(schema: str) -> BpmnValidator:
    if schema not in _DMN_VALIDATORS:
        _DMN_VALIDATORS[schema] = BpmnValidator(schema)
    return _DMN_VALIDATORS[schema]
