"""会签 and 或签 as multi-instance user tasks with completion conditions (docs/designing-processes.md,
"Voting patterns"): each instance is a task of its own; the condition, read on the instance just completed,
ends the round and cancels the open instances."""

from __future__ import annotations

import pytest

from engine.runtime.runtime import Runtime
from tests.support.builder import Node, bpmn, end, flows, gateway, props, render, start
from tests.support.steps import begin, inbox, put

VOTE = {"type": "object", "required": ["vote", "opinion"], "properties": {
    "vote": {"x-input": True, "x-decision": True, "type": "string", "title": "表决",
             "oneOf": [{"const": "agree", "title": "同意"}, {"const": "disagree", "title": "不同意"}]},
    "opinion": {"x-opinion": "public", "type": "string", "title": "表决意见"}}}
START = {"type": "object", "properties": {"members": {"type": "array"}}}


def _loop(condition: str | None, sequential: bool = False) -> str:
    cond = f"<bpmn:completionCondition>{condition}</bpmn:completionCondition>" if condition else ""
    return (f'<bpmn:multiInstanceLoopCharacteristics isSequential="{str(sequential).lower()}">'
            "<bpmn:loopDataInputRef>members</bpmn:loopDataInputRef>"
            "<bpmn:loopDataOutputRef>votes</bpmn:loopDataOutputRef>"
            '<bpmn:inputDataItem id="member" name="member" /><bpmn:outputDataItem id="vote" name="vote" />'
            f"{cond}</bpmn:multiInstanceLoopCharacteristics>")


def _deploy(runtime: Runtime, key: str, condition: str | None, passed: str, sequential: bool = False) -> None:
    task = Node("userTask", "ballot", "委员表决", ext=props(formJsonSchemaFilename="t_vote.json"),
                body=_loop(condition, sequential))
    nodes = [start(form="t_members.json"), task, gateway("exclusive", "gw", default="refused"),
             end("agreed", outcome="approved"), end("refused", outcome="refused")]
    edges = flows(("start", "ballot"), ("ballot", "gw"), ("gw", "agreed", passed), ("gw", "refused"))
    put(runtime, key, {"t.bpmn": bpmn(key, render(nodes, edges), {"申请人": ["start"], "窗口人员": ["ballot"]})},
        {"t_vote.json": VOTE, "t_members.json": START})


def _vote(runtime: Runtime, case: int, vote: str) -> str:
    task = inbox(runtime, "window", case)[0]
    return runtime.complete(task.id, {"vote": vote, "opinion": f"{vote} 理由"}, runtime.actor("window")).status


@pytest.mark.parametrize(("votes", "outcome"), [(["agree", "agree", "agree"], "approved"),
                                                (["agree", "disagree"], "refused")])
def test_huiqian_all_must_agree_and_the_first_no_ends_the_round(runtime: Runtime, votes: list[str],
                                                               outcome: str) -> None:
    _deploy(runtime, "t_huiqian", "vote != 'agree'", "all(v == 'agree' for v in votes)")
    case = begin(runtime, "t_huiqian", {"members": ["甲", "乙", "丙"]}).id
    assert len(inbox(runtime, "window", case)) == 3
    for vote in votes:
        status = _vote(runtime, case, vote)
    assert status == "completed" and inbox(runtime, "window", case) == []
    view = runtime.instance(case, runtime.actor("admin"), detail=True)
    assert view.outcome == outcome and len(view.opinions) == len(votes)


def test_huoqian_the_first_to_act_decides_for_all(runtime: Runtime) -> None:
    _deploy(runtime, "t_huoqian", "True", "any(v == 'agree' for v in votes if v)")
    case = begin(runtime, "t_huoqian", {"members": ["甲", "乙", "丙"]}).id
    assert _vote(runtime, case, "agree") == "completed"
    view = runtime.instance(case, runtime.actor("admin"), detail=True)
    assert view.outcome == "approved" and [o["decision"] for o in view.opinions] == ["同意"]

