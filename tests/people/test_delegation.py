"""Delegation candidates: colleagues with the task's role in its organisation, and only for who sees the task."""

from __future__ import annotations

from flask.testing import FlaskClient

from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD, bearer
from tests.support.repo import ROLES
from tests.support.shipped import SUBMIT

START = {"title": "转办测试", "amount": 50_000}


def test_colleagues_are_same_role_same_org_and_delegation_hands_the_task_over(
        client: FlaskClient, runtime: Runtime) -> None:
    with runtime.db.write() as session:
        catalogue = RoleCatalogue.from_yaml(ROLES)
        add_user(session, catalogue, "window2", "xzsp", ["window_clerk"], "李窗口", PASSWORD)
        add_user(session, catalogue, "window_other", "zhujian", ["window_clerk"], "别处的窗口", PASSWORD)
    view = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    task_id = runtime.instance(view.id, runtime.actor("admin")).open_tasks[0].id

    window = bearer(client, "window")
    listed = client.get(f"/api/v1/tasks/{task_id}/colleagues", headers=window)
    assert listed.status_code == 200 and [c["username"] for c in listed.json] == ["window2"]
    assert client.get(f"/api/v1/tasks/{task_id}/colleagues", headers=bearer(client, "zhujian")).status_code == 404
    assert client.get(f"/api/v1/tasks/{task_id}/colleagues", headers=bearer(client, "haiyun")).status_code == 404

    assert client.post(f"/api/v1/tasks/{task_id}/delegate", json={"user": "window_other"},
                       headers=window).status_code == 403
    assert client.post(f"/api/v1/tasks/{task_id}/delegate", json={"user": "window2"}, headers=window).status_code == 204
    mine = client.get("/api/v1/tasks?scope=assigned", headers=bearer(client, "window2")).json["items"]
    assert [t["id"] for t in mine] == [task_id]
