"""The `tongban` command: the engine's commands (engine/cli/) and `serve`, which runs this web app.

`serve` lives here, not in the engine, because the engine never imports Flask or Werkzeug
(the import-linter contract in pyproject.toml).
"""

from __future__ import annotations

import signal
from typing import NoReturn

import click
import waitress

from api import create_app
from engine.background import embedded
from engine.cli.failures import CommandFailed
from engine.cli.main import Context, main, pass_ctx

__all__ = ["main"]


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="监听地址 (address to listen on)")
@click.option("--port", default=5000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="同时处理的请求数 (requests served at once)")
@pass_ctx
def serve(ctx: Context, host: str, port: int, threads: int) -> None:
    """运行 Web 服务 (serve the API and pages with waitress, a production WSGI server).

    Embedded (no TONGBAN_BROKER_URL) this process also fires timers, raises SLA notices and mails notice copies;
    nothing else is needed.  Several processes: `gunicorn -w 4 'api:create_app()'`, which does the same in each.
    """
    app = create_app(ctx.settings, ctx.runtime)  # refuses what cannot work (SQLite with a broker, production
    ctx.runtime.db.upgrade()                      # without a secret key) before the schema is touched
    try:
        server = waitress.create_server(app, host=host, port=port, threads=threads)  # a port in use stops it here
    except ValueError as exc:  # waitress's word for a host it cannot resolve or bind
        raise CommandFailed("os_error", f"无法监听 {host}:{port} (cannot listen on {host}:{port}: {exc})") from None
    mode = "scale-out" if ctx.settings.broker_url else "embedded"
    signal.signal(signal.SIGTERM, _interrupt)  # systemd and containers stop it as Ctrl-C does
    click.echo(f"楼宇通办 tongban serving http://{server.effective_host}:{server.effective_port} ({mode}, "
               f"{threads} threads)", err=True)
    try:
        embedded.start(ctx.runtime)  # after the upgrade, so the first sweep finds the tables
        server.run()  # returns on Ctrl-C
    finally:
        embedded.stop_all()  # the sweep in hand finishes; nothing is cut off mid-step
    click.echo("已停止 (stopped)", err=True)


def _interrupt(_signum: int, _frame: object) -> NoReturn:
    raise KeyboardInterrupt
