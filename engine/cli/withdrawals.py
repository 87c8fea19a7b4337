"""`tongban withdraw|withdrawal-decide|return-targets|return` — 撤回 and 退回 from the command line."""

from __future__ import annotations

import click

from engine.cli.main import Context, _print_instance, as_option, emit, json_option, main, pass_ctx, reason_option


@main.command()
@click.argument("case")
@reason_option
@as_option
@json_option
@pass_ctx
def withdraw(ctx: Context, case: str, reason: str, username: str, as_json: bool) -> None:
    """撤回办件；已受理的办件为申请撤回，由办理部门决定 (withdraw a case; once accepted, ask the office to)."""
    view, withdrawn = ctx.runtime.withdraw(case, reason, ctx.runtime.actor(username))
    said = "已撤回 (withdrawn)" if withdrawn else "已申请撤回，等待办理部门决定 (requested; the office decides)"
    emit(as_json, {"withdrawn": withdrawn, "instance": view.to_dict()}, lambda: (click.echo(said),
                                                                                 _print_instance(view)))


@main.command("withdrawal-decide")
@click.argument("case")
@click.option("--grant/--refuse", required=True, help="同意撤回或不同意 (grant the request or refuse it)")
@click.option("--reason", default="", help="意见；不同意时必填 (the office's opinion; required to refuse)")
@as_option
@json_option
@pass_ctx
def withdrawal_decide(ctx: Context, case: str, grant: bool, reason: str, username: str, as_json: bool) -> None:
    """决定撤回申请 (the office holding the case decides the applicant's request to withdraw)."""
    view = ctx.runtime.decide_withdrawal(case, grant, reason, ctx.runtime.actor(username))
    emit(as_json, view.to_dict(), lambda: _print_instance(view))


@main.command("return-targets")
@click.argument("task_id")
@as_option
@json_option
@pass_ctx
def return_targets(ctx: Context, task_id: str, username: str, as_json: bool) -> None:
    """可退回的环节 (the earlier steps the task may send its case back to, nearest first)."""
    found = ctx.runtime.return_targets(task_id, ctx.runtime.actor(username))
    emit(as_json, [t.to_dict() for t in found], lambda: [click.echo(
        f"{t.element_id}  {t.name}  [{t.role or '-'}]") for t in found] or click.echo("无 (none)"))


@main.command("return")
@click.argument("task_id")
@click.option("--to", "target", required=True, help="退回到的环节 (element id; see `tongban return-targets`)")
@reason_option
@as_option
@json_option
@pass_ctx
def send_back(ctx: Context, task_id: str, target: str, reason: str, username: str, as_json: bool) -> None:
    """退回：将办件退回到此前经过的环节 (return the task's case to an earlier step it passed)."""
    view = ctx.runtime.send_back(task_id, target, reason, ctx.runtime.actor(username))
    emit(as_json, view.to_dict(), lambda: _print_instance(view))
