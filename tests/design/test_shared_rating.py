"""好差评 for every service: the shared called process `case_rating` (processes/shared/rating.bpmn), as a
service calls it once the applicant has the decision — rated, not rated within the period, and a poor rating
opening a follow-up due within one working day."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from engine.base import clock
from engine.base.errors import FormInvalid
from engine.bpmn.scripting import workdays_after
from engine.runtime.runtime import Runtime
from tests.support.builder import Node, bpmn, flows, props, render, start, user
from tests.support.repo import REPO
from tests.support.steps import begin, do, only_task, put
from tests.support.workspaces import OPEN

SHARED = {"processes/shared/rating.bpmn": (REPO / "processes/shared/rating.bpmn").read_bytes()}
SHARED.update({f"forms/{n}": (REPO / "forms" / n).read_bytes()
               for n in ("case_rating.json", "case_rating.ui.json", "case_follow_up.json", "case_follow_up.ui.json")})


def _service(runtime: Runtime) -> int:
    """decide → rating (call) → end: a case of a service whose decision has been delivered."""
    nodes = [start(), user("decide", "决定", "open.json"),
             Node("callActivity", "rating", "好差评", attrs='calledElement="case_rating"'),
             Node("endEvent", "end", ext=props(outcome="approved"))]
    edges = flows(("start", "decide"), ("decide", "rating"), ("rating", "end"))
    put(runtime, "t_rated", {"p.bpmn": bpmn("t_rated", render(nodes, edges),
                                            {"申请人": ["start", "rating", "end"], "窗口人员": ["decide"]})},
        {"open.json": OPEN}, extra=SHARED)
    view = begin(runtime, "t_rated")
    do(runtime, "window", view.id, "decide", {})
    return view.id


def test_a_satisfied_rating_ends_the_case(runtime: Runtime) -> None:
    case = _service(runtime)
    rate = only_task(runtime, "haiyun", case)
    assert (rate.element_id, rate.role) == ("case_rate", "applicant")
    assert rate.due_at is not None  # the applicant sees until when
    view = runtime.complete(rate.id, {"rating": "满意"}, runtime.actor("haiyun"))
    assert view.status == "completed" and view.outcome == "approved"
    data = runtime.instance(case, runtime.actor("window"), detail=True).data
    assert (data["rating"], data["rated"]) == ("满意", True)


def test_a_poor_rating_needs_a_reason_and_opens_a_follow_up_within_one_working_day(runtime: Runtime) -> None:
    case = _service(runtime)
    rate = only_task(runtime, "haiyun", case)
    with pytest.raises(FormInvalid) as refused:
        runtime.complete(rate.id, {"rating": "不满意"}, runtime.actor("haiyun"))
    assert "/rating_comment" in refused.value.fields
    with pytest.raises(FormInvalid):
        runtime.complete(rate.id, {"rating": "一般"}, runtime.actor("haiyun"))  # not one of the five levels
    poor = {"rating": "非常不满意", "rating_comment": "窗口要求重复提交材料"}
    runtime.complete(rate.id, poor, runtime.actor("haiyun"))
    follow = only_task(runtime, "huifang", case)
    assert (follow.element_id, follow.role, follow.org) == ("case_follow_up", "rating_followup", "xzsp")
    rated_at = runtime.instance(case, runtime.actor("window"), detail=True).data["rated_at"]
    assert follow.due_at == datetime.fromisoformat(workdays_after(rated_at, 1))  # one working day after
    view = do(runtime, "huifang", case, "case_follow_up", {"follow_up_note": "已电话联系企业负责人，说明材料要求",
                                                          "follow_up_resolved": True})
    assert view.status == "completed"


def test_not_rated_within_the_period_is_recorded_as_not_rated(runtime: Runtime) -> None:
    case = _service(runtime)
    clock.travel(timedelta(days=9))  # 9 calendar days: fewer than 10 working days
    assert runtime.advance(case).status == "running"
    clock.travel(timedelta(days=10))  # now well past 10 working days
    view = runtime.advance(case)
    assert view.status == "completed"
    data = runtime.instance(case, runtime.actor("window"), detail=True).data
    assert (data["rating"], data["rated"]) == ("未评价", False)
