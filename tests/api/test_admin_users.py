"""The administrators' users page: finding people, names instead of codes, editing roles and organisation,
re-enabling, and the confirming step before 停用 and 重置口令 — each change in the audit log."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from engine.people import audit
from engine.people.access import Actor
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD, log_in


def _rows(page: str) -> list[str]:
    return re.findall(r'<tr id="user-([^"]+)"', page)


def _log(runtime: Runtime, action: str) -> list[dict]:
    admin: Actor = runtime.actor("admin")
    return audit.entries(runtime.db, admin, audit.AuditFilter(action=action))[0]


def test_search_by_name_organisation_role_and_status(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    assert _rows(admin_client.get("/admin/users?q=zhu").get_data(as_text=True)) == ["zhujian"]
    by_org = _rows(admin_client.get("/admin/users", query_string={"q": "行政审批"}).get_data(as_text=True))
    assert "window" in by_org and "zhujian" not in by_org
    assert _rows(admin_client.get("/admin/users?role=reviewer_xiaofang").get_data(as_text=True)) == ["xiaofang"]
    assert _rows(admin_client.get("/admin/users?q=100%25").get_data(as_text=True)) == []  # a LIKE wildcard is text
    admin_client.post("/admin/users/yancao/disable", data={"csrf_token": csrf, "confirmed": "1"})
    assert _rows(admin_client.get("/admin/users?status=disabled").get_data(as_text=True)) == ["yancao"]
    assert "yancao" not in _rows(admin_client.get("/admin/users?status=active").get_data(as_text=True))
    assert "没有符合条件的用户" in admin_client.get("/admin/users?q=nobody-at-all").get_data(as_text=True)


def test_names_not_codes(admin_client: FlaskClient) -> None:
    log_in(admin_client, "admin")
    page = admin_client.get("/admin/users?q=zhujian").get_data(as_text=True)
    row = re.search(r'<tr id="user-zhujian">.*?</tr>', page, re.S).group(0)
    cells = re.sub(r"<[^>]+>", " ", row.split("<details>")[0])
    assert "reviewer_zhujian" not in cells and "住建" in cells
    org_cell = re.search(r'data-label="组织">([^<]*)<', row).group(1)
    assert org_cell and org_cell != "zhujian"
    english = admin_client.get("/admin/users?q=zhujian&lang=en").get_data(as_text=True)
    assert "reviewer_zhujian" not in re.sub(r"<[^>]+>", " ", english.split('<tr id="user-zhujian">')[1]
                                           .split("<details>")[0])
    orgs = admin_client.get("/admin/orgs?lang=zh").get_data(as_text=True)
    assert ">企业<" in orgs and ">enterprise<" not in orgs


def test_disable_and_reset_ask_first_and_change_nothing_until_confirmed(
        admin_client: FlaskClient, runtime: Runtime) -> None:
    csrf = log_in(admin_client, "admin")
    page = admin_client.get("/admin/users?q=haiyun").get_data(as_text=True)
    assert "/admin/users/haiyun/confirm/disable" in page and "/admin/users/haiyun/confirm/password" in page
    asked = admin_client.post("/admin/users/haiyun/disable", data={"csrf_token": csrf})
    assert asked.status_code == 302 and asked.location.endswith("/admin/users/haiyun/confirm/disable")
    confirm = admin_client.get(asked.location).get_data(as_text=True)
    assert 'name="confirmed" value="1"' in confirm and "确认停用" in confirm and "取消" in confirm
    other = admin_client.application.test_client()
    assert other.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD}).status_code == 201
    assert admin_client.post("/admin/users/haiyun/password", data={"csrf_token": csrf}).status_code == 302
    assert other.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD}).status_code == 201
    assert _log(runtime, "password_reset") == [] and _log(runtime, "user_disabled") == []
    done = admin_client.post("/admin/users/haiyun/disable", data={"csrf_token": csrf, "confirmed": "1"},
                             follow_redirects=True)
    assert "用户 haiyun 已停用" in done.get_data(as_text=True)
    assert other.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD}).status_code == 401
    assert [e["subject"] for e in _log(runtime, "user_disabled")] == ["haiyun"]
    reset = admin_client.post("/admin/users/fushan/password", data={"csrf_token": csrf, "confirmed": "1"},
                              follow_redirects=True)
    assert "的新口令（只显示这一次）" in reset.get_data(as_text=True)
    assert [e["subject"] for e in _log(runtime, "password_reset")] == ["fushan"]


def test_the_confirming_step_refuses_the_other_side(admin_client: FlaskClient, runtime: Runtime) -> None:
    csrf = log_in(admin_client, "admin")
    assert admin_client.get("/admin/users/nobody/confirm/disable").status_code == 404
    assert admin_client.get("/admin/users/haiyun/confirm/delete").status_code == 404
    assert admin_client.post("/admin/users/haiyun/disable", data={"confirmed": "1"}).status_code == 400  # no CSRF
    itself = admin_client.post("/admin/users/admin/disable", data={"csrf_token": csrf, "confirmed": "1"},
                               follow_redirects=True)
    assert "不能停用自己的账号" in itself.get_data(as_text=True)
    unknown = admin_client.post("/admin/users/nobody/disable", data={"csrf_token": csrf, "confirmed": "1"})
    assert unknown.status_code == 404
    csrf = log_in(admin_client, "window")
    assert admin_client.get("/admin/users/haiyun/confirm/disable").status_code == 403
    assert admin_client.post("/admin/users/haiyun/disable", data={"csrf_token": csrf,
                                                                  "confirmed": "1"}).status_code == 403
    assert _log(runtime, "user_disabled") == []


def test_edit_roles_and_organisation_then_re_enable(admin_client: FlaskClient, runtime: Runtime) -> None:
    csrf = log_in(admin_client, "admin")
    reply = admin_client.post("/admin/users/shichang/access", data={"csrf_token": csrf, "org": "weijian",
                                                                    "roles": ["reviewer_weijian"]},
                              follow_redirects=True)
    assert "的组织和角色已保存" in reply.get_data(as_text=True)
    moved = runtime.actor("shichang")
    assert moved.roles == {"reviewer_weijian"}
    assert [e["detail"] for e in _log(runtime, "roles_changed")] == [
        {"before": ["reviewer_shichang"], "after": ["reviewer_weijian"]}]
    assert [e["detail"]["after"] for e in _log(runtime, "organisation_changed")] == ["weijian"]
    unknown = admin_client.post("/admin/users/shichang/access", data={"csrf_token": csrf, "org": "weijian",
                                                                      "roles": ["emperor"]}, follow_redirects=True)
    assert runtime.actor("shichang").roles == {"reviewer_weijian"} and unknown.status_code == 200
    log_page = admin_client.get("/admin/audit?action=roles_changed").get_data(as_text=True)
    assert "reviewer_shichang" not in log_page  # the log names roles too
    admin_client.post("/admin/users/shichang/disable", data={"csrf_token": csrf, "confirmed": "1"})
    page = admin_client.get("/admin/users?q=shichang").get_data(as_text=True)
    assert "/admin/users/shichang/enable" in page and "重新启用" in page
    admin_client.post("/admin/users/shichang/enable", data={"csrf_token": csrf})
    assert admin_client.application.test_client().post(
        "/api/v1/auth/token", json={"username": "shichang", "password": PASSWORD}).status_code == 201
    assert [e["subject"] for e in _log(runtime, "user_enabled")] == ["shichang"]


def test_every_other_change_is_audited(admin_client: FlaskClient, runtime: Runtime) -> None:
    csrf = log_in(admin_client, "admin")
    admin_client.post("/admin/users/window/email", data={"email": "window@shinan.gov.cn", "csrf_token": csrf})
    admin_client.post("/admin/users/window/email", data={"email": "window@shinan.gov.cn", "csrf_token": csrf})
    assert [e["detail"] for e in _log(runtime, "email_changed")] == [{"before": None, "after": "window@shinan.gov.cn"}]
    admin_client.post("/admin/orgs", data={"code": "street_xg", "name": "香港中路街道办事处", "kind": "office",
                                           "csrf_token": csrf})
    admin_client.post("/admin/orgs", data={"code": "street_xg", "name": "again", "kind": "office", "csrf_token": csrf})
    assert [e["subject"] for e in _log(runtime, "organisation_created")] == ["street_xg"]
    table = b"year: 2099\nholidays: [2099-01-01]\nworkdays: [2099-01-03]\n"
    admin_client.post("/admin/calendar", data={"csrf_token": csrf, "table": (io.BytesIO(table), "2099.yaml")})
    assert [e["subject"] for e in _log(runtime, "calendar_loaded")] == ["2099"]
    page = admin_client.get("/admin/audit").get_data(as_text=True)
    assert "载入工作日历" in page and "变更通知邮箱" in page and "新增组织" in page
