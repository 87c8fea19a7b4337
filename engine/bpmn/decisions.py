"""DMN decision tables as tongban runs them: every entry checked when the file is loaded, hit policies per DMN 1.3.

SpiffWorkflow's DMN engine pastes each entry's text after the input expression and hands the result to the
script engine (`amount` + `[1..5]` is a SyntaxError at run time; `"AA","BB"` becomes a tuple that never
equals the input), returns the first of several UNIQUE matches and knows only UNIQUE and COLLECT. Here an input
entry is either FEEL unary tests (engine/bpmn/feel.py) or a tongban Python test that names the input as `?`
(`? in ("a", "b")`), compiled by the restricted script environment; an output entry is a FEEL literal or a
restricted Python expression. Anything else is refused when the table is loaded, naming the decision, the
rule and the column — `tongban validate` and deploy report it — so no case meets it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from lxml import etree
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.util.deep_merge import DeepMerge

from engine.base.problems import Problem
from engine.bpmn.feel import FeelError, FeelTypeError, UnaryTests, parse_literal, parse_tests
from engine.bpmn.scripting import ScriptRefused, check

#: the name a tongban Python test sees the input as (what `?` stands for)
INPUT_NAME = "dmninput"
SINGLE_HIT = ("UNIQUE", "ANY", "FIRST", "PRIORITY")
MULTIPLE_HIT = ("COLLECT", "RULE ORDER", "OUTPUT ORDER")
AGGREGATIONS = ("SUM", "MIN", "MAX", "COUNT")
#: what an input entry may be, for refusals
SUPPORTED = ('tongban 支持：-、空、字面量（"文本"、数字、true/false、null、date("2026-01-01")）、比较 < <= > >=、区间 '
             '[a..b] (a..b]、列表 "AA","BB"、not(...)，或用 ? 代表输入值的 Python 条件如 ? in ("a", "b") '
             '(supported: -, empty, literals ("text", numbers, true/false, null, date("2026-01-01")), comparisons '
             '< <= > >=, ranges [a..b] (a..b], lists "AA","BB", not(...), or a Python test naming the input ?, '
             'e.g. ? in ("a", "b"))')


class DecisionFailed(SpiffWorkflowException):
    """A decision table could not decide for this case (UNIQUE with two matches, inputs of the wrong type …).

    A SpiffWorkflowException, so the business rule task passes it on as it is and the case goes to error with it.
    """


@dataclass(frozen=True)
class InputColumn:
    id: str
    label: str
    expression: str


@dataclass(frozen=True)
class OutputColumn:
    id: str
    label: str
    name: str
    #: the output's values by decreasing priority (its outputValues), for PRIORITY and OUTPUT ORDER
    priorities: tuple[Any, ...] | None = None

    @property
    def key(self) -> str:
        return self.name or self.label or self.id


@dataclass(frozen=True)
class PythonTest:
    """`? in ("a", "b")`: a restricted Python expression over the case data, `?` being the input."""

    expression: str


@dataclass(frozen=True)
class Literal:
    value: Any


@dataclass(frozen=True)
class PythonValue:
    expression: str


@dataclass
class Rule:
    id: str
    number: int  # 1-based, as the table shows it
    tests: list[UnaryTests | PythonTest] = field(default_factory=list)
    outputs: list[Literal | PythonValue] = field(default_factory=list)

    def where(self, decision: str) -> str:
        return (f"决策表 {decision} 规则 {self.id}（第 {self.number} 条）(decision table {decision}, rule {self.id}, "
                f"#{self.number})")


@dataclass
class DecisionTable:
    decision: str  # the decision's id, which business rule tasks call
    id: str
    hit_policy: str
    aggregation: str | None
    inputs: list[InputColumn]
    outputs: list[OutputColumn]
    rules: list[Rule]


def _question_to_name(text: str) -> str | None:
    """`text` with each `?` outside string quotes replaced by INPUT_NAME, or None when it has none."""
    out, quote, escaped, found = [], "", False, False
    for char in text:
        if quote:
            escaped = not escaped and char == "\\"
            if char == quote and not escaped:
                quote = ""
        elif char in "\"'":
            quote = char
        elif char == "?":
            out.append(INPUT_NAME)
            found = True
            continue
        out.append(char)
    return "".join(out) if found else None


def _text(element: etree._Element | None) -> str:
    found = element.find("{*}text") if element is not None else None
    return (found.text or "").strip() if found is not None else ""


def _input_test(text: str) -> UnaryTests | PythonTest:
    """Raises ValueError (bilingual) when the entry is neither."""
    python = _question_to_name(text)
    if python is not None:
        try:
            check(python, "eval")
        except ScriptRefused as exc:
            raise ValueError(f"含 ? 的 Python 条件无效 (the Python test with ? is refused): {exc}") from None
        return PythonTest(python)
    try:
        return parse_tests(text)
    except FeelError as exc:
        raise ValueError(f"{exc}；{SUPPORTED}") from None


def _stored(value: Any) -> Any:
    """A literal as case data holds it: a date as ISO text (case data is JSON)."""
    return value.isoformat() if isinstance(value, date) else value


def _output_value(text: str) -> Literal | PythonValue:
    if not text:
        return Literal(None)
    try:
        return Literal(_stored(parse_literal(text)))
    except FeelError:
        pass
    try:
        check(text, "eval")
    except ScriptRefused as exc:
        raise ValueError("既不是 FEEL 字面量，也不是有效的 Python 表达式 (neither a FEEL literal nor a valid Python "
                         f"expression): {exc}") from None
    return PythonValue(text)


class _Loader:
    """One DMN document read into DecisionTables, each refusal a Problem naming decision, rule and column."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[Problem] = []

    def refuse(self, decision: str, element: etree._Element, message: str) -> None:
        self.problems.append(Problem(self.path, element.sourceline, decision, message))

    def decision(self, element: etree._Element) -> DecisionTable | None:
        did = element.get("id") or ""
        for child in element:
            if isinstance(child.tag, str) and etree.QName(child).localname == "informationRequirement" and \
                    child.find("{*}requiredDecision") is not None:
                self.refuse(did, child, f"决策 {did} 依赖其他决策（requiredDecision），tongban 不执行决策链；请在流程中"
                            f"用前后两个业务规则任务 (decision {did} requires another decision: tongban does not "
                            "evaluate decision requirement graphs; use one business rule task per decision)")
                return None
        table = element.find("{*}decisionTable")
        if table is None:
            kinds = sorted({etree.QName(c).localname for c in element if isinstance(c.tag, str)} - {
                "description", "question", "allowedAnswers", "variable", "informationRequirement",
                "knowledgeRequirement", "authorityRequirement", "extensionElements"})
            self.refuse(did, element, f"决策 {did} 不是决策表 ({kinds})，tongban 只执行决策表 (decision {did} is not "
                        f"a decision table ({', '.join(kinds) or 'empty'}): tongban evaluates decision tables only)")
            return None
        return self.table(did, table)

    def table(self, did: str, element: etree._Element) -> DecisionTable | None:
        policy = " ".join((element.get("hitPolicy") or "UNIQUE").upper().split())
        aggregation = element.get("aggregation")
        ok = True
        if policy not in SINGLE_HIT + MULTIPLE_HIT:
            self.refuse(did, element, f"决策表 {did} 的命中策略 {policy} 不受支持 (hit policy {policy} of decision "
                        f"table {did} is not supported: use {', '.join(SINGLE_HIT + MULTIPLE_HIT)})")
            ok = False
        inputs = [InputColumn(i.get("id") or "", i.get("label") or "", _text(i.find("{*}inputExpression")))
                  for i in element.iterfind("{*}input")]
        outputs = [self.output(did, policy, o) for o in element.iterfind("{*}output")]
        for column, source in zip(inputs, element.iterfind("{*}input"), strict=True):
            ok = self.input_expression(did, column, source) and ok
        if aggregation is not None:
            ok = self.aggregation(did, policy, aggregation, outputs, element) and ok
        if policy in ("PRIORITY", "OUTPUT ORDER") and any(o is not None and o.priorities is None for o in outputs):
            self.refuse(did, element, f"决策表 {did} 的命中策略 {policy} 要求每个输出列出按优先级排列的取值"
                        f"（outputValues，如 \"high\",\"medium\",\"low\"）(hit policy {policy} of decision table "
                        f"{did} needs every "
                        'output to list its values by priority in outputValues, e.g. "high","medium","low")')
            ok = False
        if None in outputs:
            return None
        rules = [self.rule(did, n, r, inputs, outputs) for n, r in enumerate(element.iterfind("{*}rule"), 1)]  # type: ignore[arg-type]
        if not ok or None in rules:
            return None
        return DecisionTable(did, element.get("id") or did, policy, aggregation, inputs, outputs,  # type: ignore[arg-type]
                             rules)  # type: ignore[arg-type]

    def input_expression(self, did: str, column: InputColumn, element: etree._Element) -> bool:
        name = column.label or column.id
        if not column.expression:
            self.refuse(did, element, f"决策表 {did} 的输入“{name}”没有输入表达式 (input \"{name}\" of decision table "
                        f"{did} has no input expression)")
            return False
        try:
            check(column.expression, "eval")
        except ScriptRefused as exc:
            self.refuse(did, element, f"决策表 {did} 输入“{name}”的表达式无效，须是对办件数据的 Python 表达式 (the "
                        f"input expression of \"{name}\" in decision table {did} is refused; it must be a Python "
                        f"expression over the case data): {exc}")
            return False
        return True

    def output(self, did: str, policy: str, element: etree._Element) -> OutputColumn | None:
        column = OutputColumn(element.get("id") or "", element.get("label") or "", element.get("name") or "")
        values = element.find("{*}outputValues")
        if values is None:
            return column
        try:
            priorities = parse_tests(_text(values)).values()
        except FeelError:
            priorities = None
        if priorities is None:
            if policy not in ("PRIORITY", "OUTPUT ORDER"):
                return column  # a list of allowed values tongban does not need
            self.refuse(did, values, f"决策表 {did} 输出“{column.key}”的 outputValues 须是字面量列表，如 "
                        f"\"high\",\"low\" (the outputValues of output \"{column.key}\" in decision table {did} must "
                        f"be a list of literals, e.g. \"high\",\"low\")")
            return None
        return OutputColumn(column.id, column.label, column.name, tuple(map(_stored, priorities)))

    def aggregation(self, did: str, policy: str, aggregation: str, outputs: list[OutputColumn | None],
                    element: etree._Element) -> bool:
        if policy != "COLLECT" or aggregation not in AGGREGATIONS:
            self.refuse(did, element, f"决策表 {did}：聚合 {aggregation} 只能与 COLLECT 一起使用，且须为 "
                        f"{'/'.join(AGGREGATIONS)} (decision table {did}: aggregation {aggregation} needs hit policy "
                        f"COLLECT and one of {', '.join(AGGREGATIONS)}; the policy is {policy})")
            return False
        if len(outputs) != 1:
            self.refuse(did, element, f"决策表 {did}：聚合 {aggregation} 要求恰好一个输出，现有 {len(outputs)} 个 "
                        f"(decision table {did}: aggregation {aggregation} needs exactly one output, it has "
                        f"{len(outputs)})")
            return False
        return True

    def rule(self, did: str, number: int, element: etree._Element, inputs: list[InputColumn],
             outputs: list[OutputColumn]) -> Rule | None:
        rule = Rule(element.get("id") or f"#{number}", number)
        entries = list(element.iterfind("{*}inputEntry")), list(element.iterfind("{*}outputEntry"))
        if len(entries[0]) != len(inputs) or len(entries[1]) != len(outputs):
            self.refuse(did, element, f"{rule.where(did)}：有 {len(entries[0])} 个输入条目、{len(entries[1])} 个输出"
                        f"条目，表有 {len(inputs)} 个输入、{len(outputs)} 个输出 (the rule has {len(entries[0])} input "
                        f"and {len(entries[1])} output entries for {len(inputs)} inputs and {len(outputs)} outputs)")
            return None
        ok = True
        for column, entry in zip(inputs, entries[0], strict=True):
            text = _text(entry)
            try:
                rule.tests.append(_input_test(text))
            except ValueError as exc:
                self.refuse(did, entry.find("{*}text") if entry.find("{*}text") is not None else entry,
                            f"{rule.where(did)} 输入“{column.label or column.id}”的条目 {text!r} 无法执行 (input "
                            f"\"{column.label or column.id}\": the entry {text!r} cannot be evaluated): {exc}")
                ok = False
        for out, entry in zip(outputs, entries[1], strict=True):
            text = _text(entry)
            try:
                value = _output_value(text)
                if out.priorities is not None and isinstance(value, Literal) and value.value not in out.priorities:
                    raise ValueError(f"{value.value!r} 不在该输出的 outputValues 中 (is not one of the output's "
                                     f"outputValues {list(out.priorities)})")
                rule.outputs.append(value)
            except ValueError as exc:
                self.refuse(did, entry, f"{rule.where(did)} 输出“{out.label or out.key}”的条目 {text!r} 无法执行 "
                            f"(output \"{out.label or out.key}\": the entry {text!r} cannot be evaluated): {exc}")
                ok = False
        return rule if ok else None


def load_decisions(root: etree._Element, path: str) -> tuple[dict[str, DecisionTable], list[Problem]]:
    """Every decision of a DMN document that tongban can evaluate, and a Problem for each thing it cannot."""
    loader = _Loader(path)
    tables = {}
    for element in root.iterfind("{*}decision"):
        table = loader.decision(element)
        if table is not None:
            tables[table.decision] = table
    return tables, loader.problems


class DecisionEngine:
    """What SpiffWorkflow's business rule task calls (`result(task)`), for one decision table."""

    def __init__(self, table: DecisionTable) -> None:
        self.table = table

    def result(self, task: Any) -> dict[str, Any]:
        engine = task.workflow.script_engine
        values = [self._input(engine, task, column) for column in self.table.inputs]
        matched = [rule for rule in self.table.rules if self._matches(engine, task, rule, values)]
        return self._decide(matched, lambda rule: [self._output(engine, task, rule, i)
                                                   for i in range(len(rule.outputs))])

    # -- evaluating ---------------------------------------------------------------------------------
    def _input(self, engine: Any, task: Any, column: InputColumn) -> Any:
        try:
            return engine.evaluate(task, column.expression)
        except SpiffWorkflowException as exc:
            name = column.label or column.id
            exc.add_note(f"决策表 {self.table.decision} 的输入“{name}” (input \"{name}\" of decision table "
                         f"{self.table.decision})")
            raise

    def _matches(self, engine: Any, task: Any, rule: Rule, values: list[Any]) -> bool:
        for column, test, value in zip(self.table.inputs, rule.tests, values, strict=True):
            name = column.label or column.id
            where = f"{rule.where(self.table.decision)} 输入“{name}” (input \"{name}\")"
            try:
                if isinstance(test, PythonTest):
                    found = engine.evaluate(task, test.expression, external_context={INPUT_NAME: value})
                else:
                    found = test.matches(value, task.data)
            except FeelTypeError as exc:
                raise DecisionFailed(f"{where}: {exc}") from None
            except SpiffWorkflowException as exc:
                exc.add_note(where)
                raise
            if not found:
                return False
        return True

    def _output(self, engine: Any, task: Any, rule: Rule, index: int) -> Any:
        value = rule.outputs[index]
        if isinstance(value, Literal):
            return value.value
        try:
            return engine.evaluate(task, value.expression)
        except SpiffWorkflowException as exc:
            exc.add_note(f"{rule.where(self.table.decision)} 输出“{self.table.outputs[index].key}” (output "
                         f"\"{self.table.outputs[index].key}\")")
            raise

    # -- hit policies ---------------------------------------------------------------------------------
    def _decide(self, matched: list[Rule], outputs_of: Callable[[Rule], list[Any]]) -> dict[str, Any]:
        table, policy = self.table, self.table.hit_policy
        did = table.decision
        if policy == "UNIQUE" and len(matched) > 1:
            rules = "、".join(f"{r.id}（第 {r.number} 条）" for r in matched)
            listed = ", ".join(f"{r.id} (#{r.number})" for r in matched)
            raise DecisionFailed(f"决策表 {did} 的命中策略为 UNIQUE，但有 {len(matched)} 条规则同时命中：{rules}；"
                                 f"请修改规则使其互斥，或改用 FIRST/PRIORITY (decision table {did} has hit policy "
                                 f"UNIQUE but {len(matched)} rules match: {listed}; "
                                 "make the rules exclusive or use FIRST or PRIORITY)")
        results = [(rule, outputs_of(rule)) for rule in matched]
        if policy in ("PRIORITY", "OUTPUT ORDER"):
            results.sort(key=lambda pair: self._priority(pair[0], pair[1]))
        if policy == "ANY" and any(values != results[0][1] for _, values in results):
            raise DecisionFailed(f"决策表 {did} 的命中策略为 ANY，但命中的规则 {[r.id for r, _ in results]} 输出不同 "
                                 f"(decision table {did} has hit policy ANY but the matching rules "
                                 f"{[r.id for r, _ in results]} give different outputs)")
        if policy in SINGLE_HIT:
            return self._named(results[0][1]) if results else {}
        if table.aggregation is not None:
            return self._named([self._aggregate([values[0] for _, values in results])])
        columns = [list(column) for column in zip(*(values for _, values in results), strict=True)]
        return self._named(columns or [[] for _ in table.outputs])

    def _priority(self, rule: Rule, values: list[Any]) -> tuple[int, ...]:
        ranks = []
        for column, value in zip(self.table.outputs, values, strict=True):
            if value not in (column.priorities or ()):
                raise DecisionFailed(f"{rule.where(self.table.decision)} 输出“{column.key}”的值 {value!r} 不在 "
                                     f"outputValues {list(column.priorities or ())} 中 (output \"{column.key}\" gave "
                                     f"{value!r}, which is not one of its outputValues)")
            ranks.append(list(column.priorities or ()).index(value))
        return tuple(ranks)

    def _aggregate(self, values: list[Any]) -> Any:
        aggregation, did = self.table.aggregation, self.table.decision
        if aggregation == "COUNT":
            return len(values)
        present = [v for v in values if v is not None]
        if not present:
            return None
        try:
            if aggregation == "SUM":
                if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
                    raise TypeError("not numbers")
                return sum(present)
            return min(present) if aggregation == "MIN" else max(present)
        except TypeError:
            raise DecisionFailed(f"决策表 {did} 不能对 {present!r} 做 {aggregation} 聚合 (decision table {did} cannot "
                                 f"{aggregation} the outputs {present!r})") from None

    def _named(self, values: list[Any]) -> dict[str, Any]:
        """Outputs by name; a dotted name (`fee.amount`) fills a nested object, as SpiffWorkflow did."""
        out: dict[str, Any] = {}
        for column, value in zip(self.table.outputs, values, strict=False):
            nested: Any = value
            for part in reversed(column.key.split(".")[1:]):
                nested = {part: nested}
            head = column.key.split(".")[0]
            out[head] = DeepMerge.merge(out.get(head, {}), nested) if isinstance(nested, dict) else nested
        return out

