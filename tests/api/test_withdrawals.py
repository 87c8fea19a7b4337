"""撤回 and 退回 over REST (api/routes/withdrawals.py): the JSON errors each refusal answers, never a 500."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from engine.runtime.runtime import Runtime
from tests.support.http import bearer, log_in
from tests.support.zzs import SUBMIT, _accepted, _complete


@pytest.fixture
def case(runtime: Runtime) -> int:
    """A sample case over the threshold, submitted: at the window's approval (accepted: an office task is open)."""
    return runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50000}, runtime.actor("haiyun")).id


def _post(client: FlaskClient, user: str, url: str, body: Any) -> Any:
    return client.post(url, json=body, headers=bearer(client, user))


def test_withdraw_before_acceptance(client: FlaskClient, case: int) -> None:
    state = client.get(f"/api/v1/instances/{case}/withdrawal", headers=bearer(client, "haiyun")).json
    assert state == {"mode": "withdraw", "pending": None, "may_decide": False}
    assert _post(client, "fushan", f"/api/v1/instances/{case}/withdraw", {"reason": "撤回"}).status_code == 404
    assert _post(client, "haiyun", f"/api/v1/instances/{case}/withdraw", {"reason": " "}).json["fields"] == {
        "/reason": ["required, 1..500 characters"]}
    assert _post(client, "haiyun", f"/api/v1/instances/{case}/withdraw", {"reason": "x" * 501}).status_code == 422
    assert _post(client, "haiyun", f"/api/v1/instances/{case}/withdraw", {}).status_code == 422
    reply = _post(client, "haiyun", f"/api/v1/instances/{case}/withdraw", {"reason": "不再需要"})
    assert reply.status_code == 200, reply.json
    assert reply.json["withdrawn"] is True and reply.json["instance"]["outcome"] == "withdrawn"
    again = _post(client, "haiyun", f"/api/v1/instances/{case}/withdraw", {"reason": "不再需要"})
    assert again.status_code == 409 and again.json["error"]


def test_request_and_decision(client: FlaskClient, runtime: Runtime) -> None:
    case = _accepted(runtime)  # 住转商, accepted at the pre-check: the street's checks are open
    reply = _post(client, "haiyun", f"/api/v1/instances/{case}/withdraw", {"reason": "计划调整"})
    assert reply.status_code == 200 and reply.json["withdrawn"] is False
    url = f"/api/v1/instances/{case}/withdrawal/decision"
    assert _post(client, "haiyun", url, {"grant": True}).status_code == 403
    assert _post(client, "fushan", url, {"grant": True}).status_code == 404
    assert _post(client, "window", url, {"grant": True}).status_code == 403  # sees it (did the pre-check), holds none
    assert _post(client, "street_xgzl", url, {"grant": "maybe"}).status_code == 422
    assert _post(client, "street_xgzl", url, {"grant": False}).json["fields"] == {
        "/reason": ["required, 1..500 characters"]}
    state = client.get(f"/api/v1/instances/{case}/withdrawal", headers=bearer(client, "street_xgzl")).json
    assert state["pending"]["reason"] == "计划调整" and state["pending"]["by"] == "haiyun" and state["may_decide"]
    reply = _post(client, "street_xgzl", url, {"grant": True, "reason": "同意撤回"})
    assert reply.status_code == 200 and reply.json["outcome"] == "withdrawn"
    assert _post(client, "street_xgzl", url, {"grant": True}).status_code in (404, 409)  # ended: not theirs now


def test_return_over_rest(client: FlaskClient, runtime: Runtime, case: int) -> None:
    _complete(runtime, case, "submit", "haiyun", SUBMIT)
    [task] = runtime.instance(case, runtime.actor("admin")).open_tasks
    targets = client.get(f"/api/v1/tasks/{task.id}/return-targets", headers=bearer(client, "window"))
    assert targets.json == [{"element_id": "submit", "name": "填写申请", "role": "applicant"},
                            {"element_id": "start", "name": "提交申请", "role": "applicant"}]
    log_in(client, "window")
    page = client.get(f"/tasks/{task.id}?lang=en").get_data(as_text=True)
    assert '<label for="return-target">Return to</label>' in page  # the select's label, not the history's "returned to"
    url = f"/api/v1/tasks/{task.id}/return"
    assert _post(client, "fushan", url, {"target": "submit", "reason": "退回"}).status_code == 404
    assert _post(client, "admin", url, {"target": "submit", "reason": "退回"}).status_code == 403
    assert _post(client, "window", url, {"target": "auto_approve", "reason": "退回"}).json["fields"] == {
        "/target": ["not a return target of this task"]}
    assert _post(client, "window", url, {"target": "submit"}).status_code == 422
    assert _post(client, "window", url, {"target": ["submit"], "reason": "退回"}).status_code == 422
    reply = _post(client, "window", url, {"target": "submit", "reason": "请补充联系人"})
    assert reply.status_code == 200, reply.json
    assert _post(client, "window", url, {"target": "submit", "reason": "退回"}).status_code in (404, 409)
    detail = client.get(f"/api/v1/instances/{case}", headers=bearer(client, "haiyun")).json
    assert detail["diagram"]["returned_from"] == ["approve"]
    assert [e["user"] for e in detail["events"] if e["kind"] == "returned"] == ["window"]
