"""Form rules JSON Schema cannot say (`x-rules`): checked after the schema, reported per field, all at once."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from engine.base.errors import FormInvalid
from engine.definitions.forms import load_form
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from tests.support.builder import end, flows, render, start, user
from tests.support.http import PASSWORD
from tests.support.steps import put
from tests.support.workspaces import workspace

CONSENT = {
    "type": "object",
    "required": ["owners", "consenting", "mobile"],
    "properties": {"owners": {"type": "integer", "minimum": 0}, "consenting": {"type": "integer", "minimum": 0},
                   "mobile": {"type": "string", "pattern": "^1\\d{10}$"},
                   "lease_start": {"type": "string", "format": "date"},
                   "lease_end": {"type": "string", "format": "date"}},
    "x-rules": [
        {"path": "/consenting", "check": "consenting == owners",
         "message": "同意业主人数必须等于其他业主人数 (every other owner must consent)"},
        {"path": "/lease_end", "check": "lease_end > lease_start",
         "message": "租期结束须晚于开始 (the lease must end after it starts)"},
    ],
}


def form() -> object:
    return load_form("consent.json", json.dumps(CONSENT).encode())


def test_every_failing_rule_and_schema_error_is_reported_at_once() -> None:
    errors = form().errors({"owners": 12, "consenting": 11, "mobile": "2", "lease_start": "2026-05-01",
                            "lease_end": "2026-04-30"})
    assert set(errors) == {"/consenting", "/lease_end", "/mobile"}
    assert "every other owner must consent" in errors["/consenting"][0]


def test_a_rule_over_an_absent_or_already_invalid_field_stays_quiet() -> None:
    assert form().errors({"owners": 3, "consenting": 3, "mobile": "13800000000"}) == {}  # no lease: no lease rule
    errors = form().errors({"owners": 3, "consenting": "three", "mobile": "13800000000"})
    assert list(errors) == ["/consenting"] and len(errors["/consenting"]) == 1  # the schema's message only


def test_builtins_helpers_and_comprehension_variables_are_not_fields_a_rule_waits_for() -> None:
    split = {"type": "object", "properties": {"budget": {"type": "number"}, "shares": {"type": "array"},
                                                 "due": {"type": "string"}},
             "x-rules": [{"path": "/shares", "check": "sum(s['amount'] for s in shares) == budget",
                          "message": "来源合计须等于预算 (the sources must sum to the budget)"},
                         {"path": "/shares", "check": "all(s['amount'] > 0 for s in shares)",
                          "message": "金额须为正 (amounts must be positive)"},
                         {"path": "/due", "check": "workdays_between('2026-03-02', due) <= 5",
                          "message": "期限过长 (too far away)"}]}
    rules = load_form("split.json", json.dumps(split).encode())
    assert rules.errors({"budget": 10, "shares": [{"amount": 4}, {"amount": 6}], "due": "2026-03-06"}) == {}
    errors = rules.errors({"budget": 10, "shares": [{"amount": 4}, {"amount": -6}], "due": "2026-03-20"})
    assert set(errors) == {"/shares", "/due"} and len(errors["/shares"]) == 2


@pytest.mark.parametrize(("rules", "reason"), [
    ([{"path": "/a", "check": "__import__('os')", "message": "x"}], "check"),
    ([{"path": "a", "check": "a > 1", "message": "x"}], "JSON 指针"),
    ([{"path": "/a~2", "check": "owners > 1", "message": "x"}], "JSON 指针"),
    ([{"path": "/owners", "check": "ownres > 1", "message": "x"}], "ownres"),   # a typo would never fire
    ([{"path": "/a", "check": "a > 1"}], "message"),
    ({"path": "/a"}, "列表"),
])
def test_malformed_rules_are_refused_at_validate_with_the_form_named(rules: object, reason: str) -> None:
    bad = {**CONSENT, "x-rules": rules}
    nodes = [start(form="consent.json"), end()]
    bpmn = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            '<bpmn:process id="t_rules" isExecutable="true"><bpmn:laneSet id="ls"><bpmn:lane id="l1" name="申请人">'
            '<bpmn:flowNodeRef>start</bpmn:flowNodeRef><bpmn:flowNodeRef>end</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{render(nodes, flows(("start", "end")))}</bpmn:process></bpmn:definitions>')
    problems = validate(workspace({"r.bpmn": bpmn}, {"consent.json": bad}, key="t_rules"))
    assert any(p.file == "forms/consent.json" and reason in p.message for p in problems), problems


@pytest.fixture
def rules_process(runtime: Runtime) -> str:
    nodes = [start(form="consent.json"), user("review", "审查", "open.json"), end()]
    bpmn = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
            'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
            'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
            '<bpmn:process id="t_rules" isExecutable="true"><bpmn:laneSet id="ls">'
            '<bpmn:lane id="l1" name="申请人"><bpmn:flowNodeRef>start</bpmn:flowNodeRef></bpmn:lane>'
            '<bpmn:lane id="l2" name="窗口人员"><bpmn:flowNodeRef>review</bpmn:flowNodeRef></bpmn:lane>'
            f'</bpmn:laneSet>{render(nodes, flows(("start", "review"), ("review", "end")))}</bpmn:process>'
            '</bpmn:definitions>')
    put(runtime, "t_rules", {"r.bpmn": bpmn}, {"consent.json": CONSENT, "open.json": {"type": "object"}})
    return "t_rules"


def test_the_runtime_and_the_api_refuse_with_the_rule_and_write_nothing(
        client: FlaskClient, runtime: Runtime, rules_process: str) -> None:
    with pytest.raises(FormInvalid) as err:
        runtime.start(rules_process, {"owners": 5, "consenting": 4, "mobile": "13800000000"}, runtime.actor("haiyun"))
    assert list(err.value.fields) == ["/consenting"]
    token = client.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD}).json["token"]
    reply = client.post(f"/api/v1/processes/{rules_process}/instances", headers={"Authorization": f"Bearer {token}"},
                        json={"data": {"owners": 5, "consenting": 4, "mobile": "1380000000"}})
    assert reply.status_code == 422 and set(reply.json["fields"]) == {"/consenting", "/mobile"}
    assert runtime.instances(runtime.actor("admin")) == []


def test_every_cent_amount_is_a_multiple_of_a_cent_and_nothing_finer_is() -> None:
    """python-jsonschema divides floats and refused 0.07 (one cent amount in nine) as "not a multiple of 0.01"."""
    money = load_form("money.json", json.dumps({
        "type": "object", "properties": {"amount": {"type": "number", "minimum": 0, "multipleOf": 0.01}}}).encode())
    assert [cents for cents in range(100_000) if money.errors({"amount": cents / 100})] == []
    assert money.errors({"amount": 0.001}) == {"/amount": ["0.001 is not a multiple of 0.01"]}


def test_huge_amounts_are_checked_exactly_too() -> None:
    money = load_form("money.json", json.dumps({"type": "number", "multipleOf": 0.01}).encode())
    assert money.errors(1.7976931348623157e308) == {} and money.errors(123456789012.34) == {}
    assert money.errors(123456789012.345) == {"/": ["123456789012.345 is not a multiple of 0.01"]}


def test_a_field_several_branches_require_is_reported_once() -> None:
    twice = load_form("twice.json", json.dumps({
        "type": "object", "required": ["name"], "properties": {"name": {"type": "string"}},
        "allOf": [{"required": ["name"]}, {"required": ["name"]}]}).encode())
    assert twice.errors({}) == {"/name": ["必填项 (required): name"]}


@pytest.mark.parametrize("blank", ["     ", "\u3000" * 6, "\u200b" * 12, " \u200b\n\t\ufeff "])
def test_a_minimum_length_counts_what_a_reader_sees(blank: str) -> None:
    """Reasons of spaces, full-width spaces or zero-width characters are no reasons: a refusal must state them."""
    form = load_form("refuse.json", json.dumps({"type": "object", "properties": {
        "reasons": {"type": "string", "title": "理由", "minLength": 5}}}).encode())
    assert list(form.errors({"reasons": blank})) == ["/reasons"]
    assert list(form.errors({"reasons": blank + "不符合规划"})) == [] and form.errors({"reasons": "材料 不全 。"}) == {}


def test_the_shipped_refusal_forms_refuse_blank_reasons() -> None:
    """The reviewer's finding: YYYZ 不予受理 and LYJJ-P formal-check refusals took reasons of spaces."""
    from tests.support.repo import REPO
    for name, data, path in [
        ("yyyz_precheck.json", {"precheck_result": "reject", "reject_reasons": "     "}, "/reject_reasons"),
        ("lyjj_formal_check.json", {"formal_ok": False, "formal_outcome": "refuse", "refusal_reasons": " "},
         "/refusal_reasons"),
    ]:
        form = load_form(name, (REPO / "forms" / name).read_bytes())
        assert path in form.errors(data), name
