"""The case page shows a value as its form offered it: an organisation code by the organisation's name, a
choice by its label, an object's fields by their titles."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.definitions.registry import deploy
from engine.runtime.caseview import shown
from engine.runtime.runtime import Runtime
from tests.support.http import log_in
from tests.support.organisations import routed
from tests.support.steps import begin

CHOICE = {"type": "string", "oneOf": [{"const": "approved", "title": "通过"}, {"const": "refused", "title": "不通过"}]}


def test_choices_objects_and_lists_are_shown_by_their_labels() -> None:
    assert shown("approved", CHOICE) == "通过"
    assert shown("other", CHOICE) == "other"  # not offered (an older version's value): as stored
    address = {"type": "object", "properties": {"street_office": {"title": "街道", **CHOICE}, "room": {}}}
    assert shown({"street_office": "refused", "room": "1201"}, address) == {"街道": "不通过", "room": "1201"}
    assert shown(["approved", "refused"], {"type": "array", "items": CHOICE}) == ["通过", "不通过"]
    assert shown(True, {"type": "boolean", "oneOf": [{"const": 1, "title": "一"}]}) is True  # True is not 1 here
    assert shown("x", None) == "x"


def test_the_case_page_names_the_street_not_its_code(client: FlaskClient, runtime: Runtime) -> None:
    deploy(runtime.db, routed())
    case = begin(runtime, "t_orgs", {"address": {"street_office": "street_zhl"}})
    log_in(client, "haiyun")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    shown_data = page[page.index("申请信息"):page.index("办理过程")]
    assert "<dt>街道</dt><dd>珠海路街道</dd>" in shown_data and "street_zhl" not in shown_data
