"""Notices to the applicant at each step of its case that concerns it: a document issued to it (受理通知书,
补正告知书, 不予受理/不予备案决定书, 回执 …), a task that is now its own (补正, 补充材料, 好差评, 陈述申辩), the
case's end (办结).  One notice per step, listing what happened, so a step that issues the 补正告知书 and opens
the 补正 task is one message, not two.

Designers control it per element with the `notifyApplicant` property: `false` leaves the element out, any
other text replaces its default line.  The recipients are the applicants of the case's enterprise (as for a
withdrawal's decision, engine/runtime/withdrawal.py), or the person who filed it when no enterprise did.  The
mail copy comes with the notice (engine/case/notifications.py).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from engine.base.notice import Notice
from engine.base.vocabulary import EventKind, InstanceStatus, NoticeKind, OrgKind, Outcome
from engine.case.notifications import raise_notice, send_role_notice
from engine.case.output import StepOutput
from engine.people.access import APPLICANT
from engine.store.models import Document

SILENT = "false"


def lines(conn: Connection, out: StepOutput, by_applicant: bool) -> list[tuple[str, str]]:
    """(zh, en) of each thing this step did that the applicant should hear of, in the order it happened; a task
    its own step handed it (`by_applicant`) is on the page it is looking at, so it is not told of it."""
    custom = out.compiled.applicant_notice_elements
    said: list[tuple[str, str]] = []

    def say(element: str | None, zh: str, en: str) -> None:
        text = custom.get(element or "")
        if text != SILENT:
            said.append((text, text) if text else (zh, en))

    if out.compiled.document_elements:  # only a process that issues documents can have issued one now
        for element, title in conn.execute(select(Document.element_id, Document.title).where(
                Document.instance_id == out.instance_id, Document.issued_at == out.at).order_by(Document.id)):
            say(element, f"已出具《{title}》", f"Issued to you: {title}")
    applicants = {spec.element_id: spec for spec in out.compiled.human_tasks.values()
                  if spec.role is not None and spec.role.org_kind == OrgKind.ENTERPRISE}
    if any(e["kind"] == EventKind.RETURNED for e in out.step.events):
        applicants = {}  # a 退回 tells the holders of the task it reopens itself, with its reason (returns.py)
    for event in out.step.events:
        if event["kind"] == EventKind.TASK_READY and not by_applicant and (
                spec := applicants.get(event.get("element_id") or "")):
            say(spec.element_id, f"请办理：{spec.name}", f"Your turn: {spec.name}")
        elif event["kind"] == EventKind.TERMINATED:  # by an administrator, with the reason it gave
            reason = (event.get("detail") or {}).get("reason")
            say(None, f"办件已被终止办理：{reason}" if reason else "办件已被终止办理",
                f"The case was terminated: {reason}" if reason else "The case was terminated")
        elif event["kind"] == EventKind.ENDED and out.step.status == InstanceStatus.COMPLETED \
                and out.step.outcome != Outcome.WITHDRAWN:  # a withdrawal is the applicant's own act
            say(event.get("element_id"), "办件已办结", "The case is closed")
    return said


def record(conn: Connection, out: StepOutput) -> None:
    """Tell the applicant what this step did that concerns it (a side product, in the step's transaction)."""
    if not out.step.events:
        return
    if not (said := lines(conn, out, out.user_id == out.started_by)):
        return
    zh, en = "；".join(z for z, _ in said), "; ".join(e for _, e in said)
    notice = Notice(NoticeKind.CASE_PROGRESS, f"progress:{out.instance_id}:{out.at.isoformat()}",
                    f"办件 {out.case_number}：{zh}", f"Case {out.case_number}: {en}", out.instance_id)
    if out.enterprise_id is not None:
        send_role_notice(conn, notice, APPLICANT, out.enterprise_id)
    elif out.started_by is not None:
        raise_notice(conn, notice, [out.started_by])
