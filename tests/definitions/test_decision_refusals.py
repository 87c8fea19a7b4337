"""What `validate` refuses in a decision table, naming the decision, the rule and the column (issue 15 point 4)."""

from __future__ import annotations

import pytest

from engine.base.problems import Problem, errors_in
from engine.definitions.registry import validate
from tests.support.decisions import DMN_HEADER, Table, deciding, table_workspace
from tests.support.workspaces import OPEN, workspace


def refusal(table: Table) -> Problem:
    [problem] = errors_in(validate(table_workspace(table)))
    assert problem.file == "processes/t/table.dmn" and problem.element_id == table.decision and problem.line
    return problem


@pytest.mark.parametrize(("entry", "why"), [
    (">= 10 and <= 20", "第 7 个字符处无法解析 (cannot parse at character 7)"),
    ('!= "x"', "第 1 个字符处无法解析 (cannot parse at character 1)"),
    ("[20..10]", "区间下端大于上端 (the range starts above its end: 20 > 10)"),
    ('[1.."a"]', "区间两端类型不同或为空 (the ends of the range are of different types or null: 1, 'a')"),
    ('date("2026-02-30")', "日期无效 (not a date: '2026-02-30'"),
    ('"a\\q"', "字符串中有无效的转义"),
    ("count(x) > 1", "第 6 个字符处无法解析"),
])
def test_an_input_entry_outside_the_subset_is_refused_with_rule_and_column(entry: str, why: str) -> None:
    table = Table([("金额", "amount")], ["level"], [(["-"], ['"a"']), ([entry], ['"b"'])], hit_policy="FIRST")
    problem = refusal(table)
    assert problem.message.startswith(f"决策表 decide_it 规则 r2（第 2 条）(decision table decide_it, rule r2, #2) "
                                      f"输入“金额”的条目 {entry!r} 无法执行 (input \"金额\": the entry {entry!r} "
                                      "cannot be evaluated): ")
    assert why in problem.message


def test_the_refusal_lists_what_is_supported() -> None:
    problem = refusal(Table([("金额", "amount")], ["level"], [(["> 1 or < 0"], ['"a"'])]))
    assert "supported: -, empty, literals" in problem.message and "tongban 支持" in problem.message


def test_a_python_test_with_a_question_mark_that_the_sandbox_refuses() -> None:
    problem = refusal(Table([("金额", "amount")], ["level"], [(["?.__class__"], ['"a"'])]))
    assert "含 ? 的 Python 条件无效 (the Python test with ? is refused)" in problem.message


def test_an_output_entry_neither_literal_nor_python_is_refused() -> None:
    problem = refusal(Table([("金额", "amount")], ["level"], [(["-"], ["if x then 1 else 2"])]))
    assert problem.message.startswith("决策表 decide_it 规则 r1（第 1 条）(decision table decide_it, rule r1, #1) "
                                      "输出“level 列”的条目 'if x then 1 else 2' 无法执行")
    assert "neither a FEEL literal nor a valid Python expression" in problem.message


def test_an_input_expression_that_does_not_compile_is_refused() -> None:
    problem = refusal(Table([("金额", "amount > ")], ["level"], [(["-"], ['"a"'])]))
    assert 'the input expression of "金额" in decision table decide_it is refused' in problem.message


def test_a_rule_with_too_few_entries_is_refused() -> None:
    problem = refusal(Table([("金额", "amount"), ("类别", "kind")], ["level"], [(["-"], ['"a"'])]))
    assert "the rule has 1 input and 1 output entries for 2 inputs and 1 outputs" in problem.message


def test_an_aggregation_without_collect_is_refused() -> None:
    problem = refusal(Table([("金额", "amount")], ["fee"], [(["-"], ["1"])], hit_policy="FIRST", aggregation="SUM"))
    assert problem.message == ("决策表 decide_it：聚合 SUM 只能与 COLLECT 一起使用，且须为 SUM/MIN/MAX/COUNT (decision "
                               "table decide_it: aggregation SUM needs hit policy COLLECT and one of SUM, MIN, MAX, "
                               "COUNT; the policy is FIRST)")


def test_an_aggregation_over_two_outputs_is_refused() -> None:
    problem = refusal(Table([("金额", "amount")], ["fee", "days"], [(["-"], ["1", "2"])], hit_policy="COLLECT",
                            aggregation="MAX"))
    assert "aggregation MAX needs exactly one output, it has 2" in problem.message


@pytest.mark.parametrize("policy", ["PRIORITY", "OUTPUT ORDER"])
def test_priority_policies_need_output_values(policy: str) -> None:
    problem = refusal(Table([("金额", "amount")], ["level"], [(["-"], ['"a"'])], hit_policy=policy))
    assert f"hit policy {policy} of decision table decide_it needs every output to list its values" in problem.message


def test_a_priority_output_outside_its_output_values_is_refused() -> None:
    problem = refusal(Table([("金额", "amount")], ["level"], [(["-"], ['"c"'])], hit_policy="PRIORITY",
                            output_values={"level": '"a","b"'}))
    assert "'c' 不在该输出的 outputValues 中 (is not one of the output's outputValues ['a', 'b'])" in problem.message


def test_an_unknown_hit_policy_is_refused_by_the_schema_alone() -> None:
    """Only the schema's error: not also "decision not found" on the business rule task calling it."""
    [problem] = errors_in(validate(table_workspace(Table([("金额", "amount")], ["level"], [(["-"], ['"a"'])],
                                                         hit_policy="SOMETIMES"))))
    assert problem.file == "processes/t/table.dmn" and "SOMETIMES" in problem.message


def _document(decision: str) -> bytes:
    return (DMN_HEADER.format(decision="x") + decision + "</definitions>").encode()


def test_a_literal_expression_decision_is_refused() -> None:
    dmn = _document('<decision id="decide_it" name="x"><literalExpression id="le"><text>1</text></literalExpression>'
                    "</decision>")
    files = workspace({"d.bpmn": deciding("t_table")}, {"apply.json": OPEN}, key="t_table",
                      extra={"processes/t/table.dmn": dmn})
    [problem] = errors_in(validate(files))
    assert problem.element_id == "decide_it"
    assert problem.message.startswith("决策 decide_it 不是决策表 (['literalExpression'])，tongban 只执行决策表")


def test_a_decision_requiring_another_is_refused() -> None:
    table = Table([("金额", "amount")], ["level"], [(["-"], ['"a"'])]).xml()
    dmn = table.replace('<decisionTable', '<informationRequirement id="ir"><requiredDecision href="#other" />'
                        '</informationRequirement><decisionTable').encode()
    files = workspace({"d.bpmn": deciding("t_table")}, {"apply.json": OPEN}, key="t_table",
                      extra={"processes/t/table.dmn": dmn})
    [problem] = errors_in(validate(files))
    assert "tongban does not evaluate decision requirement graphs" in problem.message


def test_every_refused_entry_is_reported_with_its_own_line() -> None:
    table = Table([("金额", "amount")], ["level"], [(["[1..]"], ['"a"']), (["-"], ["if"])])
    problems = errors_in(validate(table_workspace(table)))
    assert [("rule r1" in p.message, "rule r2" in p.message) for p in problems] == [(True, False), (False, True)]
    assert problems[0].line is not None and problems[1].line is not None and problems[0].line < problems[1].line


def test_every_shipped_table_validates() -> None:
    from tests.support.repo import analysed_repo

    ws, _ = analysed_repo()
    assert [p for p in ws.problems if p.file.endswith(".dmn")] == []
