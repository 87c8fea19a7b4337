"""`tongban correlate` and `tongban signal` — a message by name and correlation key, or a signal, to the cases
waiting for it (engine/runtime/correlation.py)."""

from __future__ import annotations

import click

from engine.cli.main import Context, _print_instance, as_option, emit, json_option, main, pass_ctx, read_data
from engine.runtime.correlation import Correlated


@main.command()
@click.argument("name")
@click.option("--key", default=None, help="相关键 (the correlation key the waiting cases were given)")
@click.option("--data", "data", default="{}", help="消息内容 JSON 或文件 (the message payload)")
@as_option
@json_option
@pass_ctx
def correlate(ctx: Context, name: str, key: str | None, data: str, username: str, as_json: bool) -> None:
    """按名称和相关键投递消息；无办件等待时由消息开始事件发起办件 (deliver a message by name and key to every case
    waiting for it, or start the processes it starts; administrators, integrations)."""
    result = ctx.runtime.correlate(name, key, read_data(data), ctx.runtime.actor(username))
    emit(as_json, result.to_dict(), lambda: _print(result))


@main.command()
@click.argument("name")
@click.option("--data", "data", default="{}", help="信号内容 JSON 或文件 (the signal payload)")
@as_option
@json_option
@pass_ctx
def signal(ctx: Context, name: str, data: str, username: str, as_json: bool) -> None:
    """发出信号：送达所有等待它的办件，并发起以它为开始事件的流程 (send a signal to every case waiting for it and
    start the processes it starts; administrators, integrations)."""
    result = ctx.runtime.broadcast(name, read_data(data), ctx.runtime.actor(username))
    emit(as_json, result.to_dict(), lambda: _print(result))
    if not result.delivered and not result.started:
        click.echo("无办件等待该信号 (no case waits for the signal)")


def _print(result: Correlated) -> None:
    for label, views in (("送达 (delivered)", result.delivered), ("发起 (started)", result.started)):
        for view in views:
            click.echo(f"{label}: ", nl=False)
            _print_instance(view)
    for case, why in result.skipped.items():
        click.echo(f"未送达 (skipped) {case}: {why}")
