"""`tongban orgs|users|roles|demo` — accounts from the command line.

Each command is one use-case of engine.people.administration (the same functions the administrators'
pages call), done as the system or, with `--as`, as that user — who must then be an administrator.
"""

from __future__ import annotations

import click

from engine.cli.main import Context, _actor, emit, json_option, main, pass_ctx
from engine.definitions.organisations import ORGANISATIONS_PATH, OrganisationList, organisations_in
from engine.definitions.registry import deploy as deploy_files
from engine.design.demo import DEMO_ORGS, DEMO_USERS, demo_orgs
from engine.people import administration
from engine.people.accounts import ORG_KINDS
from engine.runtime.runtime import SYSTEM

acting_option = click.option("--as", "acting", default=None,
                             help="以该管理员身份执行，不填则以系统身份 (act as this administrator; default: system)")


@main.group()
def orgs() -> None:
    """组织 (organisations)."""


@orgs.command("add")
@click.argument("code")
@click.argument("name")
@click.option("--kind", type=click.Choice(ORG_KINDS), required=True)
@click.option("--credit-code", default=None, help="统一社会信用代码 (enterprises)")
@acting_option
@pass_ctx
def orgs_add(ctx: Context, code: str, name: str, kind: str, credit_code: str | None, acting: str | None) -> None:
    administration.ensure_organisation(ctx.runtime.db, _actor(ctx, acting), code, name, kind, credit_code)
    click.echo(f"组织 {code} 已就绪 (organisation ready)")


@orgs.command("sync")
@click.argument("path", required=False)
@acting_option
@json_option
@pass_ctx
def orgs_sync(ctx: Context, path: str | None, acting: str | None, as_json: bool) -> None:
    """按组织目录建立或更新组织 (create or update the district's organisations from processes/organisations.yaml;
    nothing is deleted; running it again changes nothing)."""
    listed = _organisation_list(ctx, path)
    done = administration.sync_organisations(ctx.runtime.db, _actor(ctx, acting), listed)
    emit(as_json, done.__dict__, lambda: click.echo(
        f"组织目录已同步 (organisations synced): 新建 created {len(done.created)}, 更新 updated {len(done.updated)}, "
        f"未变 unchanged {len(done.unchanged)}"
        + "".join(f"\n  + {code}" for code in done.created) + "".join(f"\n  ~ {code}" for code in done.updated)))


def _organisation_list(ctx: Context, path: str | None) -> OrganisationList:
    try:
        listed = organisations_in(ctx.files(path))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None
    if listed is None:
        raise click.ClickException(f"没有组织目录 {ORGANISATIONS_PATH} (no organisation list)")
    return listed


@orgs.command("list")
@acting_option
@json_option
@pass_ctx
def orgs_list(ctx: Context, acting: str | None, as_json: bool) -> None:
    rows = administration.organisations(ctx.runtime.db, _actor(ctx, acting))
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
@acting_option
@pass_ctx
def users_add(ctx: Context, username: str, org_code: str, roles: tuple[str, ...], display_name: str | None,
              password: str | None, email: str | None, acting: str | None) -> None:
    generated = password is None
    password = administration.create_user(ctx.runtime.db, _actor(ctx, acting), ctx.catalogue(), username, org_code,
                                          roles, display_name, password, email)
    click.echo(f"用户 {username} 已创建 (created)" + (f"，口令 (password): {password}" if generated else ""))


@users.command("disable")
@click.argument("username")
@acting_option
@pass_ctx
def users_disable(ctx: Context, username: str, acting: str | None) -> None:
    """停用用户并吊销其全部令牌 (disable a user and revoke all its tokens)."""
    administration.disable(ctx.runtime.db, _actor(ctx, acting), username)
    click.echo(f"用户 {username} 已停用 (disabled)")


@users.command("enable")
@click.argument("username")
@acting_option
@pass_ctx
def users_enable(ctx: Context, username: str, acting: str | None) -> None:
    """重新启用已停用的用户 (let a disabled user log in again)."""
    administration.enable(ctx.runtime.db, _actor(ctx, acting), username)
    click.echo(f"用户 {username} 已启用 (enabled)")


@users.command("roles")
@click.argument("username")
@click.option("--role", "roles", multiple=True, required=True, help="新的全部角色 (the user's roles from now on)")
@acting_option
@pass_ctx
def users_roles(ctx: Context, username: str, roles: tuple[str, ...], acting: str | None) -> None:
    """替换用户的角色 (replace a user's roles)."""
    administration.change_access(ctx.runtime.db, _actor(ctx, acting), ctx.catalogue(), username, roles=roles)
    click.echo(f"用户 {username} 的角色已设为 {', '.join(sorted(set(roles)))} (roles set)")


@users.command("move")
@click.argument("username")
@click.option("--org", "org_code", required=True)
@acting_option
@pass_ctx
def users_move(ctx: Context, username: str, org_code: str, acting: str | None) -> None:
    """把用户调到另一个组织 (move a user to another organisation)."""
    administration.change_access(ctx.runtime.db, _actor(ctx, acting), ctx.catalogue(), username,
                                 org_code=org_code)
    click.echo(f"用户 {username} 已调至 {org_code} (moved)")


@users.command("passwd")
@click.argument("username")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@acting_option
@pass_ctx
def users_passwd(ctx: Context, username: str, password: str, acting: str | None) -> None:
    """设置新口令并吊销旧令牌 (set a new password; existing tokens stop working)."""
    administration.reset_password(ctx.runtime.db, _actor(ctx, acting), username, password)
    click.echo(f"用户 {username} 的口令已更新 (password changed)")


@users.command("email")
@click.argument("username")
@click.argument("address", required=False)
@acting_option
@pass_ctx
def users_email(ctx: Context, username: str, address: str | None, acting: str | None) -> None:
    """设置通知邮件地址，不填则清除 (set where the user's notices are mailed; no address: stop mailing)."""
    stored = administration.change_email(ctx.runtime.db, _actor(ctx, acting), username, address)
    click.echo(f"用户 {username} 的通知邮件地址已设为 {stored} (notice e-mail set)" if stored
               else f"用户 {username} 的通知邮件地址已清除 (notice e-mail cleared)")


def _issuer(ctx: Context, issuer: str | None) -> str:
    if issuer:
        return issuer.rstrip("/")
    if ctx.settings.oidc is None:
        raise click.UsageError("未配置统一身份认证：请设置 TONGBAN_OIDC_ISSUER 或给出 --issuer (no identity platform "
                               "configured: set TONGBAN_OIDC_ISSUER or pass --issuer)")
    return ctx.settings.oidc.issuer


issuer_option = click.option("--issuer", default=None,
                             help="统一身份认证平台，不填则为 TONGBAN_OIDC_ISSUER (the platform's issuer; default "
                                  "TONGBAN_OIDC_ISSUER)")


@users.command("link")
@click.argument("username")
@click.argument("subject")
@issuer_option
@acting_option
@pass_ctx
def users_link(ctx: Context, username: str, subject: str, issuer: str | None, acting: str | None) -> None:
    """让统一身份认证账号（sub）以该用户登录 (let the identity platform's person SUBJECT log in as USERNAME)."""
    done = administration.link_identity(ctx.runtime.db, _actor(ctx, acting), username, _issuer(ctx, issuer), subject)
    click.echo(f"用户 {username} 已关联统一身份认证账号 {subject} (linked)" if done
               else f"用户 {username} 早已关联 {subject} (already linked)")


@users.command("unlink")
@click.argument("username")
@issuer_option
@acting_option
@pass_ctx
def users_unlink(ctx: Context, username: str, issuer: str | None, acting: str | None) -> None:
    """解除统一身份认证关联并吊销其令牌 (the user no longer logs in through the platform; its tokens are revoked)."""
    done = administration.unlink_identity(ctx.runtime.db, _actor(ctx, acting), username, _issuer(ctx, issuer))
    click.echo(f"用户 {username} 已解除统一身份认证关联 (unlinked)" if done
               else f"用户 {username} 未关联统一身份认证 (was not linked)")


@users.command("list")
@acting_option
@json_option
@pass_ctx
def users_list(ctx: Context, acting: str | None, as_json: bool) -> None:
    payload = administration.directory(ctx.runtime.db, _actor(ctx, acting)).users
    emit(as_json, payload, lambda: [click.echo(
        f"{p['username']:16} {p['org']:14} {','.join(p['roles'])}{'  (停用 disabled)' if p['disabled'] else ''}")
        for p in payload])


@main.command()
@acting_option
@json_option
@pass_ctx
def roles(ctx: Context, acting: str | None, as_json: bool) -> None:
    """角色目录 (the role catalogue)."""
    listed = administration.role_list(_actor(ctx, acting), ctx.catalogue())
    emit(as_json, [r.__dict__ for r in listed], lambda: [click.echo(
        f"{r.code:24} {r.zh}  ({r.en}){'  @' + r.org if r.org else ''}") for r in listed])


@main.command()
@pass_ctx
def demo(ctx: Context) -> None:
    """演示环境：建库、组织、每个角色一个用户、部署流程 (seed a demo; prints passwords once)."""
    if ctx.settings.production:
        raise click.ClickException("生产环境禁止 demo (refused: TONGBAN_ENV=production)")
    ctx.runtime.db.upgrade()
    files = ctx.files(None)
    listed = organisations_in(files)
    created = administration.seed_accounts(ctx.runtime.db, SYSTEM, ctx.catalogue(),
                                           demo_orgs(listed) if listed else DEMO_ORGS, DEMO_USERS)
    if listed:  # names and kinds as the list says, also in a database seeded before
        administration.sync_organisations(ctx.runtime.db, SYSTEM, listed)
    for r in deploy_files(ctx.runtime.db, files, by="demo"):
        click.echo(f"流程 {r.key} v{r.version} {'已部署 (deployed)' if r.created else '未变化 (unchanged)'}")
    if created:
        click.echo("演示用户（口令只显示这一次） demo users — passwords are shown this once:")
        for username, org, user_roles, password in created:
            click.echo(f"  {username:16} {org:12} {','.join(user_roles):24} {password}")
    else:
        click.echo("演示用户已存在 (demo users already exist)")
