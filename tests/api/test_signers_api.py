"""加签 / 减签 / 委派 over the REST API: who may, what each refusal answers, and what the inbox then shows."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD, bearer, log_in
from tests.support.repo import ROLES
from tests.support.shipped import SUBMIT

APPROVED = {"decision": "approved", "comment": "同意"}  # the sample approval: a decision with its opinion

API = "/api/v1"


def _approve_task(runtime: Runtime) -> str:
    with runtime.db.write() as session:
        add_user(session, RoleCatalogue.from_yaml(ROLES), "window2", "xzsp", ["window_clerk"], "李窗口", PASSWORD)
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", {"title": "加签接口", "amount": 50_000}, haiyun)
    runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
    return runtime.instance(view.id, runtime.actor("admin")).open_tasks[0].id


def test_cosigning_over_the_api(client: FlaskClient, runtime: Runtime) -> None:
    task = _approve_task(runtime)
    window, window2, zhujian = (bearer(client, u) for u in ("window", "window2", "zhujian"))
    url = f"{API}/tasks/{task}/signers"
    # refusals: a body that is not a request, another unit's user without approval, a task one cannot see
    bad = client.post(url, json={"mode": "sideways", "users": ["x" * 65] + ["a"] * 30}, headers=window)
    assert bad.status_code == 422 and {"/mode", "/users/0"} <= set(bad.json["fields"])
    unsaid = client.post(url, json={"mode": "before", "users": ["window2"]}, headers=window)
    assert unsaid.status_code == 422 and list(unsaid.json["fields"]) == ["/reason"]  # 加签 says why
    blank = client.post(url, json={"mode": "before", "users": ["window2"], "reason": "  "}, headers=window)
    assert blank.status_code == 422 and blank.json["fields"] == {"/reason": ["required, 1..500 characters"]}
    outside = client.post(url, json={"mode": "before", "users": ["zhujian"], "reason": "请会签"}, headers=window)
    assert outside.status_code == 403 and outside.json["fields"] == {"/users/0": ["outside the lane"]}
    assert client.post(url, json={"mode": "before", "users": ["window2"], "reason": "请会签"},
                       headers=zhujian).status_code == 404
    assert client.get(url, headers=zhujian).status_code == 404
    itself = client.post(url, json={"mode": "before", "users": ["window"], "reason": "请会签"}, headers=window)
    assert itself.status_code == 422 and itself.json["error"] == "validation_failed"

    added = client.post(url, json={"mode": "before", "users": ["window2"], "reason": "请会签"}, headers=window)
    assert added.status_code == 201 and added.json["holder"] is True
    [signer] = added.json["signers"]
    assert (signer["user"], signer["state"], signer["reason"]) == ("window2", "pending", "请会签")
    inbox = client.get(f"{API}/tasks?scope=assigned", headers=window2).json["items"]
    assert [t["id"] for t in inbox] == [task]
    early = client.post(f"{API}/tasks/{task}/complete", json={"data": APPROVED}, headers=window)
    assert early.status_code == 409
    assert client.post(f"{API}/tasks/{task}/sign", json={"decision": "agree", "opinion": ""},
                       headers=window2).status_code == 422
    assert client.post(f"{API}/tasks/{task}/sign", json={"decision": "agree", "opinion": "同意"},
                       headers=window).status_code == 403  # the holder is no co-signer
    signed = client.post(f"{API}/tasks/{task}/sign", json={"decision": "disagree", "opinion": "金额有误"},
                         headers=window2)
    assert signed.status_code == 200 and signed.json["signers"][0]["opinion"] == "金额有误"
    assert client.post(f"{API}/tasks/{task}/sign", json={"decision": "agree", "opinion": "同意"},
                       headers=window2).status_code == 409  # once
    unsaid = client.post(f"{url}/{signer['id']}/remove", json={}, headers=window)
    assert unsaid.status_code == 422 and list(unsaid.json["fields"]) == ["/reason"]  # 减签 says why
    removed = client.post(f"{url}/{signer['id']}/remove", json={"reason": "不需要了"}, headers=window)
    assert removed.status_code == 409  # it has signed
    held = client.post(f"{API}/tasks/{task}/complete", json={"data": APPROVED}, headers=window)
    assert held.status_code == 409 and "window2" in held.json["message"]  # 会签: all must agree
    assert client.get(url, headers=window).json["dissent"] == ["window2"]
    again = client.post(url, json={"mode": "before", "users": ["window2"], "reason": "金额已更正，请再会签"},
                        headers=window)
    assert again.status_code == 201 and again.json["dissent"] == ["window2"]  # until it agrees
    agreed = client.post(f"{API}/tasks/{task}/sign", json={"decision": "agree", "opinion": "已更正，同意"},
                         headers=window2)
    assert agreed.status_code == 200 and agreed.json["dissent"] == []
    done = client.post(f"{API}/tasks/{task}/complete", json={"data": APPROVED}, headers=window)
    assert done.status_code == 200 and done.json["status"] == "completed"


def test_an_outside_signer_approved_by_a_supervisor(client: FlaskClient, runtime: Runtime) -> None:
    task = _approve_task(runtime)
    window, dispatcher, zhujian = (bearer(client, u) for u in ("window", "dispatcher", "zhujian"))
    proposed = client.post(f"{API}/tasks/{task}/signers", json={"mode": "after", "users": ["zhujian"],
                                                               "ask_approval": True, "reason": "涉及住建"},
                           headers=window)
    assert proposed.status_code == 201 and proposed.json["signers"][0]["state"] == "proposed"
    assert client.get(f"{API}/signers/proposals", headers=window).json == []
    [proposal] = client.get(f"{API}/signers/proposals", headers=dispatcher).json
    assert client.post(f"{API}/signers/{proposal['id']}/decision", json={"approve": True},
                       headers=window).status_code == 404  # not a supervisor: there is nothing to decide
    decided = client.post(f"{API}/signers/{proposal['id']}/decision", json={"approve": True, "reason": "涉及住建"},
                          headers=dispatcher)
    assert decided.status_code == 200 and decided.json["state"] == "waiting" and decided.json["decided_by"] == \
        "dispatcher"
    held = client.post(f"{API}/tasks/{task}/complete", json={"data": APPROVED},
                       headers=window)
    assert held.status_code == 200 and held.json["status"] == "running"
    seen = client.get(f"{API}/tasks/{task}/signers", headers=zhujian).json
    assert seen["my_turn"] == "after" and seen["held"]["data"]["comment"] == "同意"
    signed = client.post(f"{API}/tasks/{task}/sign", json={"decision": "agree", "opinion": "住建：同意"},
                         headers=zhujian)
    assert signed.status_code == 200
    case = client.get(f"{API}/tasks/{task}", headers=window).json["instance"]
    assert case["status"] == "completed"


def test_entrust_and_give_back_over_the_api(client: FlaskClient, runtime: Runtime) -> None:
    task = _approve_task(runtime)
    window, window2 = bearer(client, "window"), bearer(client, "window2")
    unsaid = client.post(f"{API}/tasks/{task}/entrust", json={"user": "window2", "reason": ""}, headers=window)
    assert unsaid.status_code == 422 and list(unsaid.json["fields"]) == ["/reason"]  # 委派 says why
    outside = client.post(f"{API}/tasks/{task}/entrust", json={"user": "zhujian", "reason": "请代审"}, headers=window)
    assert outside.status_code == 403 and outside.json["fields"] == {"/user": ["cannot do this task"]}
    unknown = client.post(f"{API}/tasks/{task}/entrust", json={"user": "nobody", "reason": "请代审"}, headers=window)
    assert unknown.status_code == 404 and list(unknown.json["fields"]) == ["/user"]  # the same path as a 422's
    assert client.post(f"{API}/tasks/{task}/entrust", json={"user": "window2", "reason": "请代审"},
                       headers=window).status_code == 204
    # the delegate gives the task back; sending the whole case back is the delegator's decision, not the delegate's
    assert client.get(f"{API}/tasks/{task}/return-targets", headers=window2).json == []
    sent_back = client.post(f"{API}/tasks/{task}/return", json={"target": "submit", "reason": "退回"}, headers=window2)
    assert sent_back.status_code == 409 and sent_back.json["error"]
    page = log_in(client, "window2") and client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'id="entrust-form"' not in page and 'id="return"' not in page  # no 退回 form on the delegate's page
    assert [t["id"] for t in client.get(f"{API}/tasks?scope=assigned", headers=window2).json["items"]] == [task]
    assert client.get(f"{API}/tasks?scope=assigned", headers=window).json["items"] == []
    bad = client.post(f"{API}/tasks/{task}/entrust/return", json={"data": {"decision": "maybe"}}, headers=window2)
    assert bad.status_code == 422 and "/decision" in bad.json["fields"]
    back = client.post(f"{API}/tasks/{task}/entrust/return", json={"data": APPROVED,
                                                                  "opinion": "已核"}, headers=window2)
    assert back.status_code == 204
    record = client.get(f"{API}/tasks/{task}/signers", headers=window).json
    assert record["returned"] == APPROVED and record["delegations"][0]["state"] == "returned"
    assert client.post(f"{API}/tasks/{task}/complete", json={"data": record["returned"]},
                       headers=window).status_code == 200
