"""Administrators' pages: users, organisations, roles and loading a new year's working-day table."""

from __future__ import annotations

import io
import re

from flask.testing import FlaskClient

from engine.runtime.runtime import Runtime
from engine.store.calendars import calendar_from_db
from tests.support.http import PASSWORD, csrf_of, log_in


def test_only_administrators(admin_client: FlaskClient) -> None:
    log_in(admin_client, "window")
    for page in ("/admin/users", "/admin/orgs", "/admin/roles", "/admin/calendar", "/admin/audit"):
        assert admin_client.get(page).status_code == 403


def test_create_a_user_who_can_then_log_in_and_disable_it(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    reply = admin_client.post("/admin/users", data={"username": "zhou", "org": "zhujian", "roles": ["reviewer_zhujian"],
                                                   "display_name": "周工", "csrf_token": csrf}, follow_redirects=True)
    page = reply.get_data(as_text=True)
    password = re.search(r"初始口令（只显示这一次）：(\S+?)<", page).group(1)
    assert "reviewer_zhujian" in page
    other = admin_client.application.test_client()
    token = other.post("/api/v1/auth/token", json={"username": "zhou", "password": password})
    assert token.status_code == 201
    admin_client.post("/admin/users/zhou/disable", data={"csrf_token": csrf, "confirmed": "1"})
    assert other.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token.json['token']}"}).status_code == 401


def test_a_form_post_without_the_csrf_token_changes_nothing(admin_client: FlaskClient) -> None:
    log_in(admin_client, "admin")
    assert admin_client.post("/admin/users/haiyun/disable").status_code == 400
    reply = admin_client.post("/api/v1/auth/token", json={"username": "haiyun", "password": PASSWORD})
    assert reply.status_code == 201


def test_load_a_new_years_table(admin_client: FlaskClient, runtime: Runtime) -> None:
    csrf = log_in(admin_client, "admin")
    table = b"year: 2099\nholidays: [2099-01-01]\nworkdays: [2099-01-03]\n"
    reply = admin_client.post("/admin/calendar", data={"csrf_token": csrf, "table": (io.BytesIO(table), "2099.yaml")},
                              follow_redirects=True)
    assert "2099 年工作日安排已载入" in reply.get_data(as_text=True)
    with runtime.db.read() as session:
        calendar = calendar_from_db(session)
    assert calendar.table(2099).is_working_day(__import__("datetime").date(2099, 1, 3))  # a Saturday worked


def test_a_bad_table_names_each_entry_and_loads_nothing(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    table = b"date,kind\n2099-01-01,holiday\n2099-02-30,holiday\n2099-01-05,party\n"
    reply = admin_client.post("/admin/calendar", data={"csrf_token": csrf, "year": "2099",
                                                       "table": (io.BytesIO(table), "2099.csv")},
                              follow_redirects=True)
    page = reply.get_data(as_text=True)
    assert "line 4" in page and "尚未载入任何年份" in page


def test_roles_and_orgs_pages_list_the_catalogue_and_organisations(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    assert "reviewer_xiaofang" in admin_client.get("/admin/roles").get_data(as_text=True)
    admin_client.post("/admin/orgs", data={"code": "street_xg", "name": "香港中路街道办事处", "kind": "office",
                                           "csrf_token": csrf})
    assert "香港中路街道办事处" in admin_client.get("/admin/orgs").get_data(as_text=True)
    assert csrf_of(admin_client.get("/admin/orgs").get_data(as_text=True))


def test_set_and_clear_a_users_notice_email(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    reply = admin_client.post("/admin/users/window/email", data={"email": "window@shinan.gov.cn", "csrf_token": csrf},
                              follow_redirects=True)
    assert "通知邮箱已设为 window@shinan.gov.cn" in reply.get_data(as_text=True)
    assert 'value="window@shinan.gov.cn"' in admin_client.get("/admin/users").get_data(as_text=True)
    refused = admin_client.post("/admin/users/window/email", data={"email": "no address", "csrf_token": csrf},
                                follow_redirects=True)
    assert "电子邮件地址无效" in refused.get_data(as_text=True)
    assert 'value="window@shinan.gov.cn"' in admin_client.get("/admin/users").get_data(as_text=True)  # kept
    admin_client.post("/admin/users/window/email", data={"email": "", "csrf_token": csrf})
    assert 'value="window@shinan.gov.cn"' not in admin_client.get("/admin/users").get_data(as_text=True)


def test_enable_roles_and_organisation_from_the_users_page_and_the_audit_page(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    admin_client.post("/admin/users/zhujian/disable", data={"csrf_token": csrf, "confirmed": "1"})
    assert "已启用" in admin_client.post("/admin/users/zhujian/enable", data={"csrf_token": csrf},
                                      follow_redirects=True).get_data(as_text=True)
    admin_client.post("/admin/users/zhujian/access", data={"csrf_token": csrf, "org": "xzsp",
                                                           "roles": ["window_clerk", "reviewer_zhujian"]})
    unknown = admin_client.post("/admin/users/zhujian/access", follow_redirects=True,
                                data={"csrf_token": csrf, "org": "xzsp", "roles": ["root"]})
    assert "未知角色" in unknown.get_data(as_text=True)
    page = admin_client.get("/admin/audit?user=zhujian").get_data(as_text=True)
    for action in ("user_disabled", "user_enabled", "organisation_changed", "roles_changed"):
        assert f'<td data-action="{action}">' in page
    assert "<td>window_clerk" not in page and "127.0.0.1" in page
    only = admin_client.get("/admin/audit?action=user_enabled").get_data(as_text=True)
    assert '<td data-action="user_enabled">启用用户</td>' in only and 'data-action="user_disabled"' not in only
    bad = admin_client.get("/admin/audit?since=someday").get_data(as_text=True)
    assert "YYYY-MM-DD" in bad
    log_in(admin_client, "window")
    assert admin_client.get("/admin/audit").status_code == 403
