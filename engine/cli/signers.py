"""`tongban signers …` and `tongban entrust …` — 加签 / 减签 / 签署 / 主管批准 and 委派 from the command line."""

from __future__ import annotations

from typing import Any

import click

from engine.base.vocabulary import SignerKind
from engine.cli.main import Context, as_option, emit, json_option, main, pass_ctx, read_data, reason_option
from engine.runtime import signers as ops

_STATE = {"proposed": "待批准 (proposed)", "waiting": "待轮到 (waiting)", "pending": "待签署 (pending)",
          "agreed": "同意 (agreed)", "disagreed": "不同意 (disagreed)", "returned": "已交回 (returned)",
          "removed": "已减签 (removed)", "rejected": "未获批准 (rejected)",
          "cancelled": "任务已取消 (cancelled)"}
optional_reason = click.option("--reason", default=None, help="原因，不批准时必填 (why; required to refuse)")


def _print(record: dict[str, Any]) -> None:
    for s in record["signers"] + record["delegations"]:
        click.echo(f"#{s['id']:<5} {s['kind']:8} {s['user']:16} {_STATE.get(s['state'], s['state'])}"
                   + (f"  {s['opinion']}" if s["opinion"] else ""))
    if record["held"]:
        click.echo("已提交，等待后加签人签署 (submitted: waiting for the after-signers)")
    if record["dissent"]:
        click.echo(f"会签人不同意，须其同意后才能办理 (disagreed, all must agree): {', '.join(record['dissent'])}")


@main.group()
def signers() -> None:
    """加签与减签 (co-signers on a task: add, remove, sign, approve)."""


@signers.command("show")
@click.argument("task_id")
@as_option
@json_option
@pass_ctx
def show(ctx: Context, task_id: str, username: str, as_json: bool) -> None:
    """任务的加签人及意见 (the task's co-signers, delegates and their opinions)."""
    record = ops.signing(ctx.runtime.db, task_id, ctx.runtime.actor(username))
    emit(as_json, record, lambda: _print(record))


@signers.command("add")
@click.argument("task_id")
@click.argument("users", nargs=-1, required=True)
@click.option("--after", is_flag=True, help="后加签：办理人提交后依次签署 (sign after the holder, in order)")
@click.option("--ask-approval", is_flag=True, help="办理范围外的人员，申请主管批准 (ask a supervisor for outsiders)")
@reason_option
@as_option
@json_option
@pass_ctx
def add(ctx: Context, task_id: str, users: tuple[str, ...], after: bool, ask_approval: bool, reason: str,
        username: str, as_json: bool) -> None:
    """加签 (add co-signers: before the holder completes, all must agree; or --after)."""
    kind = SignerKind.AFTER if after else SignerKind.BEFORE
    record = ops.add_signers(ctx.runtime.db, task_id, list(users), kind, reason, ctx.runtime.actor(username),
                             ask_approval)
    emit(as_json, record, lambda: _print(record))


@signers.command("remove")
@click.argument("task_id")
@click.argument("signer_id", type=int)
@reason_option
@as_option
@json_option
@pass_ctx
def remove(ctx: Context, task_id: str, signer_id: int, reason: str, username: str, as_json: bool) -> None:
    """减签 (remove a co-signer who has not signed)."""
    record = ops.remove_signer(ctx.runtime, task_id, signer_id, reason, ctx.runtime.actor(username))
    emit(as_json, record, lambda: _print(record))


@signers.command("sign")
@click.argument("task_id")
@click.option("--disagree", is_flag=True, help="不同意 (disagree; default: agree)")
@click.option("--opinion", required=True, help="意见 (the opinion text)")
@as_option
@json_option
@pass_ctx
def sign(ctx: Context, task_id: str, disagree: bool, opinion: str, username: str, as_json: bool) -> None:
    """签署加签意见 (give a co-signer's opinion)."""
    record = ops.sign(ctx.runtime, task_id, "disagree" if disagree else "agree", opinion,
                      ctx.runtime.actor(username))
    emit(as_json, record, lambda: _print(record))


@signers.command("proposals")
@as_option
@json_option
@pass_ctx
def proposals(ctx: Context, username: str, as_json: bool) -> None:
    """待主管批准的加签人 (outside co-signers waiting for a supervisor)."""
    rows = ops.proposals(ctx.runtime.db, ctx.runtime.actor(username))
    emit(as_json, rows, lambda: [click.echo(f"#{r['id']:<5} {r['case_number']}  {r['user']}  ← {r['added_by']}"
                                            + (f"  {r['reason']}" if r["reason"] else "")) for r in rows])


@signers.command("decide")
@click.argument("signer_id", type=int)
@click.option("--refuse", is_flag=True, help="不批准 (refuse; default: approve)")
@optional_reason
@as_option
@json_option
@pass_ctx
def decide(ctx: Context, signer_id: int, refuse: bool, reason: str | None, username: str, as_json: bool) -> None:
    """批准或拒绝办理范围外的加签人 (a supervisor approves or refuses an outside co-signer)."""
    row = ops.decide(ctx.runtime.db, signer_id, not refuse, reason, ctx.runtime.actor(username))
    emit(as_json, row, lambda: click.echo(f"#{row['id']} {row['user']}: {_STATE[row['state']]}"))


@main.group()
def entrust() -> None:
    """委派 (entrust a task to a colleague and have it back, unlike 转办 which hands it over)."""


@entrust.command("to")
@click.argument("task_id")
@click.argument("user")
@reason_option
@as_option
@pass_ctx
def entrust_to(ctx: Context, task_id: str, user: str, reason: str, username: str) -> None:
    """委派给同岗同事 (entrust the task to a colleague with its role; it comes back to you)."""
    ops.entrust(ctx.runtime.db, task_id, user, reason, ctx.runtime.actor(username))
    click.echo(f"已委派给 (entrusted to) {user}")


@entrust.command("return")
@click.argument("task_id")
@click.option("--data", "data", default="{}", help="表单数据，JSON 或文件 (the form's data: inline JSON or a file)")
@click.option("--opinion", default="", help="意见 (an opinion)")
@as_option
@pass_ctx
def entrust_return(ctx: Context, task_id: str, data: str, opinion: str, username: str) -> None:
    """受托人交回任务 (the delegate gives the task back, with the form filled in and/or an opinion)."""
    ops.give_back(ctx.runtime, task_id, read_data(data), opinion, ctx.runtime.actor(username))
    click.echo("已交回委派人 (given back to the delegator)")
