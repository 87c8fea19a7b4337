"""The administrators' pages after their use-cases moved into the engine: the same answers for everyone, and the
same menu for every role now that base.html asks engine.people.access instead of naming roles."""

from __future__ import annotations

import re

import pytest
from flask.testing import FlaskClient

from engine.design.demo import DEMO_USERS
from engine.people.auth import authenticate
from engine.runtime.runtime import Runtime
from tests.support.http import PASSWORD, csrf_of, log_in

PAGES = ("/admin/users", "/admin/orgs", "/admin/roles", "/admin/calendar")
POSTS = {
    "/admin/users": {"username": "zhou", "org": "zhujian", "roles": ["reviewer_zhujian"]},
    "/admin/users/zhujian/disable": {},
    "/admin/users/zhujian/password": {},
    "/admin/users/zhujian/email": {"email": "zhujian@shinan.gov.cn"},
    "/admin/orgs": {"code": "street_xg", "name": "香港中路街道", "kind": "office"},
    "/admin/calendar": {},
}


def _api_token(client: FlaskClient, username: str, password: str = PASSWORD) -> str | None:
    reply = client.application.test_client().post("/api/v1/auth/token",
                                                  json={"username": username, "password": password})
    return reply.json["token"] if reply.status_code == 201 else None


def test_an_administrator_runs_an_account_from_creation_to_disabling(admin_client: FlaskClient,
                                                                   runtime: Runtime) -> None:
    csrf = log_in(admin_client, "admin")
    for page in PAGES:
        assert admin_client.get(page).status_code == 200, page
    created = admin_client.post("/admin/users", follow_redirects=True, data={
        "username": "zhou", "org": "zhujian", "roles": ["reviewer_zhujian"], "display_name": "周工",
        "email": "zhou@shinan.gov.cn", "csrf_token": csrf}).get_data(as_text=True)
    first = re.search(r"用户 zhou 已创建，初始口令（只显示这一次）：(\S+?)<", created).group(1)
    assert 'value="zhou@shinan.gov.cn"' in created
    token = _api_token(admin_client, "zhou", first)
    assert authenticate(runtime.db, token).username == "zhou"

    reset = admin_client.post("/admin/users/zhou/password", data={"csrf_token": csrf, "confirmed": "1"},
                              follow_redirects=True)
    second = re.search(r"用户 zhou 的新口令（只显示这一次）：(\S+?)<", reset.get_data(as_text=True)).group(1)
    assert second != first
    assert admin_client.application.test_client().get(
        "/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401  # old token revoked
    assert _api_token(admin_client, "zhou", first) is None
    token = _api_token(admin_client, "zhou", second)
    assert token

    disabled = admin_client.post("/admin/users/zhou/disable", data={"csrf_token": csrf, "confirmed": "1"},
                                 follow_redirects=True)
    assert "用户 zhou 已停用" in disabled.get_data(as_text=True)
    assert admin_client.application.test_client().get(
        "/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert _api_token(admin_client, "zhou", second) is None


def test_mistakes_are_flashed_on_the_page_they_came_from(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    taken = admin_client.post("/admin/users", follow_redirects=True, data={
        "username": "window", "org": "xzsp", "roles": ["window_clerk"], "csrf_token": csrf})
    assert "用户名已存在" in taken.get_data(as_text=True)
    kind = admin_client.post("/admin/orgs", follow_redirects=True, data={
        "code": "x", "name": "x", "kind": "club", "csrf_token": csrf})
    assert "组织类型须为" in kind.get_data(as_text=True)
    empty = admin_client.post("/admin/calendar", data={"csrf_token": csrf}, follow_redirects=True)
    assert "请选择不超过 64 KiB 的 YAML 或 CSV 文件" in empty.get_data(as_text=True)


def test_an_unknown_user_is_not_found(admin_client: FlaskClient) -> None:
    csrf = log_in(admin_client, "admin")
    for action in ("disable", "password"):
        assert admin_client.post(f"/admin/users/nobody/{action}", data={"csrf_token": csrf, "confirmed": "1"}
                                 ).status_code == 404
        asked = admin_client.post(f"/admin/users/nobody/{action}", data={"csrf_token": csrf})  # asks first, then:
        assert admin_client.get(asked.location).status_code == 404
    missing = admin_client.post("/admin/users/nobody/email", data={"email": "", "csrf_token": csrf},
                                follow_redirects=True)
    assert "用户不存在" in missing.get_data(as_text=True)  # flashed, as before


@pytest.mark.parametrize("username", ["haiyun", "window", "dispatcher", "inspector", "designer", "committee"])
def test_everyone_else_is_refused_and_changes_nothing(admin_client: FlaskClient, username: str) -> None:
    csrf = log_in(admin_client, username)
    for page in PAGES:
        assert admin_client.get(page).status_code == 403, page
    for path, form in POSTS.items():
        assert admin_client.post(path, data={**form, "csrf_token": csrf}).status_code == 403, path
    assert _api_token(admin_client, "zhujian")  # neither disabled nor given a new password
    assert _api_token(admin_client, "zhou") is None


def test_without_logging_in_the_pages_send_you_to_log_in(admin_client: FlaskClient) -> None:
    for page in PAGES:
        reply = admin_client.get(page)
        assert reply.status_code == 302 and "/login" in reply.headers["Location"], page
    assert admin_client.post("/admin/users/zhujian/disable").status_code == 400  # no CSRF token, as before
    assert _api_token(admin_client, "zhujian")


def _old_menu(roles: set[str]) -> list[str]:
    """The menu as base.html drew it while it named the roles itself (before issue 11), with the heat map
    (issue 16) beside 督办统计 for the same roles."""
    items = ["办事服务" if "applicant" in roles else "待办", "办件", "通知"]
    if roles & {"dispatcher", "inspection_office", "admin"}:
        items += ["督办统计", "流程热力图"]
    if roles & {"designer", "admin"}:
        items.append("流程设计")
    if "admin" in roles:
        items.append("系统管理")
    return items


def _menu(html: str) -> list[str]:
    nav = re.search(r'<nav class="menu"[^>]*>(.*?)</nav>', html, re.S)
    return [] if nav is None else [label.strip() for label in re.findall(r">([^<>]+)</a>", nav.group(1))]


def test_the_menu_is_what_each_role_saw_before(client: FlaskClient) -> None:
    assert _menu(client.get("/login").get_data(as_text=True)) == []
    for username, _org, roles in DEMO_USERS:
        browser = client.application.test_client()
        log_in(browser, username)
        assert _menu(browser.get("/cases").get_data(as_text=True)) == _old_menu(set(roles)), username
    spot_checks = {"haiyun": ["办事服务", "办件", "通知"], "window": ["待办", "办件", "通知"],
                   "inspector": ["待办", "办件", "通知", "督办统计", "流程热力图"],
                   "designer": ["待办", "办件", "通知", "流程设计"],
                   "admin": ["待办", "办件", "通知", "督办统计", "流程热力图", "流程设计", "系统管理"]}
    for username, menu in spot_checks.items():
        assert _old_menu(set(next(r for u, _o, r in DEMO_USERS if u == username))) == menu


def test_a_refusal_page_still_shows_the_users_own_menu(admin_client: FlaskClient) -> None:
    log_in(admin_client, "designer")
    refused = admin_client.get("/admin/users", headers={"Accept": "text/html"})  # a browser's navigation
    assert refused.status_code == 403
    assert _menu(refused.get_data(as_text=True)) == ["待办", "办件", "通知", "流程设计"]
    assert csrf_of(refused.get_data(as_text=True))
