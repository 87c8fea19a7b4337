"""A case's outcome in the product: the API's case views and list (with an `outcome=` filter), the case list
and case page, in Chinese and English."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from engine.runtime.runtime import Runtime
from tests.support.http import bearer, log_in
from tests.support.shipped import SUBMIT
from tests.support.steps import do

SMALL, LARGE = {"title": "更换门禁读卡器", "amount": 3000}, {"title": "办公用房改造", "amount": 50_000}


@pytest.fixture
def three(runtime: Runtime) -> dict[str, tuple[int, str]]:
    """One case approved automatically, one refused by the window clerk, one still waiting for its decision."""
    cases = {}
    for name, data in (("approved", SMALL), ("refused", LARGE), ("open", LARGE)):
        view = runtime.start("sample_approval", data, runtime.actor("haiyun"))
        do(runtime, "haiyun", view.id, "submit", SUBMIT)
        cases[name] = (view.id, view.case_number)
    do(runtime, "window", cases["refused"][0], "approve", {"decision": "rejected", "comment": "未附消防意见"})
    return cases


def test_the_api_lists_and_shows_each_case_s_outcome_and_filters_by_it(
        client: FlaskClient, three: dict[str, tuple[int, str]]) -> None:
    auth = bearer(client, "haiyun")
    listed = {c["id"]: c["outcome"] for c in client.get("/api/v1/instances", headers=auth).json["items"]}
    assert listed == {three["approved"][0]: "approved", three["refused"][0]: "refused", three["open"][0]: None}
    refused = client.get("/api/v1/instances?outcome=refused", headers=auth).json["items"]
    assert [c["case_number"] for c in refused] == [three["refused"][1]]
    both = client.get("/api/v1/instances?outcome=approved&status=completed", headers=auth).json["items"]
    assert [c["id"] for c in both] == [three["approved"][0]]
    assert client.get(f"/api/v1/instances/{three['refused'][0]}", headers=auth).json["outcome"] == "refused"
    assert client.get(f"/api/v1/instances/{three['open'][0]}", headers=auth).json["outcome"] is None


@pytest.mark.parametrize("value", ["bogus", "Approved", "completed", ""])
def test_an_unknown_outcome_is_a_422_naming_the_field(client: FlaskClient, three: dict, value: str) -> None:
    reply = client.get(f"/api/v1/instances?outcome={value}", headers=bearer(client, "haiyun"))
    assert reply.status_code == 422 and reply.json["error"] == "validation_failed"
    assert any("outcome" in path for path in reply.json["fields"]), reply.json


def test_the_openapi_document_names_the_outcomes(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    [param] = [p for p in spec["paths"]["/api/v1/instances"]["get"]["parameters"] if p["name"] == "outcome"]
    assert "refused" in param["schema"]["enum"] and "not_accepted" in param["schema"]["enum"]
    outcome = spec["components"]["schemas"]["InstanceSummary"]["properties"]["outcome"]
    assert outcome["nullable"] and "approved" in outcome["enum"]


def test_the_case_list_shows_outcomes_as_labels_and_filters_by_them(
        client: FlaskClient, three: dict[str, tuple[int, str]]) -> None:
    log_in(client, "haiyun")
    page = client.get("/cases").get_data(as_text=True)
    assert "准予（通过）" in page and "不予许可（不通过）" in page and 'name="outcome"' in page
    refused = client.get("/cases?outcome=refused").get_data(as_text=True)
    assert three["refused"][1] in refused and three["approved"][1] not in refused
    assert three["open"][1] not in refused
    ignored = client.get("/cases?outcome=bogus").get_data(as_text=True)  # a page ignores a value it does not offer
    assert all(number in ignored for _, number in three.values())
    english = client.get("/cases?lang=en").get_data(as_text=True)
    assert "Refused" in english and "Approved" in english


def test_the_case_page_and_the_administrator_s_list_show_the_outcome(
        client: FlaskClient, three: dict[str, tuple[int, str]]) -> None:
    log_in(client, "haiyun")
    detail = client.get(f"/cases/{three['refused'][0]}").get_data(as_text=True)
    assert "办理结果" in detail and "不予许可（不通过）" in detail
    assert "outcome-refused" in detail
    waiting = client.get(f"/cases/{three['open'][0]}").get_data(as_text=True)
    assert '<p id="outcome">' in waiting and "outcome-" not in waiting.split('<p id="outcome">')[1].split("</p>")[0]
    log_in(client, "admin")
    listed = client.get("/cases?outcome=approved").get_data(as_text=True)
    assert three["approved"][1] in listed and three["refused"][1] not in listed
