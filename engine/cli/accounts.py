"""`tongban orgs|users|roles|demo` — accounts from the command line."""

from __future__ import annotations

import secrets

import click
from sqlalchemy import select

from engine.cli.main import Context, emit, handles_errors, json_option, main, pass_ctx
from engine.definitions.registry import deploy as deploy_files
from engine.design.demo import DEMO_ORGS, DEMO_USERS
from engine.people.accounts import (
    MIN_PASSWORD,
    ORG_KINDS,
    add_user,
    disable_user,
    ensure_org,
    list_orgs,
    list_users,
    set_email,
    set_password,
)
from engine.people.auth import revoke_all
from engine.store.models import User


@main.group()
def orgs() -> None:
    """组织 (organisations)."""


@orgs.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(ORG_KINDS), required=True)
@click.option("--credit-code", default=None, help="统一社会信用代码 (enterprises)")
@pass_ctx
@handles_errors
def orgs_add(ctx: Context, code: str, name: str, kind: str, credit_code: str | None) -> None:
    with ctx.runtime.db.write() as session:
        ensure_org(session, code, name, kind, credit_code)
    click.echo(f"组织 {code} 已就绪 (organisation ready)")


@orgs.command("list")
@json_option
@pass_ctx
def orgs_list(ctx: Context, as_json: bool) -> None:
    with ctx.runtime.db.read() as session:
        rows = list_orgs(session)
    emit(as_json, [{"code": o.code, "name": o.name, "kind": o.kind} for o in rows],
         lambda: [click.echo(f"{o.code:14} {o.kind:10} {o.name}") for o in rows])


@main.group()
def users() -> None:
    """用户 (users)."""


@users.command("add")
@click.argument("username")
@click.option("--org", "org_code", required=True)
@click.option("--role", "roles", multiple=True, required=True)
@click.option("--name", "display_name", default=None)
@click.option("--password", default=None, help="不填则生成随机口令 (omit for a random one, printed once)")
@click.option("--email", default=None, help="通知邮件地址 (where copies of the user's notices are mailed)")
@pass_ctx
@handles_errors
def users_add(ctx: Context, username: str, org_code: str, roles: tuple[str, ...], display_name: str | None,
              password: str | None, email: str | None) -> None:
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    with ctx.runtime.db.write() as session:
        add_user(session, ctx.catalogue(), username, org_code, list(roles), display_name, password, email)
    click.echo(f"用户 {username} 已创建 (created)" + (f"，口令 (password): {password}" if generated else ""))


@users.command("disable")
@click.argument("username")
@pass_ctx
@handles_errors
def users_disable(ctx: Context, username: str) -> None:
    """停用用户并吊销其全部令牌 (disable a user and revoke all its tokens)."""
    with ctx.runtime.db.write() as session:
        user_id = disable_user(session, username)
    revoke_all(ctx.runtime.db, user_id)
    click.echo(f"用户 {username} 已停用 (disabled)")


@users.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@pass_ctx
@handles_errors
def users_passwd(ctx: Context, username: str, password: str) -> None:
    """设置新口令并吊销旧令牌 (set a new password; existing tokens stop working)."""
    if len(password) < MIN_PASSWORD:
        raise click.BadParameter(f"口令至少 {MIN_PASSWORD} 个字符 (at least {MIN_PASSWORD} characters)",
                                 param_hint="--password")
    with ctx.runtime.db.write() as session:
        user_id = set_password(session, username, password)
    revoke_all(ctx.runtime.db, user_id)
    click.echo(f"用户 {username} 的口令已更新 (password changed)")


@users.command("email")
@click.argument("username")
@click.argument("address", required=False)
@pass_ctx
@handles_errors
def users_email(ctx: Context, username: str, address: str | None) -> None:
    """设置通知邮件地址，不填则清除 (set where the user's notices are mailed; no address: stop mailing)."""
    with ctx.runtime.db.write() as session:
        stored = set_email(session, username, address)
    click.echo(f"用户 {username} 的通知邮件地址已设为 {stored} (notice e-mail set)" if stored
               else f"用户 {username} 的通知邮件地址已清除 (notice e-mail cleared)")


@users.command("list")
@json_option
@pass_ctx
def users_list(ctx: Context, as_json: bool) -> None:
    with ctx.runtime.db.read() as session:
        payload = list_users(session)
    emit(as_json, payload, lambda: [click.echo(
        f"{p['username']:16} {p['org']:14} {','.join(p['roles'])}{'  (停用 disabled)' if p['disabled'] else ''}")
        for p in payload])


@main.command()
@json_option
@pass_ctx
def roles(ctx: Context, as_json: bool) -> None:
    """角色目录 (the role catalogue)."""
    cat = ctx.catalogue()
    emit(as_json, [r.__dict__ for r in cat.roles.values()], lambda: [click.echo(
        f"{r.code:24} {r.zh}  ({r.en}){'  @' + r.org if r.org else ''}") for r in cat.roles.values()])


@main.command()
@pass_ctx
@handles_errors
def demo(ctx: Context) -> None:
    """演示环境：建库、组织、每个角色一个用户、部署流程 (seed a demo; prints passwords once)."""
    import os

    if os.environ.get("TONGBAN_ENV") == "production":
        raise click.ClickException("生产环境禁止 demo (refused: TONGBAN_ENV=production)")
    ctx.runtime.db.upgrade()
    created = []
    with ctx.runtime.db.write() as session:
        for code, name, kind, credit in DEMO_ORGS:
            ensure_org(session, code, name, kind, credit)
        for username, org, user_roles in DEMO_USERS:
            if session.scalar(select(User.id).where(User.username == username)) is None:
                password = secrets.token_urlsafe(9)
                add_user(session, ctx.catalogue(), username, org, user_roles, password=password)
                created.append((username, org, user_roles, password))
    for r in deploy_files(ctx.runtime.db, ctx.files(None), by="demo"):
        click.echo(f"流程 {r.key} v{r.version} {'已部署 (deployed)' if r.created else '未变化 (unchanged)'}")
    if created:
        click.echo("演示用户（口令只显示这一次） demo users — passwords are shown this once:")
        for username, org, user_roles, password in created:
            click.echo(f"  {username:16} {org:12} {','.join(user_roles):24} {password}")
    else:
        click.echo("演示用户已存在 (demo users already exist)")
