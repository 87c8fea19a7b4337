"""Lint: process logic that reads a field a person can write, unless the designer said it should.

A gateway condition, script, decision table or deadline that reads a field some form lets a person
write hands that person the decision: a reviewer who may send `budget` picks the approval level, a
handling unit that may send `due_at` moves its own deadline.  Most such reads are meant — the
applicant's amount, a reviewer's decision — and the designer says so by marking the form's field
`"x-input": true`.  Every other one is a warning naming the element that reads and the forms that
let a person write it (docs/designing-processes.md, "Who may write what").
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator

from lxml import etree

from engine.bpmn.scripting import data_names
from engine.definitions.compiler import (
    BPMN_NS,
    DUE_PROPERTY,
    ENTERPRISE_PROPERTY,
    FORM_PROPERTY,
    KEY_PROPERTY,
    NS,
    ORG_PROPERTY,
    WARN_PROPERTY,
    ParsedWorkspace,
    properties,
)
from engine.definitions.templates import folder_of
from engine.definitions.writescope import marked_fields

INPUT_MARK = "x-input"
#: Task properties holding an expression over the task's data (deadlines, organisation, engine/case/ledger.py's entry)
_EVALUATED = (ORG_PROPERTY, ENTERPRISE_PROPERTY, DUE_PROPERTY, WARN_PROPERTY, KEY_PROPERTY, "ledgerSource",
              "ledgerAmount", "ledgerFund", "ledgerCategory", "ledgerDonation")
_EXPRESSIONS = ("conditionExpression", "completionCondition", "loopCardinality")


def logic_reads_only_intended_input(ws: ParsedWorkspace) -> None:
    """Warn where logic reads a person-writable field that no form marks as intended input."""
    processes = list(ws.process_elements())
    writers: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))  # folder → field → forms
    for path, process in processes:
        for form_name in _forms_of(process):
            form = ws.forms.get(form_name)
            if form is None:
                continue  # reported by user_tasks_have_roles_and_forms
            for name in form.writable - marked_fields(form.schema, INPUT_MARK):
                writers[folder_of(path)][name].add(form_name)
    for path, process in processes:
        unmarked = writers[folder_of(path)]
        for element, reads in _reads(ws, process):
            for name in sorted(reads & unmarked.keys()):
                forms = ", ".join(sorted(unmarked[name]))
                ws.problem(path, element, f"逻辑读取了可由人填写的字段 {name!r}（表单 {forms}）：若确为办理人"
                           f"输入，请在表单中标注 \"{INPUT_MARK}\": true，否则改为只读或由流程计算 (reads {name!r}, "
                           f"which forms {forms} let a person write: mark it \"{INPUT_MARK}\": true there if that "
                           "input is meant to decide this, else make it readOnly or computed by the process)",
                           "warning")


def _forms_of(process: etree._Element) -> set[str]:
    return {props[FORM_PROPERTY] for e in process.iter() if isinstance(e.tag, str)
            and FORM_PROPERTY in (props := properties(e))}


def _reads(ws: ParsedWorkspace, process: etree._Element) -> Iterator[tuple[str | None, frozenset[str]]]:
    """(element id, data fields it reads) for every expression and script the engine evaluates."""
    for tag in _EXPRESSIONS:
        for expr in process.iter(f"{{{BPMN_NS}}}{tag}"):
            yield expr.getparent().get("id"), _names((expr.text or "").strip())
    for timer in process.iter(f"{{{BPMN_NS}}}timerEventDefinition"):
        for expr in timer:
            if isinstance(expr.tag, str):
                yield timer.getparent().get("id"), _names((expr.text or "").strip())
    for script in process.iter(f"{{{BPMN_NS}}}script"):
        yield script.getparent().get("id"), script_reads(script.text or "")
    for element in process.iter():
        props = properties(element) if isinstance(element.tag, str) else {}
        for key in _EVALUATED:
            if key in props:
                yield element.get("id"), _names(props[key])
    for task in process.iter(f"{{{BPMN_NS}}}businessRuleTask"):
        refs = task.xpath(".//spiffworkflow:calledDecisionId", namespaces=NS)
        decision = (refs[0].text or "").strip() if refs else ""
        if decision in ws.decision_file:
            tree = ws.trees[ws.decision_file[decision]]
            for text in tree.getroot().xpath(f"//*[@id='{decision}']//*[local-name()='inputExpression']"
                                             "/*[local-name()='text']"):
                yield task.get("id"), _names((text.text or "").strip())


def _names(expression: str) -> frozenset[str]:
    try:
        return data_names(expression) if expression else frozenset()
    except SyntaxError:
        return frozenset()  # reported by conditions_and_scripts_compile / timers_parse


def script_reads(script: str) -> frozenset[str]:
    """Data fields a script reads before it assigns them: `reopened = reopened + 1` reads `reopened`,
    `x = 1; y = x` reads nothing.  Statements are taken in order, an assignment's value before its target."""
    try:
        tree = ast.parse(script)
    except SyntaxError:
        return frozenset()
    bound: set[str] = set()
    read: set[str] = set()

    class Visitor(ast.NodeVisitor):
        def visit_Name(self, node: ast.Name) -> None:
            if isinstance(node.ctx, ast.Load) and node.id not in bound:
                read.add(node.id)
            elif isinstance(node.ctx, ast.Store):
                bound.add(node.id)

        def visit_Assign(self, node: ast.Assign) -> None:
            self.visit(node.value)
            for target in node.targets:
                self.visit(target)

        def visit_AugAssign(self, node: ast.AugAssign) -> None:
            if isinstance(node.target, ast.Name) and node.target.id not in bound:
                read.add(node.target.id)
            self.visit(node.value)
            self.visit(node.target)

        def visit_comprehension(self, node: ast.comprehension) -> None:
            self.visit(node.iter)  # its target is the comprehension's own name, not case data
            for cond in node.ifs:
                self.visit(cond)

    Visitor().visit(tree)
    local = {n.id for c in ast.walk(tree) if isinstance(c, ast.comprehension) for n in ast.walk(c.target)
             if isinstance(n, ast.Name)}
    local |= {a.arg for n in ast.walk(tree) if isinstance(n, ast.Lambda) for a in ast.walk(n.args)
              if isinstance(a, ast.arg)}
    return _data_fields(read - local)


def _data_fields(names: set[str]) -> frozenset[str]:
    """The names that are case data, not helpers or builtins (as `data_names` tells them apart)."""
    return data_names(" or ".join(sorted(names))) if names else frozenset()
