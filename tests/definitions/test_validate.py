"""`tongban validate`: XSD, SpiffWorkflow's parser and tongban's lint, each error with file, line and id."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine.base.problems import Problem, errors_in
from engine.cli.main import main
from engine.definitions.registry import validate
from tests.support.builder import DECIDED, bpmn, form_props
from tests.support.repo import REPO, repo_files
from tests.support.workspaces import OPEN_FORM, workspace

APPLICANT = "申请人"


def simple(task: str = "", lane_name: str = APPLICANT, flows: str = "") -> str:
    body = (
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        f'<bpmn:userTask id="fill" name="填写">{task}<bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>"
        f'<bpmn:endEvent id="end">{DECIDED}<bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="end" />' + flows
    )
    return bpmn("p", body, {lane_name: ["start", "fill", "end"]})


def only(problems: list[Problem], severity: str = "error") -> Problem:
    found = [p for p in problems if p.severity == severity]
    assert len(found) == 1, found
    return found[0]


def line_of(text: str, needle: str) -> int:
    return text[: text.index(needle)].count("\n") + 1


def test_the_repository_processes_validate_cleanly() -> None:
    assert errors_in(validate(repo_files())) == []


def test_a_clean_process_has_no_problem() -> None:
    assert validate(workspace({"p.bpmn": simple(form_props("f.json"))}, {"f.json": {"type": "object"}}, "p")) == []


def test_lane_without_role_is_an_error_with_file_line_and_id() -> None:
    text = simple(form_props("f.json"), lane_name="不存在的部门").replace("<bpmn:userTask", "\n<bpmn:userTask")
    problem = only(validate(workspace({"p.bpmn": text}, {"f.json": {"type": "object"}})))
    assert (problem.file, problem.element_id, problem.line) == ("processes/t/p.bpmn", "fill",
                                                                line_of(text, '<bpmn:userTask'))
    assert "不存在的部门" in problem.message and "role" in problem.message


def test_user_task_without_form_and_with_missing_form() -> None:
    assert "names no form" in only(validate(workspace({"p.bpmn": simple()}))).message
    problem = only(validate(workspace({"p.bpmn": simple(form_props("missing.json"))})))
    assert problem.element_id == "fill" and "forms/missing.json" in problem.message


def test_form_that_is_not_valid_json_schema() -> None:
    files = workspace({"p.bpmn": simple(form_props("bad.json"))}, {"bad.json": {"type": "objekt"}})
    problems = errors_in(validate(files))
    assert {p.file for p in problems} == {"forms/bad.json", "processes/t/p.bpmn"}
    assert any("JSON Schema" in p.message for p in problems)


def test_timer_expression_that_does_not_parse() -> None:
    boundary = ('<bpmn:boundaryEvent id="late" attachedToRef="fill"><bpmn:outgoing>f3</bpmn:outgoing>'
                '<bpmn:timerEventDefinition id="td"><bpmn:timeDuration>"P5X"</bpmn:timeDuration>'
                "</bpmn:timerEventDefinition></bpmn:boundaryEvent>"
                '<bpmn:endEvent id="end2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
                '<bpmn:sequenceFlow id="f3" sourceRef="late" targetRef="end2" />')
    text = simple(form_props("f.json"), flows=boundary).replace(
        '<bpmn:flowNodeRef>end</bpmn:flowNodeRef>',
        '<bpmn:flowNodeRef>end</bpmn:flowNodeRef><bpmn:flowNodeRef>late</bpmn:flowNodeRef>'
        '<bpmn:flowNodeRef>end2</bpmn:flowNodeRef>')
    problem = only(validate(workspace({"p.bpmn": text}, {"f.json": {"type": "object"}})))
    assert problem.element_id == "late" and "P5X" in problem.message


def test_unresolved_call_activity_and_decision() -> None:
    body = (
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:callActivity id="call" calledElement="nowhere"><bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:callActivity>"
        '<bpmn:businessRuleTask id="rule"><bpmn:extensionElements><spiffworkflow:calledDecisionId>'
        "no_table</spiffworkflow:calledDecisionId></bpmn:extensionElements><bpmn:incoming>f2</bpmn:incoming>"
        "<bpmn:outgoing>f3</bpmn:outgoing></bpmn:businessRuleTask>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="call" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="call" targetRef="rule" />'
        '<bpmn:sequenceFlow id="f3" sourceRef="rule" targetRef="end" />'
    )
    problems = errors_in(validate(workspace({"p.bpmn": bpmn("p", body, {APPLICANT: ["start"]})})))
    assert {p.element_id for p in problems} == {"call", "rule"}
    assert all(p.line for p in problems)


def gateway_process(default: bool, condition_on_second: bool = True) -> str:
    cond = "<bpmn:conditionExpression>amount &gt; 5</bpmn:conditionExpression>"
    default_attr = 'default="f3"' if default else ""
    body = (
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        f'<bpmn:exclusiveGateway id="gw" {default_attr}><bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing><bpmn:outgoing>f3</bpmn:outgoing></bpmn:exclusiveGateway>"
        '<bpmn:endEvent id="e1"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:endEvent id="e2"><bpmn:incoming>f3</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="gw" />'
        f'<bpmn:sequenceFlow id="f2" sourceRef="gw" targetRef="e1">{cond}</bpmn:sequenceFlow>'
        f'<bpmn:sequenceFlow id="f3" sourceRef="gw" targetRef="e2">{cond if condition_on_second else ""}'
        "</bpmn:sequenceFlow>"
    )
    return bpmn("p", body, {APPLICANT: ["start", "gw", "e1", "e2"]})


def test_exclusive_gateway_without_default_is_a_warning() -> None:
    problems = validate(workspace({"p.bpmn": gateway_process(default=False)}))
    assert errors_in(problems) == []
    assert only(problems, "warning").element_id == "gw"
    assert validate(workspace({"p.bpmn": gateway_process(default=True)})) == []


def test_gateway_flow_without_condition_that_is_not_default_is_an_error() -> None:
    problem = only(validate(workspace({"p.bpmn": gateway_process(default=False, condition_on_second=False)})))
    assert problem.element_id == "gw" and "f3" in problem.message


def test_condition_using_forbidden_python_is_refused_at_validate_time() -> None:
    text = gateway_process(default=True).replace("amount &gt; 5", "().__class__", 1)
    problem = only(validate(workspace({"p.bpmn": text})))
    assert problem.element_id == "f2" and "__class__" in problem.message


def test_doctype_and_entities_are_refused() -> None:
    bomb = ('<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>\n'
            + simple(form_props("f.json")).split("\n", 1)[1].replace('name="填写"', 'name="&lol2;"'))
    problem = only(validate(workspace({"p.bpmn": bomb}, {"f.json": {"type": "object"}})))
    assert problem.line == 2 and "DOCTYPE" in problem.message
    external = '<?xml version="1.0"?>\n<!DOCTYPE x SYSTEM "http://example.com/x.dtd">\n<x/>'
    assert "DOCTYPE" in only(validate(workspace({"p.bpmn": external}))).message


def test_xsd_violation_names_the_line() -> None:
    text = simple(form_props("f.json")).replace('<bpmn:endEvent id="end">', '\n<bpmn:endEvent id="end" bogus="1">')
    problems = errors_in(validate(workspace({"p.bpmn": text}, {"f.json": {"type": "object"}})))
    assert problems and problems[0].line == line_of(text, 'bogus="1"') and "XSD" in problems[0].message
    assert problems[0].element_id == "end"


def test_malformed_xml() -> None:
    problem = only(validate(workspace({"p.bpmn": "<bpmn:definitions>\n<unclosed>"})))
    assert problem.line == 2 or problem.line == 1
    assert "XML" in problem.message


def test_manifest_pointing_nowhere() -> None:
    problem = only(validate(workspace({"p.bpmn": simple(form_props("f.json"))}, {"f.json": {"type": "object"}},
                                      key="ghost")))
    assert problem.file == "processes/t/process.yaml" and "ghost" in problem.message


def test_cli_validate_exits_1_with_every_error_and_0_when_clean(tmp_path) -> None:
    runner = CliRunner()
    ok = runner.invoke(main, ["validate", str(REPO)])
    assert ok.exit_code == 0, ok.output
    (tmp_path / "processes" / "t").mkdir(parents=True)
    (tmp_path / "forms").mkdir()
    (tmp_path / "processes" / "roles.yaml").write_bytes((REPO / "processes" / "roles.yaml").read_bytes())
    (tmp_path / "processes" / "t" / "p.bpmn").write_text(simple(lane_name="无此角色"), encoding="utf-8")
    (tmp_path / "forms" / "f.json").write_bytes(OPEN_FORM)
    bad = runner.invoke(main, ["validate", str(tmp_path), "--json"])
    assert bad.exit_code == 1
    problems = json.loads(bad.output)
    assert {p["element_id"] for p in problems} == {"fill"} and len(problems) == 2
    assert all(p["file"] == "processes/t/p.bpmn" and p["line"] for p in problems)
