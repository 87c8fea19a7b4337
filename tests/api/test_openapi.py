"""The OpenAPI document is valid, names every operation, and lists every status the app answers.

The last tests call the app the wrong way — no token, ids naming nothing, bodies that are not JSON, too
large, or off the schema, conflicts, refusals — by operationId, and check both the status the app gives
and that the document lists that status for the operation, with the error body.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from api import MAX_JSON_BODY, MAX_UPLOAD
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD, bearer, log_in
from tests.support.shipped import SUBMIT
from tests.support.uploads import PNG

ERROR_REF = "#/components/schemas/Error"
NO_TASK = "00000000-0000-4000-8000-000000000000"
#: path parameters naming nothing (an id the converter accepts, and one it refuses)
NOTHING = {"instance_id": 987654, "task_id": NO_TASK, "attachment_id": 987654, "notification_id": 987654,
           "key": "no_such_process", "name": "no_such_document", "code": "no_such_code", "fund": "no_such_fund",
           "quarter": "2026Q3", "signer_id": 987654, "phrase_id": 987654}
MALFORMED_IDS = {"instance_id": "abc", "task_id": "not-a-uuid", "attachment_id": "-1", "notification_id": "0",
                 "signer_id": "x", "phrase_id": "0"}
#: what an operation needs besides its path to reach its view: a valid body or query
VALID = {"startInstance": {"json": {"data": {}}}, "deliverMessage": {"json": {"name": "m"}},
         "correlateMessage": {"json": {"name": "m"}}, "broadcastSignal": {"json": {"name": "s"}},
         "migrateInstances": {"json": {"from_version": 1}},
         "addInstanceComment": {"json": {"body": "意见"}}, "addTaskComment": {"json": {"body": "意见"}},
         "delegateTask": {"json": {"user": "window"}}, "completeTask": {"json": {"data": {}}},
         "addPhrase": {"json": {"text": "材料齐全，同意受理"}},
         "readSourceFile": {"query_string": {"path": "processes/none/none.bpmn"}},
         "saveSourceFile": {"query_string": {"path": "processes/none/none.bpmn"}, "json": {"content": "<x/>"}},
         "runScenarios": {"query_string": {"folder": "none"}},
         "uploadAttachment": {"data": {"file": (io.BytesIO(PNG), "a.png")}},
         "uploadDraft": {"data": {"file": (io.BytesIO(PNG), "a.png")}},
         "withdrawInstance": {"json": {"reason": "撤回"}}, "decideWithdrawal": {"json": {"grant": True}},
         "returnTask": {"json": {"target": "submit", "reason": "退回"}},
         "addTaskSigners": {"json": {"mode": "before", "users": ["window"], "reason": "r"}},
         "signTask": {"json": {"decision": "agree", "opinion": "同意"}},
         "decideSignerProposal": {"json": {"approve": True}}, "removeTaskSigner": {"json": {"reason": "r"}},
         "entrustTask": {"json": {"user": "window", "reason": "r"}},
         "copyCase": {"json": {"users": ["zhujian"]}}, "urgeTask": {"json": {"reason": "r"}}}


@pytest.fixture
def spec(client: FlaskClient) -> dict[str, Any]:
    return client.get("/api/v1/openapi.json").json


def _operations(spec: dict[str, Any]) -> dict[str, tuple[str, str, dict[str, Any]]]:
    """operationId → (method, path template, operation)."""
    found = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "put", "post", "delete", "patch"):
                found[operation.get("operationId") or f"{method} {path}"] = (method, path, operation)
    return found


def _valid(operation_id: str) -> dict[str, Any]:
    """A fresh copy of VALID's request (uploads are streams, read once)."""
    kwargs = dict(VALID.get(operation_id, {}))
    if "data" in kwargs:
        kwargs["data"] = {"file": (io.BytesIO(PNG), "a.png")}
    return kwargs


Call = Callable[..., Any]


@pytest.fixture
def call(client: FlaskClient, spec: dict[str, Any]) -> Call:
    """call(operationId, path parameters, headers, **request) → the reply, once its status is checked against the
    document: listed for the operation, and an error answered with the error body."""
    operations = _operations(spec)

    def send(operation_id: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None,
             **request: Any) -> Any:
        method, path, operation = operations[operation_id]
        url = path.format(**{name: (params or {}).get(name, NOTHING.get(name)) for name in NOTHING})
        reply = client.open(url, method=method.upper(), headers=headers or {}, **request)
        listed = operation["responses"]
        assert str(reply.status_code) in listed, (operation_id, reply.status_code, reply.get_data(as_text=True))
        if reply.status_code >= 400:
            assert set(reply.json) == {"error", "message", "fields"}, (operation_id, reply.json)
        return reply

    return send


def test_the_document_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)  # raises, naming the place, on any violation of the OpenAPI 3.0 schema


def test_every_operation_has_a_unique_readable_id_and_every_response_a_description(spec: dict[str, Any]) -> None:
    ids = [operation.get("operationId") for _, _, operation in _operations(spec).values()]
    assert None not in ids and len(ids) == len(set(ids)) >= 38
    assert all(i.isidentifier() and i[0].islower() for i in ids), ids  # camelCase: startInstance, completeTask
    assert {"startInstance", "completeTask", "claimTask", "createToken", "uploadAttachment"} <= set(ids)
    for operation_id, (_, _, operation) in _operations(spec).items():
        responses = operation["responses"]
        assert "default" not in responses, operation_id  # every status is listed by itself
        for status, response in responses.items():
            assert response.get("description"), (operation_id, status)
            if int(status) >= 400:
                assert response["content"]["application/json"]["schema"] == {"$ref": ERROR_REF}, (operation_id, status)
        if operation.get("security"):
            assert "401" in responses and "WWW-Authenticate" in responses["401"]["headers"], operation_id


def test_without_a_token_every_protected_operation_answers_401(spec: dict[str, Any], call: Call) -> None:
    protected = [i for i, (_, _, operation) in _operations(spec).items() if operation.get("security")]
    assert len(protected) >= 30
    for operation_id in protected:
        reply = call(operation_id, **_valid(operation_id))
        assert reply.status_code == 401, (operation_id, reply.json)
        assert reply.headers["WWW-Authenticate"] == 'Bearer realm="tongban"'
    public = set(_operations(spec)) - set(protected)
    assert public == {"createToken", "verifyDocument", "listDisclosedQuarters", "getFundDisclosure"}


def test_a_path_naming_nothing_answers_404(spec: dict[str, Any], call: Call, client: FlaskClient) -> None:
    admin = bearer(client, "admin")
    with_path = [i for i, (_, path, _) in _operations(spec).items() if "{" in path]
    assert len(with_path) >= 25
    for operation_id in with_path:
        assert call(operation_id, headers=admin, **_valid(operation_id)).status_code == 404, operation_id
        path = _operations(spec)[operation_id][1]
        if malformed := {n: v for n, v in MALFORMED_IDS.items() if "{" + n + "}" in path}:
            assert call(operation_id, malformed, headers=admin, **_valid(operation_id)).status_code == 404


def test_bodies_that_are_not_json_too_large_or_off_the_schema(spec: dict[str, Any], call: Call,
                                                              client: FlaskClient) -> None:
    admin = bearer(client, "admin")
    json_bodies = [i for i, (_, _, op) in _operations(spec).items()
                   if "application/json" in op.get("requestBody", {}).get("content", {})]
    assert len(json_bodies) >= 8
    for operation_id in json_bodies:
        query = {"query_string": VALID.get(operation_id, {}).get("query_string", {})}
        assert call(operation_id, headers=admin, data="title=x", content_type="application/x-www-form-urlencoded",
                    **query).status_code == 415, operation_id
        assert call(operation_id, headers=admin, data="{not json", content_type="application/json",
                    **query).status_code == 400, operation_id
        huge = json.dumps({"data": {"x": "a" * MAX_JSON_BODY}})
        assert call(operation_id, headers=admin, data=huge, content_type="application/json",
                    **query).status_code == 413, operation_id
        reply = call(operation_id, headers=admin, json={"no_such_field": 1}, **query)
        assert reply.status_code == 422 and "/no_such_field" in reply.json["fields"], operation_id
    for operation_id in ("uploadAttachment", "uploadDraft"):
        assert call(operation_id, headers=admin, data="x", content_type="text/plain").status_code == 415
        no_file = call(operation_id, headers=admin, data={"task_id": "x"}, content_type="multipart/form-data")
        assert no_file.status_code == 422 and "/file" in no_file.json["fields"]
        big = (io.BytesIO(b"\0" * (MAX_UPLOAD + 128 * 1024)), "big.png")
        assert call(operation_id, headers=admin, data={"file": big}).status_code == 413


def test_conflicts_refusals_and_bad_cursors(runtime: Runtime, call: Call, client: FlaskClient) -> None:
    haiyun, window, admin = (bearer(client, u) for u in ("haiyun", "window", "admin"))
    started = runtime.start("sample_approval", {"title": "冲突", "amount": 50000}, runtime.actor("haiyun"))
    submit = started.open_tasks[0].id
    case = {"instance_id": started.id, "task_id": submit}
    assert call("completeTask", case, haiyun, json={"data": SUBMIT}).status_code == 200
    assert call("completeTask", case, haiyun, json={"data": SUBMIT}).status_code == 409  # done already
    assert call("claimTask", case, haiyun).status_code == 409
    [approve] = runtime.tasks(runtime.actor("window"))
    review = {"instance_id": started.id, "task_id": approve.id}
    assert call("completeTask", review, haiyun, json={"data": {}}).status_code == 404  # not the applicant's to see
    assert call("claimTask", review, window).status_code == 200
    assert call("claimTask", review, admin).status_code == 409  # held by the clerk
    assert call("resumeInstance", case, admin).status_code == 409  # running, not suspended
    assert call("retryInstance", case, admin).status_code == 409  # no incident
    assert call("deliverMessage", case, admin, json={"name": "nobody_waits"}).status_code == 409
    assert call("suspendInstance", case, haiyun).status_code == 403  # administrators only
    assert call("startInstance", {"key": "sample_approval"}, window, json={"data": {}}).status_code == 403
    assert call("terminateInstance", case, admin).status_code == 200
    assert call("suspendInstance", case, admin).status_code == 409  # terminated
    upload = {"data": {"file": (io.BytesIO(PNG), "a.png")}}
    assert call("uploadAttachment", case, haiyun, **upload).status_code == 409  # the case has ended
    for operation_id, who in (("listInstances", haiyun), ("listTasks", haiyun), ("listNotifications", haiyun),
                              ("listAuditEntries", admin)):
        assert call(operation_id, headers=who, query_string={"cursor": "garbage"}).status_code == 400
        assert call(operation_id, headers=who, query_string={"limit": 0}).status_code == 422
    assert call("listAuditEntries", headers=haiyun).status_code == 403
    for operation_id in ("listProcessSources", "listDesignProblems", "deployProcesses"):
        assert call(operation_id, headers=haiyun).status_code == 403
    assert call("readSourceFile", headers=haiyun, **_valid("readSourceFile")).status_code == 403
    designer = bearer(client, "designer")
    assert call("readSourceFile", headers=designer, **_valid("readSourceFile")).status_code == 404
    assert call("runScenarios", headers=designer, **_valid("runScenarios")).status_code == 404


def test_login_refusals_and_a_page_call_without_its_csrf_token(call: Call, client: FlaskClient) -> None:
    wrong = {"username": "haiyun", "password": PASSWORD + "x"}
    statuses = [call("createToken", json=wrong).status_code for _ in range(6)]
    assert statuses[0] == 401 and statuses[-1] == 429
    log_in(client, "window")  # the pages' cookie, without the X-CSRFToken header the pages send
    reply = call("addInstanceComment", {"instance_id": 1}, json={"body": "意见"})
    assert reply.status_code == 403 and "CSRF" in reply.json["message"]


def test_swagger_ui_is_served_from_this_server(client: FlaskClient) -> None:
    """No CDN: the page loads its script and styles from /api/docs/assets/, which this app serves."""
    page = client.get("/api/docs").get_data(as_text=True)
    scripts = re.findall(r'(?:src|href)="([^"]+\.(?:js|css))"', page)
    assert scripts and all(s.startswith("/api/docs/assets/") for s in scripts), scripts
    assert all(client.get(s).status_code == 200 for s in scripts)
    assert "/api/v1/openapi.json" in page
