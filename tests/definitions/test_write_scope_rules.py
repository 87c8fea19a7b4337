"""The write-scope walker (engine/definitions/writescope.py) and the deploy-time lint on logic reading human input."""

from __future__ import annotations

import json
from typing import Any

import pytest

from engine.definitions.forms import load_form
from engine.definitions.humaninput import script_reads
from engine.definitions.registry import validate
from engine.definitions.writescope import READ_ONLY, UNDECLARED, write_errors
from tests.support.builder import DECIDED, bpmn, form_props
from tests.support.repo import REPO
from tests.support.workspaces import workspace

SCHEMA: dict[str, Any] = {
    "type": "object",
    "$defs": {"room": {"type": "object", "properties": {"no": {"type": "string"}, "floor": {"readOnly": True}}}},
    "properties": {
        "tenure": {"type": "string"},
        "address": {"type": "object", "properties": {"road": {"type": "string"}, "room": {"$ref": "#/$defs/room"}}},
        "owners": {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}},
        "pair": {"type": "array", "prefixItems": [{"type": "object", "properties": {"a": {}}}]},
        "tags": {"type": "object", "patternProperties": {"^t_": {"type": "string"}}},
        "extras": {"type": "object", "additionalProperties": {"type": "number"}},
        "budget": {"type": "number", "readOnly": True},
    },
    "allOf": [{"if": {"properties": {"tenure": {"const": "lease"}}},
               "then": {"properties": {"lease_end": {"type": "string"}}}},
              {"properties": {"reviewed": {"allOf": [{"readOnly": True}]}}}],
    "oneOf": [{"properties": {"kind_a": {}}}, {"properties": {"kind_b": {}}}],
}


@pytest.mark.parametrize("data", [
    {"tenure": "lease", "lease_end": "2027-01-01"},  # declared in a then-branch
    {"address": {"road": "香港中路", "room": {"no": "1201"}}},  # through a $ref
    {"owners": [{"name": "甲"}, {"name": "乙"}], "pair": [{"a": 1}, "anything after the prefix"]},
    {"tags": {"t_x": "1"}, "extras": {"any": 1}, "kind_a": 1, "kind_b": 2},
])
def test_every_declared_path_is_writable(data: dict[str, Any]) -> None:
    assert write_errors(SCHEMA, data) == {}


@pytest.mark.parametrize(("data", "errors"), [
    ({"threshold": 1e9, "tenure": "own"}, {"/threshold": [UNDECLARED]}),
    ({"address": {"road": "x", "extra": 1}}, {"/address/extra": [UNDECLARED]}),
    ({"address": {"room": {"floor": 3, "hack": 1}}}, {"/address/room/floor": [READ_ONLY],
                                                        "/address/room/hack": [UNDECLARED]}),
    ({"owners": [{"name": "甲"}, {"name": "乙", "share": 1}]}, {"/owners/1/share": [UNDECLARED]}),
    ({"tags": {"u": "1"}}, {"/tags/u": [UNDECLARED]}),
    ({"budget": 1, "reviewed": True}, {"/budget": [READ_ONLY], "/reviewed": [READ_ONLY]}),
    ({"a/b": 1}, {"/a~1b": [UNDECLARED]}),  # a JSON pointer, escaped
])
def test_undeclared_and_read_only_paths_are_each_named(data: dict[str, Any], errors: dict[str, list[str]]) -> None:
    assert write_errors(SCHEMA, data) == errors


def test_an_open_object_declares_nothing_unless_it_says_so() -> None:
    assert write_errors({"type": "object"}, {"x": 1}) == {"/x": [UNDECLARED]}
    assert write_errors({"type": "object", "additionalProperties": True}, {"x": {"y": 1}}) == {}


def test_script_reads_are_the_names_used_before_they_are_assigned() -> None:
    assert script_reads("reopened = reopened + 1") == {"reopened"}
    assert script_reads("count += 1") == {"count"}
    assert script_reads("x = 1\ny = x + amount\nz = [i for i in items if i > limit]") == {"amount", "items", "limit"}
    assert script_reads("due = workdays_after(now_iso(), len(permits))") == {"permits"}


def _gateway_process(review_form: dict[str, Any]) -> dict[str, bytes]:
    body = (
        f'<bpmn:startEvent id="start">{form_props("apply.json")}<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        f'<bpmn:userTask id="review" name="审查">{form_props("review.json")}<bpmn:incoming>f1</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing></bpmn:userTask>"
        '<bpmn:exclusiveGateway id="level" default="small"><bpmn:incoming>f2</bpmn:incoming>'
        "<bpmn:outgoing>big</bpmn:outgoing><bpmn:outgoing>small</bpmn:outgoing></bpmn:exclusiveGateway>"
        f'<bpmn:endEvent id="e1">{DECIDED}<bpmn:incoming>big</bpmn:incoming></bpmn:endEvent>'
        f'<bpmn:endEvent id="e2">{DECIDED}<bpmn:incoming>small</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="review" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="level" />'
        '<bpmn:sequenceFlow id="big" sourceRef="level" targetRef="e1">'
        "<bpmn:conditionExpression>budget &gt; 50000</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="small" sourceRef="level" targetRef="e2" />'
    )
    apply = {"type": "object", "properties": {"budget": {"type": "number", "x-input": True}}}
    return workspace({"p.bpmn": bpmn("t_lint", body, {"申请人": ["start", "level", "e1", "e2"],
                                                       "窗口人员": ["review"]})},
                     {"apply.json": apply, "review.json": review_form}, key="t_lint")


def _warnings(files: dict[str, bytes]) -> list[tuple[str | None, str]]:
    return [(p.element_id, p.message) for p in validate(files) if p.severity == "warning"]


def test_a_gateway_reading_a_field_a_reviewer_may_rewrite_is_a_warning_naming_element_and_form() -> None:
    found = _warnings(_gateway_process({"type": "object", "properties": {"budget": {"type": "number"}}}))
    assert [(element, "'budget'" in m and "review.json" in m and "apply.json" not in m) for element, m in found] == [
        ("big", True)]


@pytest.mark.parametrize("review", [
    {"type": "object", "properties": {"budget": {"type": "number", "readOnly": True}}},  # shown, not written
    {"type": "object", "properties": {"budget": {"type": "number", "x-input": True}}},  # the designer means it
    {"type": "object", "properties": {"opinion": {"type": "string"}}},  # not offered at all
])
def test_read_only_marked_or_absent_fields_are_not_warned_about(review: dict[str, Any]) -> None:
    assert _warnings(_gateway_process(review)) == []


def test_rules_read_the_stored_case_data_under_what_was_sent() -> None:
    form = load_form("pay.json", json.dumps({
        "type": "object", "required": ["budget", "payment"],
        "properties": {"budget": {"type": "number", "readOnly": True}, "payment": {"type": "number"}},
        "x-rules": [{"path": "/payment", "check": "payment <= budget * 0.3", "message": "预付不超过 30%"}],
    }).encode())
    assert form.errors({"payment": 30}, {"budget": 100}) == {}  # required budget: the stored one stands in
    assert form.errors({"payment": 31}, {"budget": 100}) == {"/payment": ["预付不超过 30%"]}
    assert form.errors({"payment": 31, "budget": 1000}, {"budget": 100}) == {
        "/budget": [READ_ONLY], "/payment": ["预付不超过 30%"]}  # the sent budget is refused, not believed


@pytest.mark.parametrize(("data", "errors"), [
    ({"tenure": "own", "lease_end": "2027-01-01"}, {"/lease_end": [UNDECLARED]}),  # its `then` does not apply
    ({"mode": "a", "only_b": 1}, {"/only_b": [UNDECLARED]}),  # declared by an anyOf branch the value misses
    ({"mode": "a", "only_a": 1}, {}),
    ({"extra_if": 1}, {"/extra_if": [UNDECLARED]}),  # `if` tests, it declares nothing
    ({"card": 1, "billing": "x"}, {}), ({"billing": "x"}, {"/billing": [UNDECLARED]}),  # dependentSchemas
    ({"t_fixed": "x"}, {"/t_fixed": [READ_ONLY]}),  # properties and a matching pattern both apply
])
def test_conditional_branches_declare_only_when_they_apply(data: dict[str, Any],
                                                           errors: dict[str, list[str]]) -> None:
    schema = {
        "type": "object",
        "properties": {"tenure": {}, "mode": {}, "card": {}, "t_fixed": {"type": "string"}},
        "patternProperties": {"^t_": {"readOnly": True}},
        "if": {"properties": {"tenure": {"const": "lease"}, "extra_if": {}}, "required": ["tenure"]},
        "then": {"properties": {"lease_end": {}}},
        "anyOf": [{"properties": {"mode": {"const": "a"}, "only_a": {}}},
                  {"properties": {"mode": {"const": "b"}, "only_b": {}}}],
        "dependentSchemas": {"card": {"properties": {"billing": {}}}},
    }
    assert write_errors(schema, data) == errors


def test_a_read_only_field_inside_a_submitted_object_keeps_its_stored_value() -> None:
    form = load_form("c.json", json.dumps({"type": "object", "properties": {"c": {
        "type": "object", "required": ["amount"],
        "properties": {"amount": {"type": "number", "readOnly": True}, "note": {"type": "string"}}}}}).encode())
    fields, written = form.checked({"c": {"note": "x"}}, {"c": {"amount": 5, "note": "old"}})
    assert fields == {} and written == {"c": {"amount": 5, "note": "x"}}


def test_the_135_handler_cannot_send_an_extension_date_with_a_finished_report() -> None:
    form = load_form("qysq_handle.json", (REPO / "forms" / "qysq_handle.json").read_bytes())
    done = {"handle_outcome": "done", "result_status": "resolved", "result_report": "已协调解决，企业确认。"}
    assert form.errors(done) == {}
    assert form.errors({**done, "extension_until": "2099-12-31"}) == {"/extension_until": [UNDECLARED]}
    extend = {"handle_outcome": "extend", "extension_reason": "需协调三个部门", "extension_until": "2099-12-31"}
    assert form.errors(extend) == {}


def test_a_loop_of_scripts_and_gateways_that_never_waits_is_a_warning() -> None:
    body = (
        f'<bpmn:startEvent id="start">{form_props("apply.json")}<bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:scriptTask id="count"><bpmn:incoming>f1</bpmn:incoming><bpmn:incoming>again</bpmn:incoming>'
        "<bpmn:outgoing>f2</bpmn:outgoing><bpmn:script>n = 1</bpmn:script></bpmn:scriptTask>"
        '<bpmn:exclusiveGateway id="more" default="done"><bpmn:incoming>f2</bpmn:incoming>'
        "<bpmn:outgoing>again</bpmn:outgoing><bpmn:outgoing>done</bpmn:outgoing></bpmn:exclusiveGateway>"
        f'<bpmn:endEvent id="end">{DECIDED}<bpmn:incoming>done</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="more" />'
        '<bpmn:sequenceFlow id="again" sourceRef="more" targetRef="count">'
        "<bpmn:conditionExpression>n &lt; 10</bpmn:conditionExpression></bpmn:sequenceFlow>"
        '<bpmn:sequenceFlow id="done" sourceRef="more" targetRef="end" />'
    )
    files = workspace({"p.bpmn": bpmn("t_loop", body, {"申请人": ["start", "count", "more", "end"]})},
                      {"apply.json": {"type": "object"}}, key="t_loop")
    assert [(e, "['count', 'more']" in m) for e, m in _warnings(files)] == [("count", True)]
