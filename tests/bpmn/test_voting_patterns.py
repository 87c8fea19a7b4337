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
START = {"type": "object", "properties": {"members": {"type": ["array", "object"], "additionalProperties": True},
                                        "threshold": {"type": "number"}}}


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



#: 票签: each member's weight (the committee's rules give a chair or a unit more votes), keyed by member: a map as the
#: loop's input makes the collected `votes` a map by the same keys (a list would collect them in the order the
#: members voted, not theirs), and string keys survive the case's JSON state
MEMBERS = {"甲": {"name": "甲", "weight": 3}, "乙": {"name": "乙", "weight": 2}, "丙": {"name": "丙", "weight": 1}}
AGREEING = "sum(members[k]['weight'] for k in votes if votes[k] == 'agree')"
#: a sequential instance's data holds the votes before it (merged when their instances ended) and its own `vote`
RUNNING = f"{AGREEING} + (member['weight'] if vote == 'agree' else 0) >= threshold"


def _vote_as(runtime: Runtime, case: int, member: str, vote: str) -> str:
    """Vote in the instance of `member` (each instance's data holds its member, the loop's input item)."""
    window = runtime.actor("window")
    [task] = [t for t in inbox(runtime, "window", case)
              if runtime.task_detail(t.id, window)["data"]["member"]["name"] == member]
    return runtime.complete(task.id, {"vote": vote, "opinion": f"{member}: {vote}"}, window).status


@pytest.mark.parametrize(("ballots", "outcome"), [
    ([("甲", "agree"), ("乙", "disagree"), ("丙", "agree")], "approved"),  # 3 + 1 = 4 reaches 4
    ([("乙", "agree"), ("甲", "disagree"), ("丙", "agree")], "refused"),  # 2 + 1 = 3 of 6 does not
])
def test_piaoqian_the_agreeing_weight_must_reach_the_threshold(runtime: Runtime, ballots: list[tuple[str, str]],
                                                                outcome: str) -> None:
    _deploy(runtime, "t_piaoqian", None, f"{AGREEING} >= threshold")
    case = begin(runtime, "t_piaoqian", {"members": MEMBERS, "threshold": 4}).id
    assert len(inbox(runtime, "window", case)) == 3  # one instance per member, all open at once
    for member, vote in ballots:
        status = _vote_as(runtime, case, member, vote)
    view = runtime.instance(case, runtime.actor("admin"), detail=True)
    assert status == "completed" and view.outcome == outcome
    assert len(view.opinions) == 3 and view.opinions[0]["opinion"] == f"{ballots[0][0]}: {ballots[0][1]}"


def test_piaoqian_sequential_ends_the_round_once_the_threshold_is_reached(runtime: Runtime) -> None:
    """In a sequential loop the instance's data holds the votes before it and its own: the completion condition
    reads the running total, and the members after the threshold is reached are never asked."""
    _deploy(runtime, "t_piaoqian_seq", RUNNING, f"{AGREEING} >= threshold", sequential=True)
    case = begin(runtime, "t_piaoqian_seq", {"members": MEMBERS, "threshold": 5}).id
    assert len(inbox(runtime, "window", case)) == 1  # one member at a time, in the list's order
    assert _vote_as(runtime, case, "甲", "agree") == "running"
    assert _vote_as(runtime, case, "乙", "agree") == "completed"  # 3 + 2 = 5: 丙 is not asked
    view = runtime.instance(case, runtime.actor("admin"), detail=True)
    assert view.outcome == "approved" and [o["opinion"] for o in view.opinions] == ["甲: agree", "乙: agree"]


def test_piaoqian_sequential_refuses_when_the_weight_left_cannot_reach_it(runtime: Runtime) -> None:
    _deploy(runtime, "t_piaoqian_out", RUNNING, f"{AGREEING} >= threshold", sequential=True)
    case = begin(runtime, "t_piaoqian_out", {"members": MEMBERS, "threshold": 5}).id
    _vote_as(runtime, case, "甲", "disagree")  # 3 lost: 2 + 1 cannot reach 5, but each member still votes
    _vote_as(runtime, case, "乙", "agree")
    assert _vote_as(runtime, case, "丙", "agree") == "completed"
    assert runtime.instance(case, runtime.actor("admin")).outcome == "refused"
