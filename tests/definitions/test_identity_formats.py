"""`"format": "uscc"` and `"format": "resident-id"` on form fields: refused in Chinese and English, naming the field."""

from __future__ import annotations

import json

import pytest

from engine.base.errors import FormInvalid
from engine.definitions.forms import load_form
from engine.runtime.runtime import Runtime
from tests.support.builder import bpmn, end, flows, render, start
from tests.support.steps import begin, put

APPLY = {"type": "object", "required": ["credit_code", "agent_id"], "properties": {
    "credit_code": {"type": "string", "title": "统一社会信用代码", "format": "uscc",
                    "pattern": "^[0-9A-HJ-NPQRTUWXY]{2}\\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"},
    "agent_id": {"type": "string", "title": "经办人身份证号码", "format": "resident-id"},
    "owners": {"type": "array", "items": {"type": "object", "properties": {
        "id_number": {"type": "string", "format": "resident-id"}}}}}}
GOOD = {"credit_code": "91370202MA3C4XY01E", "agent_id": "370202198506120012"}


def form() -> object:
    return load_form("t_apply.json", json.dumps(APPLY).encode())


def test_valid_numbers_pass() -> None:
    assert form().errors({**GOOD, "owners": [{"id_number": "11010519491231002X"}]}) == {}


def test_a_wrong_check_character_is_reported_in_both_languages_naming_the_field() -> None:
    errors = form().errors({"credit_code": "91370202MA3C4XY01K", "agent_id": "370202198506120013"})
    assert errors == {
        "/credit_code": ["统一社会信用代码：校验码不符（GB 32100），请核对是否抄错 (credit_code: not a valid unified "
                         "social credit code: the check character does not match (GB 32100))"],
        "/agent_id": ["经办人身份证号码：校验码不符（GB 11643），请核对是否抄错 (agent_id: not a valid resident ID "
                      "number: the check character does not match (GB 11643))"]}


@pytest.mark.parametrize("agent_id, why", [
    ("37020219991399001X", "19991399"),  # the right check character for an impossible date
    ("370202209901010017", "2099-01-01"),
    ("37020219850612001x", "capital X"),
])
def test_birth_dates_and_the_check_letter_are_checked(agent_id: str, why: str) -> None:
    [message] = form().errors({**GOOD, "agent_id": agent_id})["/agent_id"]
    assert message.startswith("经办人身份证号码：") and why in message and "(agent_id: " in message


def test_a_field_without_a_title_is_named_by_its_key_and_items_by_their_path() -> None:
    errors = form().errors({**GOOD, "owners": [{"id_number": "11010519491231002X"}, {"id_number": "1"}]})
    assert list(errors) == ["/owners/1/id_number"]
    assert errors["/owners/1/id_number"][0].startswith("id_number：须为 18 位")


def test_the_pattern_and_the_format_each_say_their_part_and_a_number_is_a_type_error() -> None:
    errors = form().errors({**GOOD, "credit_code": "91370202ma3c4xy01e", "agent_id": 370202198506120012})
    assert len(errors["/credit_code"]) == 2  # the pattern's message and the format's reason
    assert any("capitals" in m for m in errors["/credit_code"])
    assert errors["/agent_id"] == ["370202198506120012 is not of type 'string'"]


def test_a_start_with_a_bad_credit_code_is_refused_with_the_field_and_changes_nothing(runtime: Runtime) -> None:
    body = render([start(form="t_apply.json"), end()], flows(("start", "end")))
    put(runtime, "t_ids", {"t.bpmn": bpmn("t_ids", body, {"申请人": ["start"]})}, {"t_apply.json": APPLY})
    with pytest.raises(FormInvalid) as refused:
        begin(runtime, "t_ids", {**GOOD, "credit_code": "91370202MA3C4XY01F"})
    assert list(refused.value.fields) == ["/credit_code"]
    assert begin(runtime, "t_ids", GOOD).status == "completed"
