"""`tongban worker|beat|advance` — the scale-out mode's processes, and continuing a case by hand."""

from __future__ import annotations

import click

from engine.cli.main import Context, emit, json_option, main, pass_ctx

PASS_THROUGH = {"ignore_unknown_options": True, "allow_extra_args": True}


def _celery(ctx: Context, argv: list[str]) -> None:
    if ctx.settings.broker_url is None:
        raise click.ClickException("未设置 TONGBAN_BROKER_URL，后台任务需要消息队列 (no broker: set "
                                   "TONGBAN_BROKER_URL=redis://… or amqp://…; without it `tongban serve` "
                                   "runs everything itself)")
    ctx.settings.require_shared_database()  # a message from `Commands`, before Celery starts (see also jobs.py)
    from engine.background.jobs import app

    app.start(argv)


@main.command(context_settings=PASS_THROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_ctx
def worker(ctx: Context, celery_args: tuple[str, ...]) -> None:
    """运行后台任务进程 (run a job worker; start any number). Extra options go to `celery worker`.

    Logs as TONGBAN_LOG_FORMAT / TONGBAN_LOG_LEVEL say (Celery's --loglevel is not used)."""
    _celery(ctx, ["worker", *celery_args])


@main.command(context_settings=PASS_THROUGH)
@click.argument("celery_args", nargs=-1, type=click.UNPROCESSED)
@pass_ctx
def beat(ctx: Context, celery_args: tuple[str, ...]) -> None:
    """运行定时扫描 (run the beat: enqueues the timer sweep every second; one is enough)."""
    _celery(ctx, ["beat", *celery_args])


@main.command()
@click.argument("cases", nargs=-1, required=True)
@json_option
@pass_ctx
def advance(ctx: Context, cases: tuple[str, ...], as_json: bool) -> None:
    """继续执行办件的自动步骤 (run a case's due timers and automatic steps now, in this process)."""
    views = [ctx.runtime.advance(case) for case in cases]
    emit(as_json, [v.to_dict() for v in views],
         lambda: [click.echo(f"{v.case_number}  {v.process_key} v{v.version}  {v.status}") for v in views])
