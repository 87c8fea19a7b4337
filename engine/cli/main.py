"""`tongban` — the command line for operators, designers and scripts (every command has --json)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import click
from sqlalchemy.exc import ArgumentError

from engine.base import jsonvalues
from engine.base.jsonvalues import MalformedJSON
from engine.base.problems import errors_in
from engine.base.settings import Settings
from engine.base.vocabulary import InstanceStatus
from engine.cli.failures import Commands, unusable_url
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.registry import deploy as deploy_files
from engine.definitions.registry import validate as validate_files
from engine.definitions.workspace import read_tree
from engine.people.access import Actor
from engine.runtime.runtime import SYSTEM, Runtime


class Context:
    def __init__(self) -> None:
        self.settings = Settings.from_env()  # SettingsInvalid: its message, from `Commands`
        self._runtime: Runtime | None = None

    @property
    def runtime(self) -> Runtime:
        if self._runtime is None:
            from engine.background.jobs import runtime_for  # Celery is only imported by commands that need a runtime

            try:
                self._runtime = runtime_for(self.settings)
            except (ArgumentError, ImportError) as exc:  # unparsable, or its driver is not installed
                raise unusable_url(exc) from None
            # the rest of the command runs in the runtime's clock, calendar and budget (engine/runtime/context.py)
            click.get_current_context().find_root().with_resource(self._runtime.context.entered())
        return self._runtime

    def files(self, path: str | None) -> dict[str, bytes]:
        if path is None:
            return read_tree(self.settings.processes_dir, self.settings.forms_dir)
        root = Path(path).resolve()
        if (root / "processes").is_dir():
            return read_tree(root / "processes", root / "forms")
        if root.is_dir():  # the processes folder itself; forms sit beside it
            return read_tree(root, root.parent / "forms")
        raise click.UsageError(f"{path}: 不是包含 processes/ 的目录 (not a folder holding processes/)")

    def catalogue(self) -> RoleCatalogue:
        return RoleCatalogue.from_folder(self.settings.processes_dir)


pass_ctx = click.make_pass_decorator(Context, ensure=True)
json_option = click.option("--json", "as_json", is_flag=True, help="机器可读输出 (machine-readable output)")
as_option = click.option("--as", "username", required=True, help="以该用户身份执行 (act as this user)")
#: 撤回, 退回, 加签, 委派, 催办 are recorded with why (engine/runtime/reasons.py checks it)
reason_option = click.option("--reason", required=True, help="理由，记入办理过程 (why; recorded in the history)")


def emit(as_json: bool, payload: Any, human: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2, default=str))
    else:
        human()


def read_data(value: str) -> Any:
    """--data takes inline JSON or the path of a JSON file, parsed as strictly as an API body (no NaN, no
    infinity, no lone surrogate, …); what is wrong is a TongbanError, so the command prints it and exits 1."""
    text: str | bytes = value
    if not value.lstrip().startswith(("{", "[")):
        try:
            text = Path(value).read_bytes()
        except OSError as exc:
            raise MalformedJSON(f"--data 既不是 JSON 也不是可读的文件 (--data is neither JSON nor a readable file: "
                                f"{exc.strerror})", {"--data": [value]}) from None
    try:
        return jsonvalues.loads(text)
    except MalformedJSON as exc:
        raise MalformedJSON(exc.message, {"--data": exc.fields["/"]}) from None


def _version() -> str:
    try:
        return version("tongban")
    except PackageNotFoundError:  # run from a clone that was never installed
        return "unknown"


@click.group(cls=Commands, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(_version(), "--version", "-V", prog_name="tongban", message="%(prog)s %(version)s")
def main() -> None:
    """楼宇通办 tongban — BPMN services for the enterprises in a district's office buildings."""


@main.group()
def db() -> None:
    """数据库 (database schema)."""


@db.command("upgrade")
@pass_ctx
def db_upgrade(ctx: Context) -> None:
    """升级数据库结构到最新版本 (apply Alembic migrations)."""
    ctx.runtime.db.upgrade()
    click.echo(f"数据库已是最新 (schema up to date): {ctx.runtime.db.engine.url.render_as_string()}")


@main.command()
@click.argument("path", required=False)
@json_option
@pass_ctx
def validate(ctx: Context, path: str | None, as_json: bool) -> None:
    """校验流程、决策表和表单 (validate BPMN, DMN and forms); exits 1 on any error."""
    problems = validate_files(ctx.files(path))
    emit(as_json, [p.to_dict() for p in problems], lambda: [click.echo(str(p)) for p in problems])
    errors = errors_in(problems)
    if not as_json:
        click.echo(f"{len(errors)} 个错误，{len(problems) - len(errors)} 个警告 "
                   f"({len(errors)} errors, {len(problems) - len(errors)} warnings)")
    sys.exit(1 if errors else 0)


_DEPLOYED = {True: "新版本 (new)", False: "未变化 (unchanged)"}


@main.command()
@click.argument("path", required=False)
@click.option("--as", "username", default=None, help="记录部署人 (record who deployed)")
@json_option
@pass_ctx
def deploy(ctx: Context, path: str | None, username: str | None, as_json: bool) -> None:
    """部署流程新版本 (deploy: one new version per process whose content changed)."""
    results = deploy_files(ctx.runtime.db, ctx.files(path), by=username)
    emit(as_json, [r.__dict__ for r in results], lambda: [
        click.echo(f"{r.key} v{r.version} {_DEPLOYED[r.created]} {r.content_hash[:12]}")
        for r in results])


@main.command()
@json_option
@pass_ctx
def processes(ctx: Context, as_json: bool) -> None:
    """已部署的流程及版本 (deployed processes and their versions)."""
    from sqlalchemy import select

    from engine.store.models import ProcessVersion

    with ctx.runtime.db.read() as session:
        rows = session.execute(select(ProcessVersion.process_key, ProcessVersion.version, ProcessVersion.code,
                                      ProcessVersion.name_zh, ProcessVersion.content_hash, ProcessVersion.deployed_at)
                               .order_by(ProcessVersion.process_key, ProcessVersion.version)).all()
    payload = [dict(r._mapping) for r in rows]
    emit(as_json, payload, lambda: [click.echo(
        f"{r.process_key:24} v{r.version:<3} {r.code:6} {r.name_zh}  {r.content_hash[:12]}  "
        f"{r.deployed_at:%Y-%m-%d %H:%M}")
        for r in rows])


@main.command()
@click.argument("key")
@click.option("--data", "data", default="{}", help="JSON 或 JSON 文件路径 (inline JSON or a file)")
@as_option
@json_option
@pass_ctx
def start(ctx: Context, key: str, data: str, username: str, as_json: bool) -> None:
    """发起办件 (start an instance)."""
    view = ctx.runtime.start(key, read_data(data), ctx.runtime.actor(username))
    emit(as_json, view.to_dict(), lambda: _print_instance(view))


@main.command()
@as_option
@json_option
@pass_ctx
def tasks(ctx: Context, username: str, as_json: bool) -> None:
    """待办任务 (the user's inbox)."""
    views = ctx.runtime.tasks(ctx.runtime.actor(username))
    emit(as_json, [v.to_dict() for v in views], lambda: [click.echo(
        f"{v.id}  {v.case_number}  {v.name}  [{v.role}@{v.org or '-'}]  form={v.form}") for v in views])


@main.command()
@click.argument("task_id")
@click.option("--data", "data", default="{}", help="JSON 或 JSON 文件路径 (inline JSON or a file)")
@as_option
@json_option
@pass_ctx
def complete(ctx: Context, task_id: str, data: str, username: str, as_json: bool) -> None:
    """办理任务 (complete a human task)."""
    view = ctx.runtime.complete(task_id, read_data(data), ctx.runtime.actor(username))
    emit(as_json, view.to_dict(), lambda: _print_instance(view))


def _actor(ctx: Context, username: str | None) -> Actor:
    return ctx.runtime.actor(username) if username else SYSTEM


@main.command()
@click.option("--status", type=click.Choice([s.value for s in InstanceStatus]), default=None)
@click.option("--as", "username", default=None, help="只看该用户可见的 (scope to this user)")
@json_option
@pass_ctx
def instances(ctx: Context, status: str | None, username: str | None, as_json: bool) -> None:
    """办件列表 (instances, newest first)."""
    views = ctx.runtime.instances(_actor(ctx, username), status=status)
    emit(as_json, [v.to_dict() for v in views], lambda: [click.echo(
        f"{v.case_number}  {v.process_key} v{v.version}  {v.status}  {v.outcome or '-'}") for v in views])


@main.command()
@click.argument("case")
@click.option("--as", "username", default=None, help="只看该用户可见的 (scope to this user)")
@json_option
@pass_ctx
def show(ctx: Context, case: str, username: str | None, as_json: bool) -> None:
    """办件详情：数据、事件、待办 (case detail: data, events, open tasks)."""
    view = ctx.runtime.instance(case, _actor(ctx, username), detail=True)
    emit(as_json, view.to_dict(), lambda: _print_instance(view, detail=True))


def _admin_command(name: str, help_text: str) -> None:
    @main.command(name=name, help=help_text)
    @click.argument("case")
    @as_option
    @json_option
    @pass_ctx
    def command(ctx: Context, case: str, username: str, as_json: bool) -> None:
        view = getattr(ctx.runtime, name)(case, ctx.runtime.actor(username))
        emit(as_json, view.to_dict(), lambda: _print_instance(view))


_admin_command("suspend", "挂起办件 (suspend an instance; administrators)")
_admin_command("resume", "恢复办件 (resume a suspended instance; administrators)")
_admin_command("retry", "重试出错的办件 (retry a case in its error state once the cause is fixed; administrators)")
_admin_command("terminate", "终止办件 (terminate an instance; administrators)")


@main.command()
@click.argument("case")
@click.argument("name")
@click.option("--data", "data", default="{}", help="消息内容 JSON 或文件 (the message payload)")
@as_option
@json_option
@pass_ctx
def message(ctx: Context, case: str, name: str, data: str, username: str, as_json: bool) -> None:
    """向等待中的办件投递消息 (deliver a message to a case waiting for it; administrators)."""
    view = ctx.runtime.deliver(case, name, read_data(data), ctx.runtime.actor(username))
    emit(as_json, view.to_dict(), lambda: _print_instance(view))


def _print_instance(view: Any, detail: bool = False) -> None:
    click.echo(f"办件编号 {view.case_number}  {view.process_key} v{view.version}  状态 {view.status}  "
               f"结果 {view.outcome or '-'}")
    if view.error:
        click.echo(f"  错误 @ {view.error_element}: {view.error}")
    for task in view.open_tasks:
        click.echo(f"  待办 {task.id}  {task.name}  [{task.role}@{task.org or '-'}]")
    if detail:
        click.echo("  数据 " + json.dumps(view.data, ensure_ascii=False))
        for event in view.events or []:
            click.echo(f"  {event['at'][:19]}  {event['kind']:15} {event['element_id'] or ''}")
        if view.history:
            click.echo("  数据变更 (field changes):")
        for change in view.history or []:
            click.echo(f"  {change['at'][:19]}  {change['field']} ({change['path']}): {_shown(change, 'old')} → "
                       f"{_shown(change, 'new')}  [{change['user'] or '流程 process'}"
                       f"{' · ' + change['element'] if change['element'] else ''}]")


def _shown(change: dict[str, Any], side: str) -> str:
    """A value as JSON, or a dash when the field did not exist (old) or was removed (new)."""
    return json.dumps(change[side], ensure_ascii=False) if side in change else "—"


from engine.cli import (  # noqa: E402,F401 - register commands
    accounts,
    audit,
    correlation,
    followups,
    jobs,
    migrations,
    operations,
    opinions,
    scenarios,
    signers,
    withdrawals,
)
