"""`tongban opinions CASE` and `tongban phrases list|add|remove`: the 审批流水 and a user's 常用意见."""

from __future__ import annotations

import click

from engine.cli.main import Context, as_option, emit, json_option, main, pass_ctx
from engine.people.phrases import add_phrase, delete_phrase, list_phrases


@main.command()
@click.argument("case")
@as_option
@json_option
@pass_ctx
def opinions(ctx: Context, case: str, username: str, as_json: bool) -> None:
    """办件的审批流水 (a case's opinion trail, as USER may read it: an enterprise sees no internal note)."""
    rows = ctx.runtime.opinion_trail(case, ctx.runtime.actor(username))
    emit(as_json, [r.to_dict() for r in rows], lambda: [click.echo(
        f"{i}. {r.at.isoformat()[:19]}  {r.step or r.element_id or '-'}  {r.office or '-'} {r.user or '-'}  "
        f"【{r.decision or '-'}】{r.opinion}{'  (内部 internal)' if r.internal else ''}")
        for i, r in enumerate(rows, 1)])


@main.group()
def phrases() -> None:
    """常用意见 (a user's saved opinion phrases)."""


@phrases.command("list")
@as_option
@json_option
@pass_ctx
def list_command(ctx: Context, username: str, as_json: bool) -> None:
    """列出常用意见 (USER's saved phrases, oldest first)."""
    rows = list_phrases(ctx.runtime.db, ctx.runtime.actor(username))
    emit(as_json, [p.to_dict() for p in rows], lambda: [click.echo(f"{p.id}  {p.text}") for p in rows])


@phrases.command("add")
@click.argument("text")
@as_option
@json_option
@pass_ctx
def add_command(ctx: Context, text: str, username: str, as_json: bool) -> None:
    """保存一条常用意见 (save a phrase for USER; at most 10, 200 characters each)."""
    phrase = add_phrase(ctx.runtime.db, text, ctx.runtime.actor(username))
    emit(as_json, phrase.to_dict(), lambda: click.echo(f"已保存 (saved) {phrase.id}  {phrase.text}"))


@phrases.command("remove")
@click.argument("phrase_id", type=int)
@as_option
@pass_ctx
def remove_command(ctx: Context, phrase_id: int, username: str) -> None:
    """删除一条常用意见 (delete one of USER's phrases; another user's is not found)."""
    delete_phrase(ctx.runtime.db, phrase_id, ctx.runtime.actor(username))
    click.echo(f"已删除 (removed) {phrase_id}")
