"""审批流水 and 常用意见 over HTTP: the trail of a case the caller may see, 422 for a decision without an opinion,
each user's own saved phrases (capped, personal: another user's is not found), the task and case pages."""

from __future__ import annotations

import pytest
from flask.testing import FlaskClient

from engine.people.phrases import MAX_PHRASE_LENGTH, MAX_PHRASES
from engine.runtime.runtime import Runtime
from tests.support.http import bearer, log_in
from tests.support.opinions import decided, deploy_two_decisions
from tests.support.steps import begin, only_task


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    deploy_two_decisions(runtime)
    return runtime


def test_completing_a_decision_without_an_opinion_is_a_422_naming_the_field(client: FlaskClient,
                                                                             runtime: Runtime) -> None:
    case = begin(runtime, "t_opinions", {"title": "三楼办公"})
    task = only_task(runtime, "street", case.id)
    auth = bearer(client, "street")
    detail = client.get(f"/api/v1/tasks/{task.id}", headers=auth).json
    assert detail["opinion_field"] == "/review/opinion"
    reply = client.post(f"/api/v1/tasks/{task.id}/complete", headers=auth,
                        json={"data": {"review": {"result": "pass", "opinion": " \u3000 "}}})
    assert reply.status_code == 422, reply.json
    assert reply.json["error"] and list(reply.json["fields"]) == ["/review/opinion"]
    done = client.post(f"/api/v1/tasks/{task.id}/complete", headers=auth,
                       json={"data": {"review": {"result": "fail", "opinion": "消防通道被占用"}}})
    assert done.status_code == 200, done.json


def test_the_trail_over_rest_is_scoped_by_who_asks(client: FlaskClient, runtime: Runtime) -> None:
    case = decided(runtime)
    staff = client.get(f"/api/v1/instances/{case.id}/opinions", headers=bearer(client, "window"))
    assert staff.status_code == 200
    assert [(o["step"], o["decision"], o["internal"]) for o in staff.json] == [
        ("街道现场核查", "符合", True), ("窗口决定", "同意备案：是 (yes)", False)]
    own = client.get(f"/api/v1/instances/{case.id}/opinions", headers=bearer(client, "haiyun")).json
    assert [o["opinion"] for o in own] == ["材料齐全，同意备案"] and own[0]["office"] == "市南区行政审批服务局"
    detail = client.get(f"/api/v1/instances/{case.id}", headers=bearer(client, "haiyun")).json
    assert [o["opinion"] for o in detail["opinions"]] == ["材料齐全，同意备案"]
    assert "楼道狭窄" not in repr(detail)
    for who in ("fushan", "zhujian"):  # another enterprise; a department with no task in the case
        assert client.get(f"/api/v1/instances/{case.id}/opinions", headers=bearer(client, who)).status_code == 404
    assert client.get("/api/v1/instances/999999/opinions", headers=bearer(client, "admin")).status_code == 404


def test_saved_phrases_are_each_user_s_own_capped_and_checked(client: FlaskClient) -> None:
    auth = bearer(client, "window")
    made = [client.post("/api/v1/phrases", headers=auth, json={"text": f"材料齐全，同意受理 {i}"})
            for i in range(MAX_PHRASES)]
    assert [r.status_code for r in made] == [201] * MAX_PHRASES
    eleventh = client.post("/api/v1/phrases", headers=auth, json={"text": "第十一条"})
    assert eleventh.status_code == 422 and list(eleventh.json["fields"]) == ["/text"]
    listed = client.get("/api/v1/phrases", headers=auth).json
    assert [p["text"] for p in listed] == [f"材料齐全，同意受理 {i}" for i in range(MAX_PHRASES)]
    other = bearer(client, "street")
    assert client.get("/api/v1/phrases", headers=other).json == []
    first = listed[0]["id"]
    for who in (other, bearer(client, "admin")):  # someone else's phrase is not found, administrators included
        assert client.delete(f"/api/v1/phrases/{first}", headers=who).status_code == 404
    assert client.delete(f"/api/v1/phrases/{first}", headers=auth).status_code == 204
    assert client.delete(f"/api/v1/phrases/{first}", headers=auth).status_code == 404
    assert client.post("/api/v1/phrases", headers=auth, json={"text": "第十一条"}).status_code == 201
    again = client.post("/api/v1/phrases", headers=auth, json={"text": "第十一条"})
    assert again.status_code == 409 and again.json["fields"] == {"/text": ["already saved"]}


@pytest.mark.parametrize("body", [{"text": ""}, {"text": "   "}, {"text": "\u200b"},
                                  {"text": "字" * (MAX_PHRASE_LENGTH + 1)}, {"text": "a\x00b"},
                                  {"text": 12}, {}, {"text": "ok", "user_id": 1}])
def test_a_bad_phrase_is_a_422_and_nothing_is_saved(client: FlaskClient, body: dict) -> None:
    auth = bearer(client, "window")
    reply = client.post("/api/v1/phrases", headers=auth, json=body)
    assert reply.status_code == 422, reply.json
    assert reply.json["fields"] and client.get("/api/v1/phrases", headers=auth).json == []


def test_the_openapi_document_lists_the_operations(client: FlaskClient) -> None:
    spec = client.get("/api/v1/openapi.json").json
    ops = {op["operationId"]: set(op["responses"]) for path in spec["paths"].values()
           for op in path.values() if isinstance(op, dict)}
    assert {"200", "404"} <= ops["listInstanceOpinions"]
    assert {"201", "409", "422"} <= ops["addPhrase"] and {"204", "404"} <= ops["deletePhrase"]


def test_the_pages_show_the_trail_and_offer_phrases_on_a_decision_task(client: FlaskClient,
                                                                       runtime: Runtime) -> None:
    case = decided(runtime)
    log_in(client, "haiyun")
    page = client.get(f"/cases/{case.id}").get_data(as_text=True)
    assert "审批流水" in page and "材料齐全，同意备案" in page and "楼道狭窄" not in page
    english = client.get(f"/cases/{case.id}?lang=en").get_data(as_text=True)
    assert "Approval trail" in english and "Opinion" in english
    pending = begin(runtime, "t_opinions", {"title": "四楼"})
    task = only_task(runtime, "street", pending.id)
    log_in(client, "street")
    work = client.get(f"/tasks/{task.id}").get_data(as_text=True)
    assert 'id="phrases"' in work and 'data-field="/review/opinion"' in work and "phrases.js" in work
