"""What goes wrong in a command through no fault of the command — the environment, the database, a file — told
as a message (or, with --json, the JSON error object) and exit 1, never a traceback.

Every command runs inside `Commands.invoke`, so a new command gets this without doing anything.  A bug is not
among these: an unexpected exception still shows its traceback, to be reported and fixed.
"""

from __future__ import annotations

import json
import sys
from typing import Any, NoReturn

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError

from engine.base.errors import TongbanError
from engine.base.settings import Settings, SettingsInvalid
from engine.store.db import Database


class CommandFailed(TongbanError):
    """Why a command could not run, with a code a script can test (`settings_invalid`, `database_unreachable`…)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


def report(exc: TongbanError, as_json: bool) -> NoReturn:
    """Print the error as the README promises — a message on stderr, or the JSON object on stdout — and exit 1."""
    if as_json:
        click.echo(json.dumps(exc.to_dict(), ensure_ascii=False, indent=2))
    else:
        click.echo(f"错误 (error): {exc.message}", err=True)
        for path, messages in exc.fields.items():
            for message in messages:
                click.echo(f"  {path}: {message}", err=True)
        for problem in getattr(exc, "problems", []):
            click.echo(f"  {problem}", err=True)
    sys.exit(1)


def explain(exc: Exception) -> TongbanError | None:
    """The message for a failure of the environment; None for anything else (a bug keeps its traceback)."""
    if isinstance(exc, TongbanError):
        return exc
    if isinstance(exc, SettingsInvalid):
        return CommandFailed("settings_invalid", str(exc))
    if isinstance(exc, DBAPIError):
        return _database(exc)
    if isinstance(exc, OSError):
        what = exc.filename or "?"
        return CommandFailed("os_error", f"无法访问 {what} (cannot use {what}: {exc.strerror or exc})"
                             if exc.filename else f"系统错误 (system error): {exc.strerror or exc}")
    return None


def unusable_url(exc: ArgumentError | ImportError) -> CommandFailed:
    """TONGBAN_DATABASE_URL that SQLAlchemy cannot parse, or whose driver is not installed (`mysql://` wants
    MySQLdb; tongban ships SQLite's and PostgreSQL's, psycopg 3)."""
    return CommandFailed("settings_invalid", f"环境变量 TONGBAN_DATABASE_URL 不是可用的数据库地址 "
                         f"(TONGBAN_DATABASE_URL is not a database URL tongban can use, e.g. "
                         f"postgresql+psycopg://user@host:5432/tongban or sqlite:///instance/tongban.db: {exc})")


def _database(exc: DBAPIError) -> CommandFailed:
    """Unreachable, not migrated yet, or something else: the first two are an operator's to fix, and say how."""
    url = Settings.from_env().database_url
    shown = make_url(url).render_as_string(hide_password=True)
    reason = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc.orig).__name__
    if exc.statement is None:  # raised while connecting: nothing was executed
        return CommandFailed("database_unreachable", f"无法连接数据库 {shown}，请检查 TONGBAN_DATABASE_URL 及数据库是否"
                             f"在运行 (cannot reach the database {shown}: {reason}; check TONGBAN_DATABASE_URL "
                             f"and that the server runs)")
    db = Database(url)
    try:
        current = db.schema_is_current()
    except DBAPIError:
        current = True  # the database fails even this: report the original failure below
    finally:
        db.engine.dispose()
    if not current:
        return CommandFailed("schema_outdated", f"数据库 {shown} 尚未建立或结构不是最新：请先运行 tongban db upgrade"
                             f"（或 tongban demo） (the database {shown} has no tables yet or an older schema: run "
                             f"`tongban db upgrade` (or `tongban demo`) first)")
    return CommandFailed("database_error", f"数据库错误 (database error): {reason}")


class Commands(click.Group):
    """The `tongban` group: each command's environment failures become messages (see the module)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta["tongban.json"] = "--json" in args
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if (failure := explain(exc)) is None:
                raise
            report(failure, ctx.meta.get("tongban.json", False))
