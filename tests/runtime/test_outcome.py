"""A case's outcome (approved, refused, …): set by the element that decides, overridden by a later decision,
recorded in the history, `terminated` for an administrator's termination — and the lint that every way a
startable process ends sets one."""

from __future__ import annotations

from sqlalchemy import select

from engine.base.vocabulary import EventKind, InstanceStatus, Outcome
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from engine.store.models import Event, Instance
from tests.support.builder import Node, bpmn, flows, gateway, props, render, start, user
from tests.support.steps import begin, do, put
from tests.support.workspaces import OPEN, workspace

LANES = {"申请人": ["start", "apply", "end_refused"], "窗口人员": ["decide", "issue", "gw", "revoke", "end_done"]}


def _process(issue_outcome: str = "approved") -> str:
    """apply → decide → (refuse: end_refused | approve: issue [outcome] → revoke? → end_done)."""
    nodes = [
        start(), user("apply", "申请", "open.json"), user("decide", "决定", "open.json"),
        gateway("exclusive", "gw", default="issue"),
        Node("endEvent", "end_refused", "不予", ext=props(outcome="refused")),
        Node("scriptTask", "issue", "出证", ext=props(outcome=issue_outcome),
             body="<bpmn:script>issued = True</bpmn:script>"),
        user("revoke", "撤销核查", "open.json"),
        Node("endEvent", "end_done", "结束", ext=props(outcome="revoked")),
    ]
    edges = flows(("start", "apply"), ("apply", "decide"), ("decide", "gw"), ("gw", "end_refused", "not ok"),
                  ("gw", "issue"), ("issue", "revoke"), ("revoke", "end_done"))
    return bpmn("t_outcome", render(nodes, edges), LANES)


def _outcome_events(runtime: Runtime, instance: int) -> list[dict]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Event.detail).where(Event.instance_id == instance,
                                                               Event.kind == EventKind.OUTCOME_SET)))


def test_the_deciding_element_sets_the_outcome_and_a_later_one_overrides_it(runtime: Runtime) -> None:
    put(runtime, "t_outcome", {"p.bpmn": _process()}, {"open.json": OPEN})
    view = begin(runtime, "t_outcome")
    assert view.outcome is None  # nothing decided yet
    do(runtime, "haiyun", view.id, "apply", {})
    view = do(runtime, "window", view.id, "decide", {"ok": True})
    assert (view.status, view.outcome) == (InstanceStatus.RUNNING, Outcome.APPROVED)  # approved, still running
    view = do(runtime, "window", view.id, "revoke", {})
    assert (view.status, view.outcome) == (InstanceStatus.COMPLETED, Outcome.REVOKED)
    assert runtime.instance(view.id, runtime.actor("haiyun")).outcome == Outcome.REVOKED
    assert _outcome_events(runtime, view.id) == [{"outcome": "approved", "was": None},
                                                  {"outcome": "revoked", "was": "approved"}]


def test_a_refusal_ends_completed_but_refused(runtime: Runtime) -> None:
    put(runtime, "t_outcome", {"p.bpmn": _process()}, {"open.json": OPEN})
    view = begin(runtime, "t_outcome")
    do(runtime, "haiyun", view.id, "apply", {})
    view = do(runtime, "window", view.id, "decide", {"ok": False})
    assert (view.status, view.outcome) == (InstanceStatus.COMPLETED, Outcome.REFUSED)
    with runtime.db.read() as session:
        assert session.get(Instance, view.id).outcome == "refused"


def test_an_administrators_termination_is_terminated_whatever_was_decided(runtime: Runtime) -> None:
    put(runtime, "t_outcome", {"p.bpmn": _process()}, {"open.json": OPEN})
    view = begin(runtime, "t_outcome")
    do(runtime, "haiyun", view.id, "apply", {})
    do(runtime, "window", view.id, "decide", {"ok": True})
    view = runtime.terminate(view.id, runtime.actor("admin"))
    assert (view.status, view.outcome) == (InstanceStatus.TERMINATED, Outcome.TERMINATED)


def test_the_lint_names_an_unknown_outcome_and_an_end_reachable_without_one() -> None:
    problems = validate(workspace({"p.bpmn": _process(issue_outcome="aproved")}, {"open.json": OPEN},
                                  key="t_outcome"))
    unknown = [p for p in problems if p.element_id == "issue"]
    assert [p.severity for p in unknown] == ["error"] and "aproved" in unknown[0].message
    # end_refused and end_done both decide; remove end_refused's outcome and only it is reported
    undecided = _process().replace('<spiffworkflow:property name="outcome" value="refused" />', "")
    warned = [p for p in validate(workspace({"p.bpmn": undecided}, {"open.json": OPEN}, key="t_outcome"))
              if "outcome" in p.message]
    assert [(p.element_id, p.severity) for p in warned] == [("end_refused", "warning")]


def test_the_administrators_outcome_is_not_a_designers() -> None:
    problems = validate(workspace({"p.bpmn": _process(issue_outcome="terminated")}, {"open.json": OPEN},
                                  key="t_outcome"))
    assert any(p.element_id == "issue" and p.severity == "error" for p in problems)
