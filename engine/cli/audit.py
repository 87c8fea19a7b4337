"""`tongban audit export` — the audit log of accounts as CSV or JSON lines, for administrators and auditors."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime
from typing import IO, Any

import click

from engine.base.errors import FormInvalid
from engine.cli.main import Context, _actor, main, pass_ctx
from engine.people import audit

COLUMNS = ("id", "at", "action", "actor", "subject", "ip", "detail")


@main.group("audit")
def audit_group() -> None:
    """审计日志 (the audit log of logins and account changes)."""


def _instant(value: str | None, name: str) -> datetime | None:
    """An ISO date or time; a date or a time without zone is read in UTC."""
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FormInvalid(f"时间格式无效 (not an ISO date or time: {value!r})", {f"/{name}": ["ISO 8601"]}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@audit_group.command("export")
@click.option("--since", default=None, help="起始（含） (from, inclusive: an ISO date or time, UTC unless it says)")
@click.option("--until", default=None, help="截止（不含） (until, exclusive)")
@click.option("--action", type=click.Choice(audit.ACTIONS), default=None)
@click.option("--user", default=None, help="该用户做的或对该用户做的 (entries by or about this user)")
@click.option("--format", "fmt", type=click.Choice(("csv", "json")), default="csv",
              help="csv, or json: one object per line")
@click.option("--output", "-o", type=click.File("w", encoding="utf-8"), default="-")
@click.option("--as", "acting", default=None, help="以该管理员身份 (as this administrator; default: system)")
@pass_ctx
def audit_export(ctx: Context, since: str | None, until: str | None, action: str | None, user: str | None,
                 fmt: str, output: IO[str], acting: str | None) -> None:
    """导出审计日志，按时间先后 (export the audit log, oldest first)."""
    where = audit.AuditFilter(_instant(since, "since"), _instant(until, "until"), action, user)
    rows = audit.export(ctx.runtime.db, _actor(ctx, acting), where)
    write = _csv(output) if fmt == "csv" else _json_lines(output)
    count = 0
    for row in rows:
        write(row)
        count += 1
    click.echo(f"导出 {count} 条 (exported {count} entries)", err=True)


def _cell(value: Any) -> Any:
    """A spreadsheet runs a cell starting with = + - @ as a formula: an attempted username is attacker's text."""
    return f"'{value}" if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    flat = {**row, "at": row["at"].isoformat(), "detail": json.dumps(row["detail"], ensure_ascii=False)}
    return {key: _cell(value) for key, value in flat.items()}


def _csv(output: IO[str]) -> Any:
    writer = csv.DictWriter(output, COLUMNS)
    writer.writeheader()
    return lambda row: writer.writerow(_plain(row))


def _json_lines(output: IO[str]) -> Any:
    return lambda row: output.write(json.dumps({**row, "at": row["at"].isoformat()}, ensure_ascii=False) + "\n")
