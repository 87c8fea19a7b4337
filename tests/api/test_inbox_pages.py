"""The inbox and task pages as an approver and an enterprise use them: who holds each task, the full case number
search, the deadline, a finished task read-only, only the buttons the caller may use, saved filters, bulk claim."""

from __future__ import annotations

import re
from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select, update

from engine.base.clock import now
from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.people.assignment import claim, delegate
from engine.people.savedfilters import MAX_FILTERS
from engine.runtime.runtime import Runtime
from engine.runtime.signers import entrust
from engine.store.models import HumanTask, Instance, SavedFilter, User
from tests.support.http import PASSWORD, bearer, log_in
from tests.support.repo import ROLES
from tests.support.shipped import SUBMIT

FULL = "370202LYJJ-C20261201000001"


def _colleague(runtime: Runtime, username: str = "window2", name: str = "李窗口") -> None:
    with runtime.db.write() as session:
        add_user(session, RoleCatalogue.from_yaml(ROLES), username, "xzsp", ["window_clerk"], name, PASSWORD)


def _review(runtime: Runtime, title: str = "收件审查") -> tuple[int, str]:
    """A sample case submitted by haiyun: its id and the window's open review task."""
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", {"title": title, "amount": 50_000}, haiyun)
    runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
    return view.id, runtime.instance(view.id, runtime.actor("admin")).open_tasks[0].id


def _holder_cell(page: str, task_id: str) -> str:
    row = re.search(rf'<tr>\s*<td>[^\n]*?(?:value="{task_id}")?.*?/tasks/{task_id}".*?</tr>', page, re.S).group(0)
    return re.sub(r"\s+", " ", re.search(r'class="holder">(.*?)</td>', row, re.S).group(1))


def test_the_holder_column_names_the_assignee_and_who_entrusted_it(client: FlaskClient, runtime: Runtime) -> None:
    _colleague(runtime)
    _, task = _review(runtime)
    log_in(client, "window")
    assert "待认领" in _holder_cell(client.get("/inbox?scope=all").get_data(as_text=True), task)
    window = runtime.actor("window")
    claim(runtime.db, task, window)
    with runtime.db.read() as session:  # the window clerk's display name, as the column shows it
        shown = session.scalar(select(User.display_name).where(User.username == "window"))
    assert shown in _holder_cell(client.get("/inbox?scope=assigned").get_data(as_text=True), task)
    entrust(runtime.db, task, "window2", "请代为初审", window)  # 委派: window2 works it, window completes it
    log_in(client, "window2")
    cell = _holder_cell(client.get("/inbox?scope=assigned").get_data(as_text=True), task)
    assert "李窗口" in cell and f"受 {shown} 委派" in cell


def test_a_handed_over_task_shows_its_new_assignee(client: FlaskClient, runtime: Runtime) -> None:
    _colleague(runtime)
    _, task = _review(runtime)
    delegate(runtime.db, task, "window2", runtime.actor("window"))  # 转办
    log_in(client, "admin")
    assert "李窗口" in _holder_cell(client.get("/inbox?scope=all").get_data(as_text=True), task)
    api = client.get("/api/v1/tasks?scope=all", headers=bearer(client, "admin")).json["items"]
    assert next(t for t in api if t["id"] == task)["assignee"] == "李窗口"


def test_the_full_case_number_with_its_hyphen_finds_the_case_and_so_does_any_part(
        client: FlaskClient, runtime: Runtime) -> None:
    case, task = _review(runtime)
    _, other = _review(runtime, "另一件")
    with runtime.db.write() as session:
        session.execute(update(Instance).where(Instance.id == case).values(case_number=FULL))
    log_in(client, "window")
    for q in (FULL, f"  {FULL} ", "LYJJ-C2026", "C20261201000001", "0202LYJJ"):
        page = client.get("/inbox", query_string={"scope": "all", "q": q}).get_data(as_text=True)
        assert f"/tasks/{task}" in page and f"/tasks/{other}" not in page, q
    missed = client.get("/inbox", query_string={"scope": "all", "q": "370202LYJJ-C20261201000002"})
    assert f"/tasks/{task}" not in missed.get_data(as_text=True)
    done = client.get("/inbox/started", query_string={"q": FULL})  # the work lists take it too (haiyun's list)
    assert done.status_code == 200


def test_the_task_page_shows_the_deadline_and_what_is_left(client: FlaskClient, runtime: Runtime) -> None:
    _, task = _review(runtime)
    with runtime.db.write() as session:
        session.execute(update(HumanTask).where(HumanTask.id == task)
                        .values(due_at=now() + timedelta(days=2, hours=3, minutes=5)))
    log_in(client, "window")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'id="task-due"' in page and "剩余 2 天 3 小时" in page
    with runtime.db.write() as session:
        session.execute(update(HumanTask).where(HumanTask.id == task).values(due_at=now() - timedelta(hours=5)))
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "已超期 4 小时" in page or "已超期 5 小时" in page
    english = client.get(f"/tasks/{task}?lang=en").get_data(as_text=True)
    assert "Overdue by 4 h" in english or "Overdue by 5 h" in english
    assert client.get(f"/api/v1/tasks/{task}", headers=bearer(client, "window")).json["due_at"]


def test_a_completed_task_is_shown_read_only(client: FlaskClient, runtime: Runtime) -> None:
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", {"title": "已提交", "amount": 50_000}, haiyun)
    submit = view.open_tasks[0].id
    runtime.complete(submit, SUBMIT, haiyun)
    log_in(client, "haiyun")
    page = client.get(f"/tasks/{submit}").get_data(as_text=True)
    assert 'id="task-closed"' in page and "办结，只能查看" in page
    for editable in ('id="submit"', 'id="form"', "form-schema", 'data-action=', 'id="comment-body"', "task.js",
                     'type="file"'):
        assert editable not in page, editable
    again = client.post(f"/api/v1/tasks/{submit}/complete", json={"data": SUBMIT}, headers=bearer(client, "haiyun"))
    assert again.status_code == 409  # and the server refuses it anyway


def test_a_cancelled_task_is_shown_read_only(client: FlaskClient, runtime: Runtime) -> None:
    _, task = _review(runtime)
    with runtime.db.write() as session:
        session.execute(update(HumanTask).where(HumanTask.id == task).values(state="cancelled"))
    log_in(client, "window")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert "此任务已取消，只能查看" in page and 'id="submit"' not in page and "认领" not in page.split("<main>")[1]


def test_the_enterprise_never_sees_claim_release_or_hand_over_on_its_own_task(
        client: FlaskClient, runtime: Runtime) -> None:
    view = runtime.start("sample_approval", {"title": "自己的任务", "amount": 50_000}, runtime.actor("haiyun"))
    task = view.open_tasks[0].id
    log_in(client, "haiyun")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'id="submit"' in page
    for button in ('data-action="claim"', 'data-action="unclaim"', 'id="delegate"', 'id="delegate-to"'):
        assert button not in page, button
    headers = bearer(client, "haiyun")
    assert client.post(f"/api/v1/tasks/{task}/claim", headers=headers).status_code == 403  # nor may it, by hand
    refused = client.post(f"/api/v1/tasks/{task}/delegate", json={"user": "haiyun"}, headers=headers)
    assert refused.status_code == 403


def test_an_approver_sees_only_the_buttons_it_may_use(client: FlaskClient, runtime: Runtime) -> None:
    _colleague(runtime)
    _, task = _review(runtime)
    log_in(client, "window")
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'data-action="claim"' in page and 'data-action="unclaim"' not in page and 'id="delegate"' in page
    # rendered disabled, enabled once the page's script handles them (app.js): a click before then was lost
    for button in re.findall(r'<button type="button" (?:data-action|id="delegate"|id="comment-send")[^>]*>', page):
        assert button.endswith(" disabled>") and ("data-script" in button or 'id="delegate"' in button), button
    assert len(re.findall(r'<button type="button" (?:data-action|id="delegate"|id="comment-send")', page)) == 3
    claim(runtime.db, task, runtime.actor("window"))
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'data-action="claim"' not in page and 'data-action="unclaim"' in page and 'id="delegate"' in page
    log_in(client, "window2")  # a colleague's now: window2 still reads it, and may neither claim, release nor hand over
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert not any(b in page for b in ('data-action="claim"', 'data-action="unclaim"', 'id="delegate"'))
    log_in(client, "admin")  # an administrator may free or hand over anyone's task, never claim outside its roles
    page = client.get(f"/tasks/{task}").get_data(as_text=True)
    assert 'data-action="claim"' not in page and 'data-action="unclaim"' in page and 'id="delegate"' in page


def _filters(page: str) -> list[str]:
    return re.findall(r'<li><a href="\?([^"]*)"[^>]*>([^<]*)</a>', page)


def test_saved_filters_are_each_users_own(client: FlaskClient, runtime: Runtime) -> None:
    _colleague(runtime)
    csrf = log_in(client, "window")
    reply = client.post("/inbox/filters", data={"csrf_token": csrf, "name": "超期的", "scope": "all", "overdue": "1",
                                                "cursor": "zzz", "evil": "x"}, follow_redirects=True)
    page = reply.get_data(as_text=True)
    assert "筛选「超期的」已保存" in page and _filters(page) == [("scope=all&amp;overdue=1", "超期的")]
    again = client.post("/inbox/filters", data={"csrf_token": csrf, "name": "超期的", "scope": "assigned",
                                                "q": "LYJJ-C"}, follow_redirects=True)  # the same name: replaced
    assert _filters(again.get_data(as_text=True)) == [("scope=assigned&amp;q=LYJJ-C", "超期的")]
    with runtime.db.read() as session:
        mine = session.scalar(select(SavedFilter.id))
    # the other side: another user neither sees it nor deletes it; no CSRF token changes nothing
    csrf2 = log_in(client, "window2")
    assert _filters(client.get("/inbox").get_data(as_text=True)) == []
    refused = client.post(f"/inbox/filters/{mine}/delete", data={"csrf_token": csrf2}, follow_redirects=True)
    assert "筛选不存在" in refused.get_data(as_text=True)
    assert client.post("/inbox/filters", data={"name": "x", "scope": "all"}).status_code == 400
    for bad, why in (({"name": " ", "scope": "all"}, "筛选名称"), ({"name": "x" * 41, "scope": "all"}, "筛选名称"),
                     ({"name": "什么都没有"}, "没有可保存的筛选条件")):
        page = client.post("/inbox/filters", data={"csrf_token": csrf2, **bad}, follow_redirects=True)
        assert page.status_code == 200 and why in page.get_data(as_text=True)
    for n in range(MAX_FILTERS):
        client.post("/inbox/filters", data={"csrf_token": csrf2, "name": f"f{n:02d}", "q": str(n)})
    full = client.post("/inbox/filters", data={"csrf_token": csrf2, "name": "one more", "q": "1"},
                       follow_redirects=True)
    assert f"最多保存 {MAX_FILTERS} 个筛选" in full.get_data(as_text=True)
    log_in(client, "window")
    assert [n for _, n in _filters(client.get("/inbox").get_data(as_text=True))] == ["超期的"]
    client.post(f"/inbox/filters/{mine}/delete", data={"csrf_token": csrf_of_page(client)})
    assert _filters(client.get("/inbox").get_data(as_text=True)) == []


def csrf_of_page(client: FlaskClient) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', client.get("/inbox").get_data(as_text=True)).group(1)


def test_bulk_claim_claims_each_it_may_and_reports_the_rest(client: FlaskClient, runtime: Runtime) -> None:
    _colleague(runtime)
    tasks = [_review(runtime, f"批量{n}")[1] for n in range(4)]
    claim(runtime.db, tasks[3], runtime.actor("window2"))  # taken by a colleague meanwhile
    foreign = runtime.start("sample_approval", {"title": "企业的", "amount": 1}, runtime.actor("fushan")).open_tasks[0]
    csrf = log_in(client, "window")
    page = client.get("/inbox").get_data(as_text=True)
    assert all(f'value="{t}"' in page for t in tasks[:3]) and f'value="{tasks[3]}"' not in page
    reply = client.post("/inbox/claim", data={"csrf_token": csrf, "task": [*tasks, foreign.id, "no-such-task"],
                                              "scope": "candidate"}, follow_redirects=True)
    text = reply.get_data(as_text=True)
    assert reply.status_code == 200 and "已认领 3 个任务" in text
    assert "任务已被他人认领" in text and text.count("一个任务 未能认领") == 2  # the unseen ones name nothing
    assert "企业的" not in text and foreign.case_number not in text
    with runtime.db.read() as session:
        held = dict(session.execute(select(HumanTask.id, HumanTask.assignee_id).where(HumanTask.id.in_(tasks))).all())
    window, window2 = runtime.actor("window").id, runtime.actor("window2").id
    assert [held[t] for t in tasks] == [window, window, window, window2]
    # refusals: nothing ticked, too many, no CSRF token; an enterprise claims nothing
    assert "请选择 1 到 50 个任务" in client.post("/inbox/claim", data={"csrf_token": csrf},
                                               follow_redirects=True).get_data(as_text=True)
    many = client.post("/inbox/claim", data={"csrf_token": csrf, "task": [f"t{n}" for n in range(51)]},
                       follow_redirects=True)
    assert "请选择 1 到 50 个任务" in many.get_data(as_text=True)
    assert client.post("/inbox/claim", data={"task": tasks[0]}).status_code == 400
    csrf = log_in(client, "fushan")
    refused = client.post("/inbox/claim", data={"csrf_token": csrf, "task": foreign.id}, follow_redirects=True)
    assert "未能认领" in refused.get_data(as_text=True) and "已认领" not in refused.get_data(as_text=True)


def test_each_tab_carries_its_count(client: FlaskClient, runtime: Runtime) -> None:
    for n in range(3):
        _review(runtime, f"计数{n}")
    log_in(client, "window")
    page = client.get("/inbox").get_data(as_text=True)
    assert re.search(r'data-count="inbox">3<', page)
    assert re.search(r'data-count="done">0<', page) and re.search(r'data-count="copied">0<', page)
