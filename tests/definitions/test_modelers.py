"""Camunda Modeler files (Camunda 7 camunda:, Camunda 8 zeebe:): a warning per ignored extension, hints on JUEL and
FEEL expressions (issue 15 point 5). The samples are as Camunda Modeler 5 saves them."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.base.problems import Problem, errors_in
from engine.definitions.modelers import expression_hint
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from tests.support.builder import Node, bpmn, end, flows, render, start, user
from tests.support.steps import begin, do, put
from tests.support.workspaces import OPEN, workspace

SAMPLES = Path(__file__).parent / "fixtures" / "modelers"


def problems_of(sample: str) -> list[Problem]:
    return validate(workspace({"p.bpmn": (SAMPLES / sample).read_text(encoding="utf-8")}))


def warnings_by_extension(problems: list[Problem]) -> dict[tuple[str | None, str], str]:
    """(element id, the extension as the warning names it) → the message."""
    found = {}
    for p in problems:
        if p.severity == "warning" and " 扩展 " in p.message:
            name = p.message.split(" 扩展 ", 1)[1].split(" 被 tongban 忽略", 1)[0].split("=", 1)[0]
            assert (p.element_id, name) not in found, f"two warnings for {name} on {p.element_id}"
            found[(p.element_id, name)] = p.message
    return found


def test_a_camunda_7_file_gets_one_warning_per_ignored_extension() -> None:
    warnings = warnings_by_extension(problems_of("camunda7.bpmn"))
    assert set(warnings) == {
        ("c7_subsidy", "camunda:historyTimeToLive"), ("StartEvent_1", "camunda:formKey"),
        ("StartEvent_1", "camunda:initiator"), ("Task_review", "camunda:assignee"),
        ("Task_review", "camunda:candidateGroups"), ("Task_review", "camunda:dueDate"),
        ("Task_review", "camunda:inputOutput"), ("Task_notify", "camunda:class"),
        ("Task_notify", "camunda:asyncBefore"),
    }
    assert all(m.startswith("Camunda 7 扩展 ") and "(Camunda 7 extension " in m for m in warnings.values())


def test_camunda_candidate_groups_names_the_lane_that_gives_the_role() -> None:
    message = warnings_by_extension(problems_of("camunda7.bpmn"))[("Task_review", "camunda:candidateGroups")]
    assert message == ('Camunda 7 扩展 camunda:candidateGroups="window_clerk" 被 tongban 忽略 (Camunda 7 extension '
                       'camunda:candidateGroups="window_clerk" is ignored by tongban): 任务按泳道分配角色：把它放进泳道'
                       "“窗口人员”（角色 window_clerk）(tasks go to the role of their lane: put this one in the lane "
                       "“窗口人员”, role window_clerk)")


def test_camunda_form_key_and_due_date_say_which_tongban_property_to_set() -> None:
    warnings = warnings_by_extension(problems_of("camunda7.bpmn"))
    assert ('<spiffworkflow:property name="formJsonSchemaFilename" value="…"/>' in
            warnings[("StartEvent_1", "camunda:formKey")])
    assert "a JSON Schema file in forms/, e.g. apply.json" in warnings[("StartEvent_1", "camunda:formKey")]
    assert ("set the spiffworkflow property dueDate: a Python expression giving an ISO datetime, e.g. "
            "workdays_after(now_iso(), 5)") in warnings[("Task_review", "camunda:dueDate")]


def test_a_juel_condition_is_an_error_that_says_how_to_write_it() -> None:
    [problem] = [p for p in errors_in(problems_of("camunda7.bpmn")) if p.element_id == "Flow_large"]
    assert problem.message.startswith("条件表达式无效 (condition refused): ")
    assert problem.message.endswith("这是 Camunda 7 的 JUEL 表达式；tongban 用 Python 表达式，可写作 amount > 5000 and "
                                    "not rejected (a Camunda 7 JUEL expression: tongban expressions are Python, e.g. "
                                    "amount > 5000 and not rejected)")


def test_a_zeebe_file_gets_one_warning_per_ignored_extension_element() -> None:
    warnings = warnings_by_extension(problems_of("zeebe.bpmn"))
    assert set(warnings) == {
        ("StartEvent_1", "zeebe:formDefinition"), ("Task_check", "zeebe:userTask"),
        ("Task_check", "zeebe:assignmentDefinition"), ("Task_check", "zeebe:taskSchedule"),
        ("Task_check", "zeebe:ioMapping"), ("Task_rules", "zeebe:calledDecision"),
        ("Task_check", "zeebe:formDefinition"),
    }
    assert all(m.startswith("Camunda 8 (Zeebe) 扩展 ") for m in warnings.values())
    assert "put this one in the lane “窗口人员”, role window_clerk" in warnings[
        ("Task_check", "zeebe:assignmentDefinition")]
    assert "set the spiffworkflow property dueDate" in warnings[("Task_check", "zeebe:taskSchedule")]
    assert "e.g. apply-form.json" in warnings[("StartEvent_1", "zeebe:formDefinition")]
    assert "spiffworkflow:calledDecisionId" in warnings[("Task_rules", "zeebe:calledDecision")]


def test_a_warning_has_the_line_of_its_extension() -> None:
    problems = problems_of("zeebe.bpmn")
    forms = [p for p in problems if p.element_id == "Task_check" and "zeebe:formDefinition" in p.message]
    assert len(forms) == 1 and forms[0].line == 32


def test_a_feel_condition_is_an_error_that_says_how_to_write_it() -> None:
    [problem] = [p for p in errors_in(problems_of("zeebe.bpmn")) if p.element_id == "Flow_ok"]
    assert problem.message.endswith("可写作 ok == True and status != None (a Camunda 8 FEEL expression: tongban "
                                    "expressions are Python, e.g. ok == True and status != None)")


def test_a_business_rule_task_naming_no_decision_says_so() -> None:
    [problem] = [p for p in errors_in(problems_of("zeebe.bpmn")) if p.element_id == "Task_rules"]
    assert problem.message == ("业务规则任务未指定决策 (the business rule task names no decision: add "
                               "spiffworkflow:calledDecisionId with the decision's id)")


def test_modeler_metadata_is_not_warned_about() -> None:
    assert not [p for p in problems_of("zeebe.bpmn") if "executionPlatform" in p.message]


def test_a_candidate_group_that_is_no_role_says_so() -> None:
    text = (SAMPLES / "camunda7.bpmn").read_text(encoding="utf-8").replace('candidateGroups="window_clerk"',
                                                                          'candidateGroups="accounting"')
    [message] = [m for (_, name), m in warnings_by_extension(validate(workspace({"p.bpmn": text}))).items()
                 if name == "camunda:candidateGroups"]
    assert "put this one in a lane named after a role of processes/roles.yaml; 'accounting' names none" in message


@pytest.mark.parametrize(("text", "python"), [
    ("${amount > 5000 && !rejected}", "amount > 5000 and not rejected"),
    ("#{a eq 'x' || b ne null}", "a == 'x' or b != None"),
    ("${empty list}", "not list"), ("=a = 1 and b >= 2", "a == 1 and b >= 2"), ("= x != null", "x != None"),
])
def test_expression_hints(text: str, python: str) -> None:
    hint = expression_hint(text)
    assert hint is not None and f"可写作 {python} (" in hint and hint.endswith(f"e.g. {python})")


@pytest.mark.parametrize("text", ["amount > 5", "a == 1", '"P5D"', ""])
def test_no_hint_for_python(text: str) -> None:
    assert expression_hint(text) is None


def test_a_juel_timer_gets_the_hint() -> None:
    timer = ('<bpmn:timerEventDefinition id="td"><bpmn:timeDuration>${duration}</bpmn:timeDuration>'
             "</bpmn:timerEventDefinition>")
    body = render([start(), Node("intermediateCatchEvent", "wait", body=timer), end()],
                  flows(("start", "wait"), ("wait", "end")))
    problems = [p for p in validate(workspace({"p.bpmn": bpmn("p", body, {"申请人": ["start", "wait", "end"]})}))
                if p.element_id == "wait"]
    assert any("a Camunda 7 JUEL expression: tongban expressions are Python, e.g. duration" in p.message
               for p in problems)


CAMUNDA_NS = 'xmlns:camunda="http://camunda.org/schema/1.0/bpmn"'


def test_warnings_do_not_block_deploy_and_the_case_runs(runtime: Runtime) -> None:
    """A tongban process that also carries Camunda attributes deploys, warns, and its task goes to the lane's role."""
    review = user("review", "审查", "review.json")
    review = Node(review.tag, review.id, review.name, attrs='camunda:candidateGroups="window_clerk" '
                  'camunda:asyncBefore="true"', ext=review.ext)
    text = bpmn("t_c7", render([start(form="apply.json"), review, end(outcome="approved")],
                               flows(("start", "review"), ("review", "end"))),
                {"申请人": ["start"], "窗口人员": ["review", "end"]}).replace(
        "<bpmn:definitions ", f"<bpmn:definitions {CAMUNDA_NS} ", 1)
    files = workspace({"p.bpmn": text}, {"apply.json": OPEN, "review.json": OPEN}, key="t_c7")
    problems = validate(files)
    assert errors_in(problems) == []
    assert {p.element_id for p in problems if "Camunda 7 扩展" in p.message} == {"review"}
    put(runtime, "t_c7", {"p.bpmn": text}, {"apply.json": OPEN, "review.json": OPEN})
    view = begin(runtime, "t_c7", {})
    assert do(runtime, "window", view.id, "review", {}).status == "completed"
