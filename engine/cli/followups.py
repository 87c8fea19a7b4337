"""`tongban cc|copy-read|urge|worklist` — 抄送, 已阅, 催办 and the work lists, as the pages and the API have them."""

from __future__ import annotations

import click

from engine.case.carboncopy import carbon_copy, mark_read
from engine.cli.main import Context, as_option, emit, json_option, main, pass_ctx, reason_option
from engine.definitions.copies import parse
from engine.runtime.urging import urge
from engine.runtime.worklists import ListFilter, WorkList, work_list


@main.command("cc")
@click.argument("instance_id", type=click.IntRange(1))
@click.option("--to", "to", required=True,
              help="抄送对象：角色代码或 user:用户名，逗号分隔 (role codes or user:<name>, comma-separated)")
@click.option("--reason", default=None, help="抄送说明 (why)")
@as_option
@json_option
@pass_ctx
def cc(ctx: Context, instance_id: int, to: str, reason: str | None, username: str, as_json: bool) -> None:
    """抄送办件 (copy a running case to staff or to its own enterprise, to read; as one of its approvers)."""
    wanted, bad = parse(to)
    if bad:
        raise click.BadParameter(f"无法识别 (unreadable): {', '.join(bad)}", param_hint="--to")
    runtime = ctx.runtime
    copied = carbon_copy(runtime.db, instance_id, wanted, reason, runtime.actor(username))
    emit(as_json, {"copied": copied}, lambda: click.echo(f"已抄送 (copied to): {', '.join(copied) or '—'}"))


@main.command("copy-read")
@click.argument("instance_id", type=click.IntRange(1))
@as_option
@json_option
@pass_ctx
def copy_read(ctx: Context, instance_id: int, username: str, as_json: bool) -> None:
    """已阅：将抄送给自己的办件标为已读 (mark one's copy of a case read)."""
    runtime = ctx.runtime
    read_at = mark_read(runtime.db, instance_id, runtime.actor(username))
    emit(as_json, {"read_at": read_at}, lambda: click.echo(f"已阅 (read) {read_at.isoformat() if read_at else ''}"))


@main.command("urge")
@click.argument("task_id")
@reason_option
@as_option
@json_option
@pass_ctx
def urge_command(ctx: Context, task_id: str, reason: str, username: str, as_json: bool) -> None:
    """催办一个待办环节 (urge an open task: the applicant's enterprise or a supervisor; once per working day)."""
    runtime = ctx.runtime
    done = urge(runtime.db, task_id, reason, runtime.actor(username), runtime.settings.timezone)
    emit(as_json, {"task_id": done.task_id, "urges": done.urges, "workday": done.workday.isoformat(),
                   "next_possible": done.next_possible.isoformat(), "notified": done.notified},
         lambda: click.echo(f"已催办 (urged) {done.task_id}: 第 {done.urges} 次 (time {done.urges}), "
                            f"通知 {done.notified} 人 (holders told); 下次可催办 (next possible) "
                            f"{done.next_possible.isoformat()}"))


@main.command("worklist")
@click.argument("which", type=click.Choice([w.value for w in WorkList]))
@click.option("--process", default=None, help="只看该事项 (process key)")
@click.option("--status", default=None, help="办件当前状态 (the case's status now)")
@click.option("--q", "q", default=None, help="办件编号片段 (a case-number fragment)")
@click.option("--unread", is_flag=True, help="抄送我的：只看未阅 (copied: unread only)")
@click.option("--limit", type=click.IntRange(1, 200), default=50)
@as_option
@json_option
@pass_ctx
def worklist(ctx: Context, which: str, process: str | None, status: str | None, q: str | None, unread: bool,
             limit: int, username: str, as_json: bool) -> None:
    """已办 (done)、我发起的 (started)、抄送我的 (copied): the first page, newest first."""
    runtime = ctx.runtime
    items, _ = work_list(runtime.db, runtime.actor(username), WorkList(which),
                         ListFilter(process=process, status=status, q=q, unread=unread), limit=limit)

    def human() -> None:
        for i in items:
            read = "" if which != WorkList.COPIED else (" 已阅 (read)" if i.read_at else " 未阅 (unread)")
            click.echo(f"{i.at.isoformat()}  {i.case.case_number}  {i.case.status}/{i.case.outcome or '—'}  "
                       f"{i.task_name or ', '.join(i.case.current_steps) or '—'}{read}")

    emit(as_json, [i.to_dict() for i in items], human)
