"""审批意见: a decision without its opinion is refused; the 审批流水 is read from the event log, scoped by who reads
it (the enterprise never sees internal review notes, in the trail, the data or the field history); decision
documents print the public trail; a bad opinion mark is a form load error."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.base.clock import now
from engine.base.errors import FormInvalid
from engine.base.vocabulary import EventKind
from engine.case.opinions import MAX_OPINION, WITHHELD
from engine.definitions.forms import load_form
from engine.runtime.runtime import Runtime
from engine.store.models import Document, Event
from tests.support.opinions import decided, deploy_two_decisions
from tests.support.steps import begin, do


@pytest.fixture
def runtime(runtime: Runtime) -> Runtime:
    deploy_two_decisions(runtime)
    return runtime


@pytest.mark.parametrize("opinion", [None, "", "   ", "\u3000\u200b\n", "x" * (MAX_OPINION + 1)])
def test_a_decision_without_a_usable_opinion_is_refused_at_its_field_and_nothing_is_written(
        runtime: Runtime, opinion: str | None) -> None:
    case = begin(runtime, "t_opinions", {"title": "三楼办公"})
    review = {"result": "pass"} | ({} if opinion is None else {"opinion": opinion})
    with pytest.raises(FormInvalid) as refused:
        do(runtime, "street", case.id, "review", {"review": review})
    assert list(refused.value.fields) == ["/review/opinion"]
    view = runtime.instance(case.id, runtime.actor("admin"), detail=True)
    assert [t.element_id for t in view.open_tasks] == ["review"]  # still waiting: nothing of the step was written
    assert view.opinions == [] and "review" not in (view.data or {})


def test_the_trail_tells_who_which_office_when_which_step_what_was_decided_and_the_opinion(runtime: Runtime) -> None:
    case = decided(runtime)
    rows = runtime.opinion_trail(case.id, runtime.actor("window"))
    assert [(r.step, r.office, r.decision, r.opinion, r.internal) for r in rows] == [
        ("街道现场核查", "八大峡街道", "符合", "现场与申报一致，楼道狭窄", True),
        ("窗口决定", "市南区行政审批服务局", "同意备案：是 (yes)", "材料齐全，同意备案", False)]
    assert all(r.user and r.kind == EventKind.TASK_COMPLETED for r in rows)
    assert rows[0].at <= rows[1].at <= now()


def test_the_enterprise_reads_the_public_opinions_of_its_case_but_no_internal_note_anywhere(runtime: Runtime) -> None:
    case = decided(runtime)
    own = runtime.actor("haiyun")
    assert [r.opinion for r in runtime.opinion_trail(case.id, own)] == ["材料齐全，同意备案"]
    view = runtime.instance(case.id, own, detail=True)
    assert [o["opinion"] for o in view.opinions] == ["材料齐全，同意备案"]
    assert view.data["review"] == {"result": "pass", "opinion": WITHHELD}
    told = repr(view.history) + repr(view.events) + repr(view.data)
    assert "楼道狭窄" not in told
    staff = runtime.instance(case.id, runtime.actor("window"), detail=True)
    assert staff.data["review"]["opinion"] == "现场与申报一致，楼道狭窄"
    assert any("楼道狭窄" in repr(row) for row in staff.history)
    assert all("opinion" not in (e["detail"] or {}) for e in staff.events)  # told by the trail, not twice


def test_another_enterprise_gets_not_found(runtime: Runtime) -> None:
    from engine.base.errors import NotFound
    case = decided(runtime)
    with pytest.raises(NotFound):
        runtime.opinion_trail(case.id, runtime.actor("fushan"))


def test_the_decision_document_prints_the_public_trail_and_not_the_internal_note(runtime: Runtime) -> None:
    case = decided(runtime)
    with runtime.db.read() as session:
        [text] = session.scalars(select(Document.text).where(Document.instance_id == case.id)).all()
    assert "附：审批流水（办理意见）" in text and "材料齐全，同意备案" in text and "【同意备案：是 (yes)】" in text
    assert "窗口决定（市南区行政审批服务局，" in text
    assert "楼道狭窄" not in text


def test_an_other_operations_event_with_an_opinion_joins_the_trail(runtime: Runtime) -> None:
    """The shape withdraw/return/add-signer use: detail.opinion, detail.decision, detail.internal."""
    case = decided(runtime)
    with runtime.db.write() as session:
        session.add(Event(instance_id=case.id, at=now(), kind="returned", element_id="decide",
                          user_id=runtime.actor("window").id,
                          detail={"opinion": "请补充租赁合同", "decision": "退回 (returned)"}))
        session.add(Event(instance_id=case.id, at=now(), kind="cosigned", user_id=runtime.actor("window").id,
                          detail={"opinion": "内部会商意见", "internal": True}))
    public = runtime.opinion_trail(case.id, runtime.actor("haiyun"))
    assert [(r.kind, r.decision, r.opinion) for r in public][-1] == ("returned", "退回 (returned)", "请补充租赁合同")
    assert "内部会商意见" in [r.opinion for r in runtime.opinion_trail(case.id, runtime.actor("window"))]
    assert "内部会商意见" not in [r.opinion for r in public]


@pytest.mark.parametrize(("schema", "says"), [
    ({"properties": {"o": {"x-opinion": "public", "type": "integer"}}}, "writable string"),
    ({"properties": {"o": {"x-opinion": "public", "type": "string", "readOnly": True}}}, "writable string"),
    ({"properties": {"o": {"x-opinion": "secret", "type": "string"}}}, "public, internal"),
    ({"properties": {"a": {"x-opinion": "public", "type": "string"}, "b": {"x-opinion": "public", "type": "string"}}},
     "one x-opinion"),
    ({"properties": {"d": {"x-decision": True, "type": "boolean"}}}, "needs an opinion field"),
])
def test_a_mark_that_cannot_work_is_the_form_s_load_error(schema: dict, says: str) -> None:
    import json
    with pytest.raises(ValueError, match=says):
        load_form("bad.json", json.dumps({"type": "object", **schema}).encode())


def test_every_shipped_decision_form_declares_where_its_opinion_is() -> None:
    """The shipped processes' decisions (acceptance, reviews, decisions) all carry an opinion."""
    import json

    from engine.definitions.opinionfields import decision_fields
    from tests.support.repo import REPO
    marks = {p.name: decision_fields(p.name, json.loads(p.read_text())) for p in (REPO / "forms").glob("*.json")
             if not p.name.endswith(".ui.json")}
    assert {"zzs_precheck.json", "zzs_decide.json", "zzs_site_check.json", "yyyz_precheck.json",
            "yyyz_review_food.json", "lyjj_formal_check.json", "lyjj_street_decision.json"} <= {
        name for name, m in marks.items() if m is not None}
    site = marks["zzs_site_check.json"]
    assert site is not None and site.internal and site.opinion == "/site_check/opinion"
    decide = marks["zzs_decide.json"]
    assert decide is not None and not decide.internal and decide.label("refuse") == "不予备案"
