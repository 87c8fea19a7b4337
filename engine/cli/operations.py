"""`tongban retention|backup|restore` — the operator's upkeep commands."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from engine.background import retention as retention_job
from engine.cli.main import Context, emit, json_option, main, pass_ctx
from engine.store import backup as backups


@main.command()
@click.option("--dry-run", is_flag=True, help="只列出将删除的内容 (list what would be removed; remove nothing)")
@json_option
@pass_ctx
def retention(ctx: Context, dry_run: bool, as_json: bool) -> None:
    """清理过期数据：过期令牌、未使用的草稿附件、无主文件 (delete expired tokens, unbound drafts and orphan blobs).

    Runs hourly inside `tongban serve` and from the beat; a case's files, documents and history are never touched.
    """
    removed = retention_job.run(ctx.runtime, dry_run=dry_run)
    emit(as_json, removed.to_dict(), lambda: _print(removed))


def _print(removed: retention_job.Removed) -> None:
    verb = "将删除 (would remove)" if removed.dry_run else "已删除 (removed)"
    click.echo(f"{verb}: {removed.tokens} 个过期或已撤销的令牌 (expired or revoked tokens)")
    click.echo(f"{verb}: {len(removed.drafts)} 个未使用的草稿附件 (unbound draft uploads)"
               + (f": {', '.join(map(str, removed.drafts))}" if removed.drafts else ""))
    click.echo(f"{verb}: {len(removed.blobs)} 个无主文件 (orphan blobs)")
    for sha256 in removed.blobs:
        click.echo(f"  {sha256}")
    click.echo(f"{verb}: {len(removed.spool)} 个中断上传的临时文件 (spool files of unfinished uploads)")
    for name in removed.spool:
        click.echo(f"  {name}")


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@json_option
@pass_ctx
def backup(ctx: Context, path: Path, as_json: bool) -> None:
    """备份数据库、附件和密钥到一个文件 (back up the SQLite database, the files it names and the key to PATH).

    Safe while `tongban serve` runs: the database is read as one consistent snapshot. PostgreSQL: see
    docs/operations.md (pg_dump).
    """
    summary = _file_errors_as_messages(lambda: backups.backup(ctx.settings, path), path)
    emit(as_json, summary.to_dict(), lambda: click.echo(
        f"已备份 (backed up) {summary.files} 个文件 (files), {summary.bytes} 字节 (bytes), 数据库结构 (schema) "
        f"{summary.schema_revision}, 密钥 (secret key) {'有 (included)' if summary.secret_key else '无 (none)'} "
        f"→ {path}"))
    if summary.missing:
        click.echo(f"警告 (warning): 数据库引用的 {len(summary.missing)} 个文件在存储中缺失 ({len(summary.missing)} "
                   f"files the database names are missing from storage): {', '.join(summary.missing)}", err=True)
        sys.exit(1)


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--replace", is_flag=True, help="移开现有数据库和密钥后恢复 (move the existing database and key aside)")
@json_option
@pass_ctx
def restore(ctx: Context, path: Path, replace: bool, as_json: bool) -> None:
    """从备份恢复（先停止服务） (restore a backup into this instance; stop the server first)."""
    summary = _file_errors_as_messages(lambda: backups.restore(ctx.settings, path, replace=replace), path)
    emit(as_json, summary.to_dict(), lambda: click.echo(
        f"已恢复 (restored) {summary.files} 个文件 (files), 数据库结构 (schema) {summary.schema_revision} "
        f"(备份于 backed up at {summary.created_at}), 已升级到最新 (upgraded to this release)"))


def _file_errors_as_messages(work: Callable[[], backups.Summary], path: Path) -> backups.Summary:
    """A folder that cannot be written, a full disk: said in a sentence, never a traceback."""
    try:
        return work()
    except OSError as exc:
        raise backups.BackupRefused(f"文件读写失败 (cannot read or write {exc.filename or path}: "
                                    f"{exc.strerror or exc})") from None
