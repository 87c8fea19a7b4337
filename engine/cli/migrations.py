"""`tongban migrate` — 版本迁移: move running cases of a process to a later version (engine/runtime/migration.py)."""

from __future__ import annotations

import sys

import click

from engine.cli.main import Context, as_option, emit, json_option, main, pass_ctx
from engine.runtime.migration import Migration

_OUTCOME = {"would_move": "将迁移 (would move)", "moved": "已迁移 (moved)", "refused": "不能迁移 (refused)",
            "conflict": "未迁移，请重试 (not moved: try again)"}


def _mapping(pairs: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for pair in pairs:
        old, sep, new = pair.partition("=")
        if not sep or not old or not new:
            raise click.BadParameter(f"{pair!r}: 应为 旧环节=新环节 (expected OLD=NEW element ids)", param_hint="--map")
        mapping[old] = new
    return mapping


@main.command()
@click.argument("process")
@click.option("--from", "from_version", type=int, required=True,
              help="办件当前所在版本 (the version the cases are on)")
@click.option("--to", "to_version", type=int, default=None,
              help="目标版本，默认最新 (the later version; default newest)")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW",
              help="环节映射，默认同标识 (map an element to one of the new version; same ids by default)")
@click.option("--case", "cases", multiple=True, help="只迁移这些办件 (only these case numbers; default all running)")
@click.option("--dry-run", is_flag=True,
              help="只列出将发生什么，不迁移 (list what would happen per case; move nothing)")
@as_option
@json_option
@pass_ctx
def migrate(ctx: Context, process: str, from_version: int, to_version: int | None, pairs: tuple[str, ...],
            cases: tuple[str, ...], dry_run: bool, username: str, as_json: bool) -> None:
    """迁移办理中的办件到新版本 (move running cases to a later version; administrators). Every selected case is
    checked first; if one cannot move, none moves (exit 1)."""
    report = ctx.runtime.migrate(process, from_version, to_version, _mapping(pairs), list(cases) or None,
                                 ctx.runtime.actor(username), dry_run=dry_run)
    emit(as_json, report.to_dict(), lambda: _print(report))
    sys.exit(1 if report.refused or any(c.outcome == "conflict" for c in report.cases) else 0)


def _print(report: Migration) -> None:
    click.echo(f"{report.process_key} v{report.from_version} → v{report.to_version}"
               f"{'  (演练 dry run)' if report.dry_run else ''}: {len(report.cases)} 件 (cases)")
    for case in report.cases:
        click.echo(f"{case.case_number}  {_OUTCOME[case.outcome]}")
        for move in case.moves:
            click.echo(f"  {move.element} → {move.to}  ({move.kind}, {move.state})")
        for problem in case.problems:
            click.echo(f"  ✗ {problem}")
