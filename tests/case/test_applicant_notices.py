"""The applicant hears of every step of its ZZS case that concerns it (engine/case/applicantnotices.py): the
补正告知, the 补正 task, 受理, the 退回补正 and its 补充材料 task, the 回执 with the rating request, a
termination — one notice per step, in-app and queued for mail; another enterprise hears nothing, and a
designer's `notifyApplicant` silences or rewords an element."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO
from typing import Any

from sqlalchemy import select, update

from engine.base import clock
from engine.base.vocabulary import MailState, NoticeKind
from engine.case.attachments import add_draft
from engine.case.notifications import list_notifications
from engine.runtime.runtime import Runtime
from engine.store.models import Notification, User
from tests.support.builder import bpmn, end, flows, render, start, user
from tests.support.shipped import at_approval
from tests.support.steps import begin, put
from tests.support.uploads import PDF
from tests.support.zzs import APPLICATION, CONSENT, SITE


def _complete(runtime: Runtime, case: int, element: str, username: str, data: dict[str, Any]) -> None:
    [task] = [t for t in runtime.instance(case, runtime.actor("admin")).open_tasks if t.element_id == element]
    runtime.complete(task.id, data, runtime.actor(username))


def _progress(runtime: Runtime, username: str) -> list[str]:
    items, _ = list_notifications(runtime.db, runtime.actor(username), limit=100)
    return [n["text"]["zh"] for n in reversed(items) if n["kind"] == NoticeKind.CASE_PROGRESS]


def _filed(runtime: Runtime) -> tuple[int, str]:
    """A ZZS case filed by haiyun: (case id, the id of its consent sheet)."""
    clock.travel(datetime.fromisoformat("2026-03-02T09:00:00+08:00") - clock.now())
    applicant = runtime.actor("haiyun")
    sheet = add_draft(runtime.db, runtime.blobs, BytesIO(PDF), "业主同意书.pdf", "application/pdf", applicant)
    return runtime.start("zzs_prereg", {**APPLICATION, "consent_sheet": str(sheet.id)}, applicant).id, str(sheet.id)


def test_the_applicant_is_told_each_step_and_another_enterprise_nothing(runtime: Runtime) -> None:
    with runtime.db.write() as session:  # the mail copy: queued for a user with an address
        session.execute(update(User).where(User.username == "haiyun").values(email="haiyun@example.cn"))
    case, sheet = _filed(runtime)
    assert _progress(runtime, "haiyun") == []  # filing is its own act: nothing to tell
    _complete(runtime, case, "precheck", "window", {"precheck_result": "correction", "precheck_opinion": "缺件",
                                                    "correction_items": ["租赁合同未加盖出租人签章"]})
    told = _progress(runtime, "haiyun")
    assert len(told) == 1 and "补正告知书" in told[0] and "请办理：补正后重新提交" in told[0]
    _complete(runtime, case, "resubmit", "haiyun", {**APPLICATION, "consent_sheet": sheet})
    assert len(_progress(runtime, "haiyun")) == 1  # its own resubmission: nothing new
    _complete(runtime, case, "precheck", "window", {"precheck_result": "accept", "precheck_opinion": "予以受理",
                                                    "structure_change_confirmed": False,
                                                    "crowded_place_confirmed": False})
    assert "受理通知书" in _progress(runtime, "haiyun")[-1]
    _complete(runtime, case, "site_check", "street_xgzl", SITE)
    _complete(runtime, case, "consent_check", "street_xgzl", CONSENT)
    assert len(_progress(runtime, "haiyun")) == 2  # the street's checks are not the applicant's business
    with runtime.db.read() as session:
        rows = session.scalars(select(Notification).where(Notification.kind == NoticeKind.CASE_PROGRESS)).all()
        assert {r.mail_state for r in rows} == {MailState.PENDING} and all(r.instance_id == case for r in rows)
    assert _progress(runtime, "fushan") == [] and _progress(runtime, "window") == []


def _checked(runtime: Runtime) -> int:
    """A ZZS case accepted and checked, waiting for the decision."""
    case, _ = _filed(runtime)
    _complete(runtime, case, "precheck", "window", {"precheck_result": "accept", "precheck_opinion": "予以受理",
                                                    "structure_change_confirmed": False,
                                                    "crowded_place_confirmed": False})
    _complete(runtime, case, "site_check", "street_xgzl", SITE)
    _complete(runtime, case, "consent_check", "street_xgzl", CONSENT)
    return case


def test_a_return_asks_the_applicant_for_its_supplement_and_a_termination_is_told(runtime: Runtime) -> None:
    case = _checked(runtime)
    _complete(runtime, case, "decide", "window", {"decision": "return", "decision_opinion": "请补充租赁备案证明",
                                                  "return_items": ["租赁备案证明"]})
    assert "请办理：补充材料" in _progress(runtime, "haiyun")[-1]
    runtime.terminate(case, runtime.actor("admin"), "申请人已另行办理")
    assert _progress(runtime, "haiyun")[-1].endswith("办件已被终止办理：申请人已另行办理")
    assert _progress(runtime, "fushan") == []


def test_the_decision_and_the_rating_request_come_in_one_notice(runtime: Runtime) -> None:
    case = _checked(runtime)
    _complete(runtime, case, "decide", "window", {"decision": "approve", "decision_opinion": "同意备案"})
    decided = _progress(runtime, "haiyun")[-1]
    assert "回执" in decided and "请办理：好差评" in decided
    assert _progress(runtime, "fushan") == []


def _designed(runtime: Runtime) -> None:
    """The window reviews; then two tasks of the applicant's: the first reworded by its designer, the second
    silenced."""
    nodes = [start(form="open.json"), user("review", "审查", "open.json"),
             user("fix", "补正", "open.json", notifyApplicant="请在三日内补正营业执照"),
             user("check", "复核", "open.json"), user("confirm", "确认", "open.json", notifyApplicant="false"),
             end(outcome="approved")]
    body = render(nodes, flows(("start", "review"), ("review", "fix"), ("fix", "check"), ("check", "confirm"),
                               ("confirm", "end")))
    put(runtime, "t_told", {"t_told.bpmn": bpmn("t_told", body, {"申请人": ["start", "fix", "confirm"],
                                                                 "窗口人员": ["review", "check"]})},
        {"open.json": {"type": "object"}})


def test_a_designer_rewords_or_silences_an_element(runtime: Runtime) -> None:
    _designed(runtime)
    case = begin(runtime, "t_told")
    assert _progress(runtime, "haiyun") == []
    _complete(runtime, case.id, "review", "window", {})
    assert _progress(runtime, "haiyun") == [f"办件 {case.case_number}：请在三日内补正营业执照"]
    _complete(runtime, case.id, "fix", "haiyun", {})
    _complete(runtime, case.id, "check", "window", {})
    assert len(_progress(runtime, "haiyun")) == 1  # confirm is silenced
    _complete(runtime, case.id, "confirm", "haiyun", {})
    assert _progress(runtime, "haiyun")[-1] == f"办件 {case.case_number}：办件已办结"
    assert len(_progress(runtime, "haiyun")) == 2


def test_a_return_to_the_applicants_step_is_told_once(runtime: Runtime) -> None:
    case, approve = at_approval(runtime)
    runtime.send_back(approve, "submit", "联系电话有误，请核对", runtime.actor("window"))
    items, _ = list_notifications(runtime.db, runtime.actor("haiyun"), limit=100)
    assert [n["kind"] for n in items] == [NoticeKind.CASE_RETURNED] and "联系电话有误" in items[0]["text"]["zh"]
    assert all(n["instance_id"] == case for n in items)
