"""The `tongban` command: the engine's commands (engine/cli/) and `serve`, which runs this web app.

`serve` lives here, not in the engine, because the engine never imports Flask or Werkzeug
(the import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import click
from werkzeug.serving import run_simple

from api import create_app
from engine.background import mail
from engine.background.timers import TimerThread
from engine.base.periodic import Periodic
from engine.cli.main import Context, main, pass_ctx
from engine.runtime.context import entered_for

__all__ = ["main"]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@pass_ctx
def serve(ctx: Context, host: str, port: int) -> None:
    """运行 Web 服务 (serve the API; embedded default, no other server needed).

    For production run it under gunicorn: `gunicorn -w 4 'api:create_app()'`.
    """
    ctx.runtime.db.upgrade()
    ctx.runtime.db.background_checkpoints()  # SQLite: keeps the write-ahead log's upkeep out of requests
    if ctx.settings.broker_url is None:  # embedded mode: this process does what `tongban beat` and workers would
        TimerThread(ctx.runtime).start()
        if ctx.settings.smtp is not None:
            send = entered_for(lambda: mail.sweep(ctx.settings, ctx.runtime.db), ctx.runtime.context)
            Periodic("tongban-mail", send, mail.EVERY).start()
    run_simple(host, port, create_app(ctx.settings, ctx.runtime), threaded=True)
