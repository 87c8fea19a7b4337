"""抄送, 催办 and the work lists over HTTP: the refusals a caller who must not do something meets."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from flask.testing import FlaskClient

from engine.base import clock
from engine.runtime.runtime import Runtime
from tests.support.http import bearer, log_in
from tests.support.shipped import at_approval


def test_a_copy_over_the_api_shows_the_case_and_never_the_task(client: FlaskClient, runtime: Runtime) -> None:
    case, task = at_approval(runtime)
    window, zhujian = bearer(client, "window"), bearer(client, "zhujian")
    assert client.get(f"/api/v1/instances/{case}", headers=zhujian).status_code == 404
    refused = client.post(f"/api/v1/instances/{case}/copies", json={"users": ["zhujian", "fushan"]}, headers=window)
    assert refused.status_code == 422 and list(refused.json["fields"]) == ["/users/1"]
    assert client.post(f"/api/v1/instances/{case}/copies", json={"users": ["zhujian"]},
                       headers=bearer(client, "haiyun")).status_code == 403
    assert client.post(f"/api/v1/instances/{case}/copies", json={"users": ["zhujian"]},
                       headers=bearer(client, "fushan")).status_code == 404
    assert client.post(f"/api/v1/instances/{case}/copies", json={"users": ["x"] * 51}, headers=window).status_code \
        == 422
    made = client.post(f"/api/v1/instances/{case}/copies", json={"users": ["zhujian"], "reason": "请阅"},
                       headers=window)
    assert made.status_code == 201 and made.json == {"copied": ["zhujian"]}

    seen = client.get(f"/api/v1/instances/{case}", headers=zhujian)
    assert seen.status_code == 200 and seen.json["open_tasks"] == []
    assert client.get(f"/api/v1/tasks/{task}", headers=zhujian).status_code == 404
    assert client.post(f"/api/v1/tasks/{task}/claim", headers=zhujian).status_code == 404
    assert client.post(f"/api/v1/tasks/{task}/complete", json={"data": {"decision": "approved", "comment": "同意"}},
                       headers=zhujian).status_code == 404
    [row] = client.get(f"/api/v1/instances/{case}/copies", headers=window).json
    assert (row["user"], row["by"], row["read_at"]) == ("zhujian", "window", None)
    assert client.get(f"/api/v1/instances/{case}/copies", headers=bearer(client, "fushan")).status_code == 404

    listed = client.get("/api/v1/worklists/copied?unread=true", headers=zhujian).json["items"]
    assert [(i["case"]["instance_id"], i["reason"]) for i in listed] == [(case, "请阅")]
    read = client.post(f"/api/v1/instances/{case}/copies/read", headers=zhujian)
    assert read.status_code == 200 and read.json["read_at"]
    assert client.get("/api/v1/worklists/copied?unread=true", headers=zhujian).json["items"] == []
    assert client.post(f"/api/v1/instances/{case}/copies/read", headers=window).status_code == 404
    assert client.get("/api/v1/worklists/counts", headers=zhujian).json == {
        "inbox": 0, "done": 0, "started": 0, "copied": 1, "copied_unread": 0}


def test_urging_over_the_api(client: FlaskClient, runtime: Runtime) -> None:
    clock.travel(datetime(2025, 6, 6, 10, tzinfo=ZoneInfo("Asia/Shanghai")) - clock.now())  # a Friday
    case, task = at_approval(runtime)
    haiyun = bearer(client, "haiyun")
    [step] = client.get(f"/api/v1/instances/{case}/urges", headers=haiyun).json
    assert (step["task_id"], step["urges"], step["urged_today"]) == (task, 0, False)
    first = client.post(f"/api/v1/tasks/{task}/urge", json={"reason": "请尽快"}, headers=haiyun)
    assert first.status_code == 201 and first.json["urges"] == 1 and first.json["workday"] == "2025-06-06"
    unsaid = client.post(f"/api/v1/tasks/{task}/urge", json={}, headers=haiyun)
    assert unsaid.status_code == 422 and list(unsaid.json["fields"]) == ["/reason"]  # 催办 says why
    blank = client.post(f"/api/v1/tasks/{task}/urge", json={"reason": " "}, headers=haiyun)
    assert blank.status_code == 422 and list(blank.json["fields"]) == ["/reason"]
    again = client.post(f"/api/v1/tasks/{task}/urge", json={"reason": "请尽快"}, headers=haiyun)
    assert again.status_code == 409 and "2025-06-09" in again.json["message"]
    for username, status in (("fushan", 404), ("window", 403)):
        urged = client.post(f"/api/v1/tasks/{task}/urge", json={"reason": "请尽快"}, headers=bearer(client, username))
        assert urged.status_code == status
    assert client.post(f"/api/v1/tasks/{task}/urge", json={"reason": "长" * 501}, headers=haiyun).status_code == 422
    [row] = client.get("/api/v1/tasks", headers=bearer(client, "window")).json["items"]
    assert row["urges"] == 1


def test_the_work_lists_over_the_api(client: FlaskClient, runtime: Runtime) -> None:
    case, task = at_approval(runtime)
    runtime.complete(task, {"decision": "approved", "comment": "同意"}, runtime.actor("window"))
    window = bearer(client, "window")
    [done] = client.get("/api/v1/worklists/done", headers=window).json["items"]
    assert (done["case"]["instance_id"], done["case"]["outcome"], done["task_name"]) == (case, "approved", "审批")
    started = client.get("/api/v1/worklists/started?status=completed", headers=bearer(client, "haiyun")).json
    assert [i["case"]["instance_id"] for i in started["items"]] == [case]
    assert client.get("/api/v1/worklists/started", headers=bearer(client, "fushan")).json["items"] == []
    assert client.get("/api/v1/worklists/done?cursor=xyz", headers=window).status_code == 400
    assert client.get("/api/v1/worklists/done?status=nope", headers=window).status_code == 422


def test_opening_the_case_page_marks_the_copy_read(client: FlaskClient, runtime: Runtime) -> None:
    case, _ = at_approval(runtime)
    client.post(f"/api/v1/instances/{case}/copies", json={"users": ["zhujian"]}, headers=bearer(client, "window"))
    log_in(client, "zhujian")
    page = client.get(f"/cases/{case}").get_data(as_text=True)
    assert "抄送" in page
    [row] = client.get(f"/api/v1/instances/{case}/copies", headers=bearer(client, "window")).json
    assert row["read_at"] is not None
