"""BPMN constructs run as the specification says, through tongban's runtime (issue #15, points 1 and 2).

Each test is one small process of the shape the betsy conformance suite uses (bench/conformance.py runs
the suite itself): scripts that count their runs, and the case's history or timer rows to check what ran.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from engine.background.timers import sweep
from engine.base import clock
from engine.bpmn import state
from engine.runtime.runtime import Runtime
from engine.store.models import Timer
from tests.support.builder import Node, bpmn, end, flows, props, render, script, start, user
from tests.support.steps import begin, put
from tests.support.workspaces import OPEN

FORMS = {"open.json": OPEN}
SIGNAL = '<bpmn:signal id="sig_stop" name="stop" />'
ERROR = '<bpmn:error id="err_bad" name="bad" errorCode="BAD" />'


def deploy(runtime: Runtime, key: str, nodes: list[Node], edges: list[Any], extra: str = "",
           lane: list[str] | None = None) -> None:
    put(runtime, key, {"p.bpmn": bpmn(key, render(nodes, edges), {"申请人": lane or ["start"]}, extra=extra)},
        FORMS)


def ran(runtime: Runtime, instance: int) -> list[str]:
    """The elements that changed the data, in the order the history holds them (each run of a script once)."""
    events = runtime.instance(instance, runtime.actor("admin"), detail=True).events or []
    return [e["element_id"] for e in events if e["kind"] == "data_changed"]


def events(runtime: Runtime, instance: int, kind: str) -> list[dict[str, Any]]:
    return [e for e in runtime.instance(instance, runtime.actor("admin"), detail=True).events or []
            if e["kind"] == kind]


def timer_rows(runtime: Runtime, instance: int) -> list[Timer]:
    with runtime.db.read() as session:
        return list(session.scalars(select(Timer).where(Timer.instance_id == instance).order_by(Timer.id)))


def test_an_interrupting_signal_boundary_event_stops_its_subprocess_at_the_throw(runtime: Runtime) -> None:
    inner = render([Node("startEvent", "sub_start"), script("before", "a = 1"),
                    Node("intermediateThrowEvent", "shout", body='<bpmn:signalEventDefinition signalRef="sig_stop" />'),
                    script("after", "b = 1"), end("sub_end")],
                   flows(("sub_start", "before"), ("before", "shout"), ("shout", "after"), ("after", "sub_end")))
    nodes = [start(form="open.json"), Node("subProcess", "sub", body=inner),
             Node("boundaryEvent", "stopped", attrs='attachedToRef="sub"',
                  body='<bpmn:signalEventDefinition signalRef="sig_stop" />'),
             script("handle", "c = 1"), end("handled"), script("normal", "d = 1"), end()]
    edges = flows(("start", "sub"), ("stopped", "handle"), ("handle", "handled"), ("sub", "normal"), ("normal", "end"))
    deploy(runtime, "t_sig", nodes, edges, SIGNAL)
    view = begin(runtime, "t_sig")
    assert view.status == "completed"
    assert ran(runtime, view.id) == ["before", "handle"]  # `after` never ran: the boundary interrupted at once


def test_an_event_based_gateway_timer_has_a_row_and_the_sweep_fires_it(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), Node("eventBasedGateway", "which"),
             Node("intermediateCatchEvent", "late",
                  body='<bpmn:timerEventDefinition><bpmn:timeDuration>"PT2H"</bpmn:timeDuration>'
                       "</bpmn:timerEventDefinition>"),
             Node("intermediateCatchEvent", "told", body='<bpmn:signalEventDefinition signalRef="sig_stop" />'),
             script("on_time", "x = 1"), end("end_late"), end("end_told")]
    edges = flows(("start", "which"), ("which", "late"), ("which", "told"), ("late", "on_time"),
                  ("on_time", "end_late"), ("told", "end_told"))
    deploy(runtime, "t_ebg", nodes, edges, SIGNAL)
    view = begin(runtime, "t_ebg")
    [row] = timer_rows(runtime, view.id)
    assert (row.element_id, row.state) == ("which", "waiting")
    assert timedelta(hours=1, minutes=59) < row.due_at - clock.now() <= timedelta(hours=2)
    clock.travel(timedelta(hours=2, seconds=1))
    assert sweep(runtime) == 1
    assert runtime.instance(view.id, runtime.actor("admin")).status == "completed"
    assert ran(runtime, view.id) == ["on_time"]


def test_a_boundary_time_cycle_is_re_armed_with_its_next_due_time(runtime: Runtime) -> None:
    """R3/PT1H on a non-interrupting boundary: after the first firing the row waits for the second, unleased."""
    nodes = [start(form="open.json"), user("work", "办理", "open.json"),
             Node("boundaryEvent", "remind", attrs='attachedToRef="work" cancelActivity="false"',
                  body='<bpmn:timerEventDefinition><bpmn:timeCycle>"R3/PT1H"</bpmn:timeCycle>'
                       "</bpmn:timerEventDefinition>"),
             script("note", "reminded = True"), end("noted"), end()]
    edges = flows(("start", "work"), ("work", "end"), ("remind", "note"), ("note", "noted"))
    deploy(runtime, "t_cycle", nodes, edges, lane=["start", "work"])
    view = begin(runtime, "t_cycle")
    [row] = timer_rows(runtime, view.id)
    first = row.due_at
    clock.travel(timedelta(hours=1, seconds=1))
    assert sweep(runtime) == 1
    [row] = timer_rows(runtime, view.id)
    assert row.state == "waiting" and row.claimed_until is None
    assert timedelta(minutes=59) < row.due_at - first <= timedelta(hours=1, seconds=1)
    [fired] = events(runtime, view.id, "timer_fired")
    assert fired["element_id"] == "remind"
    assert abs(datetime.fromisoformat(fired["detail"]["next"]) - row.due_at) < timedelta(seconds=1)
    clock.travel(timedelta(hours=1))
    assert sweep(runtime) == 1  # due again an hour later, not when the sweep's lease runs out
    assert len(events(runtime, view.id, "timer_fired")) == 2


def test_an_uncaught_error_end_event_puts_the_case_in_error_naming_the_end_and_code(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), script("work", "x = 1"),
             end("failed", body='<bpmn:errorEventDefinition errorRef="err_bad" />')]
    deploy(runtime, "t_err", nodes, flows(("start", "work"), ("work", "failed")), ERROR)
    view = begin(runtime, "t_err")
    assert view.status == "error"
    [error] = events(runtime, view.id, "error")
    assert error["element_id"] == "failed"
    assert error["detail"]["message"] == ("错误结束事件 failed 抛出的错误 'BAD' 未被捕获，办件异常结束 "
                                          "(the error 'BAD' "
                                          "thrown by the error end event failed was not caught: the case ended "
                                          "abnormally)")
    assert events(runtime, view.id, "message_thrown") == [] and events(runtime, view.id, "ended") == []


def test_an_error_end_event_by_event_definition_ref_is_an_error_end_event(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), end("failed", body="<bpmn:eventDefinitionRef>bad_def</bpmn:eventDefinitionRef>")]
    extra = ERROR + '<bpmn:errorEventDefinition id="bad_def" errorRef="err_bad" />'
    deploy(runtime, "t_ref", nodes, flows(("start", "failed")), extra)
    view = begin(runtime, "t_ref")
    assert view.status == "error"
    assert events(runtime, view.id, "error")[0]["element_id"] == "failed"


def test_a_terminate_end_event_is_recorded_by_its_id(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), end("stop", body="<bpmn:terminateEventDefinition />")]
    deploy(runtime, "t_term_named", nodes, flows(("start", "stop")))
    view = begin(runtime, "t_term_named")
    [ended] = events(runtime, view.id, "ended")
    assert (view.status, ended["element_id"], ended["detail"]) == ("terminated", "stop", {"outcome": "terminated"})


def test_an_uncaught_signal_is_recorded_as_a_signal(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), Node("intermediateThrowEvent", "shout",
                                          body='<bpmn:signalEventDefinition signalRef="sig_stop" />'), end()]
    deploy(runtime, "t_shout", nodes, flows(("start", "shout"), ("shout", "end")), SIGNAL)
    view = begin(runtime, "t_shout")
    assert [e["detail"] for e in events(runtime, view.id, "message_thrown")] == [{"message": "stop",
                                                                                  "event": "signal"}]


def test_conditional_flows_out_of_a_task_take_every_true_condition_and_else_the_default(runtime: Runtime) -> None:
    """BPMN §13.2.1: the unconditional flow always runs; the default only when no condition holds."""
    branches = ("on_a", "on_b", "otherwise", "always")
    nodes = [start(form="open.json"),
             Node("scriptTask", "check", attrs='default="check__otherwise"', body="<bpmn:script>c = 1</bpmn:script>"),
             *(script(name, f"{name} = 1") for name in branches), *(end(f"end_{name}") for name in branches)]
    edges = flows(("start", "check"), ("check", "on_a", '"a" in test'), ("check", "on_b", '"b" in test'),
                  ("check", "otherwise"), ("check", "always"), *((name, f"end_{name}") for name in branches))
    deploy(runtime, "t_split", nodes, edges)
    assert sorted(ran(runtime, begin(runtime, "t_split", {"test": "ab"}).id)) == ["always", "check", "on_a", "on_b"]
    assert sorted(ran(runtime, begin(runtime, "t_split", {"test": "b"}).id)) == ["always", "check", "on_b"]
    assert sorted(ran(runtime, begin(runtime, "t_split", {"test": "c"}).id)) == ["always", "check", "otherwise"]


def test_several_plain_flows_out_of_a_task_all_run(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), script("fork", "f = 1"), script("left", "l = 1"), script("right", "r = 1"),
             end("end_left"), end("end_right")]
    edges = flows(("start", "fork"), ("fork", "left"), ("fork", "right"), ("left", "end_left"),
                  ("right", "end_right"))
    deploy(runtime, "t_fork", nodes, edges)
    view = begin(runtime, "t_fork")
    assert view.status == "completed" and sorted(ran(runtime, view.id)) == ["fork", "left", "right"]


def test_a_link_throw_continues_at_the_catch_of_its_name(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), script("first", "a = 1"),
             Node("intermediateThrowEvent", "jump", body='<bpmn:linkEventDefinition name="page2" />'),
             Node("intermediateCatchEvent", "land", body='<bpmn:linkEventDefinition name="page2" />'),
             script("second", "b = 1"), end()]
    edges = flows(("start", "first"), ("first", "jump"), ("land", "second"), ("second", "end"))
    deploy(runtime, "t_link", nodes, edges)
    view = begin(runtime, "t_link")
    assert view.status == "completed" and ran(runtime, view.id) == ["first", "second"]


# -- event subprocesses, at any depth (engine/bpmn/eventsubprocesses.py) --------------------------------------
ESCALATION = '<bpmn:escalation id="esc_late" name="late" escalationCode="LATE" />'
SIGNAL_DEF = '<bpmn:signalEventDefinition signalRef="sig_stop" />'


def timer(value: str, kind: str = "timeDuration") -> str:
    return f'<bpmn:timerEventDefinition><bpmn:{kind}>"{value}"</bpmn:{kind}></bpmn:timerEventDefinition>'


def handler(trigger: str, interrupting: bool = True, sid: str = "handler") -> Node:
    """An event subprocess: its start (`trigger`) → the script `handle` → its end."""
    body = render([Node("startEvent", f"{sid}_start", attrs=f'isInterrupting="{str(interrupting).lower()}"',
                        body=trigger), script("handle", "handled = True"), end(f"{sid}_end")],
                  flows((f"{sid}_start", "handle"), ("handle", f"{sid}_end")))
    return Node("subProcess", sid, attrs='triggeredByEvent="true"', body=body)


def in_subprocess(runtime: Runtime, key: str, inner: list[Node], inner_flows: list[Any], extra: str = "") -> None:
    """start → the subprocess `sub` (`inner`, its handlers among them) → the script `normal` → end."""
    nodes = [start(form="open.json"), Node("subProcess", "sub", body=render(inner, inner_flows)),
             script("normal", "normal = True"), end()]
    deploy(runtime, key, nodes, flows(("start", "sub"), ("sub", "normal"), ("normal", "end")), extra)


def shouting(runtime: Runtime, key: str, throw: str, *handlers: Node, extra: str = SIGNAL) -> None:
    """A subprocess that runs `before`, throws (`throw`), then runs `after`; beside it, its `handlers`."""
    inner = [Node("startEvent", "sub_start"), script("before", "a = 1"),
             Node("intermediateThrowEvent", "shout", body=throw), script("after", "b = 1"), end("sub_end"), *handlers]
    in_subprocess(runtime, key, inner, flows(("sub_start", "before"), ("before", "shout"), ("shout", "after"),
                                            ("after", "sub_end")), extra)


def test_an_interrupting_signal_event_subprocess_in_a_subprocess_cancels_the_rest_of_it_at_once(
        runtime: Runtime) -> None:
    shouting(runtime, "t_esp_sig", SIGNAL_DEF, handler(SIGNAL_DEF))
    view = begin(runtime, "t_esp_sig")
    assert view.status == "completed"
    assert ran(runtime, view.id) == ["before", "handle", "normal"]  # `after` never ran; the case went on after it
    assert events(runtime, view.id, "message_thrown") == []  # caught in the case


def test_a_non_interrupting_signal_event_subprocess_in_a_subprocess_runs_beside_it(runtime: Runtime) -> None:
    shouting(runtime, "t_esp_sig_beside", SIGNAL_DEF, handler(SIGNAL_DEF, interrupting=False))
    view = begin(runtime, "t_esp_sig_beside")
    assert view.status == "completed"
    assert sorted(ran(runtime, view.id)) == ["after", "before", "handle", "normal"]
    assert ran(runtime, view.id)[-1] == "normal"  # the subprocess ended once both had


@pytest.mark.parametrize(("interrupting", "expected"), [(True, ["before", "handle", "normal"]),
                                                        (False, ["after", "before", "handle", "normal"])])
def test_an_escalation_event_subprocess_catches_only_a_thrown_escalation(
        runtime: Runtime, interrupting: bool, expected: list[str]) -> None:
    throw = '<bpmn:escalationEventDefinition escalationRef="esc_late" />'
    shouting(runtime, "t_esp_esc", throw, handler(throw, interrupting), extra=ESCALATION)
    view = begin(runtime, "t_esp_esc")
    assert view.status == "completed" and sorted(ran(runtime, view.id)) == expected


def test_an_escalation_event_subprocess_does_not_run_when_nothing_is_thrown(runtime: Runtime) -> None:
    catch = '<bpmn:escalationEventDefinition escalationRef="esc_late" />'
    inner = [Node("startEvent", "sub_start"), script("work", "w = 1"), end("sub_end"), handler(catch)]
    in_subprocess(runtime, "t_esp_quiet", inner, flows(("sub_start", "work"), ("work", "sub_end")), ESCALATION)
    view = begin(runtime, "t_esp_quiet")
    assert view.status == "completed" and ran(runtime, view.id) == ["work", "normal"]


def test_an_error_event_subprocess_handles_the_error_and_its_subprocess_ends_normally(runtime: Runtime) -> None:
    """betsy's Error_StartEvent_EventSubProcess_Interrupting: after the handler the flow continues normally."""
    inner = [Node("startEvent", "sub_start"), script("check", "c = 1"),
             end("failed", body='<bpmn:errorEventDefinition errorRef="err_bad" />'),
             handler('<bpmn:errorEventDefinition errorRef="err_bad" />')]
    in_subprocess(runtime, "t_esp_err", inner, flows(("sub_start", "check"), ("check", "failed")), ERROR)
    view = begin(runtime, "t_esp_err")
    assert view.status == "completed"
    assert ran(runtime, view.id) == ["check", "handle", "normal"]
    assert events(runtime, view.id, "error") == []


def test_an_error_nobody_inside_catches_goes_to_the_event_subprocess_of_the_case(runtime: Runtime) -> None:
    inner = render([Node("startEvent", "sub_start"), end("failed", body='<bpmn:errorEventDefinition '
                                                                        'errorRef="err_bad" />')],
                   flows(("sub_start", "failed")))
    nodes = [start(form="open.json"), Node("subProcess", "sub", body=inner), script("normal", "n = 1"), end(),
             handler("<bpmn:eventDefinitionRef>bad_def</bpmn:eventDefinitionRef>")]
    deploy(runtime, "t_esp_top", nodes, flows(("start", "sub"), ("sub", "normal"), ("normal", "end")),
           ERROR + '<bpmn:errorEventDefinition id="bad_def" errorRef="err_bad" />')
    view = begin(runtime, "t_esp_top")
    assert view.status == "completed" and ran(runtime, view.id) == ["handle"]  # the case was interrupted


def test_an_interrupting_timer_event_subprocess_fires_through_its_timer_row_and_stops_its_subprocess(
        runtime: Runtime) -> None:
    inner = [Node("startEvent", "sub_start"), Node("intermediateCatchEvent", "slow", body=timer("PT2H")),
             script("after", "b = 1"), end("sub_end"), handler(timer("PT1H"))]
    in_subprocess(runtime, "t_esp_timer", inner, flows(("sub_start", "slow"), ("slow", "after"),
                                                       ("after", "sub_end")))
    runtime._live = state.WorkflowCache(0)  # every step reads the stored state: the handler survives a reload
    view = begin(runtime, "t_esp_timer")
    assert sorted((r.element_id, r.state) for r in timer_rows(runtime, view.id)) == [
        ("handler_start", "waiting"), ("slow", "waiting")]
    clock.travel(timedelta(hours=1, seconds=1))
    assert sweep(runtime) == 1
    assert runtime.instance(view.id, runtime.actor("admin")).status == "completed"
    assert ran(runtime, view.id) == ["handle", "normal"]  # `after` never ran
    assert [r.state for r in timer_rows(runtime, view.id)] != [] and not any(
        r.state == "waiting" for r in timer_rows(runtime, view.id))


@pytest.mark.parametrize("nested", [True, False])
def test_a_scope_ends_without_waiting_for_a_non_interrupting_timer_that_never_fired(
        runtime: Runtime, nested: bool) -> None:
    if nested:
        inner = [Node("startEvent", "sub_start"), script("work", "w = 1"), end("sub_end"),
                 handler(timer("P1D"), interrupting=False)]
        in_subprocess(runtime, "t_esp_idle", inner, flows(("sub_start", "work"), ("work", "sub_end")))
    else:
        nodes = [start(form="open.json"), script("work", "w = 1"), end(), handler(timer("P1D"), interrupting=False)]
        deploy(runtime, "t_esp_idle", nodes, flows(("start", "work"), ("work", "end")))
    view = begin(runtime, "t_esp_idle")
    assert view.status == "completed"
    assert ran(runtime, view.id) == (["work", "normal"] if nested else ["work"])
    assert not any(r.state == "waiting" for r in timer_rows(runtime, view.id))


def test_a_scope_done_between_two_repetitions_of_a_cycle_handler_ends_without_the_rest(runtime: Runtime) -> None:
    inner = [Node("startEvent", "sub_start"), Node("intermediateCatchEvent", "slow", body=timer("PT1H30M")),
             end("sub_end"), handler(timer("R3/PT1H", "timeCycle"), interrupting=False)]
    in_subprocess(runtime, "t_esp_cycle_cut", inner, flows(("sub_start", "slow"), ("slow", "sub_end")))
    view = begin(runtime, "t_esp_cycle_cut")
    clock.travel(timedelta(hours=1, seconds=1))
    assert sweep(runtime) == 1
    clock.travel(timedelta(minutes=30))
    assert sweep(runtime) == 1
    assert runtime.instance(view.id, runtime.actor("admin")).status == "completed"
    assert ran(runtime, view.id) == ["handle", "normal"]
    assert not any(r.state == "waiting" for r in timer_rows(runtime, view.id))


def test_a_non_interrupting_time_cycle_event_subprocess_runs_at_each_repetition(runtime: Runtime) -> None:
    inner = [Node("startEvent", "sub_start"), Node("intermediateCatchEvent", "slow", body=timer("PT3H30M")),
             end("sub_end"), handler(timer("R3/PT1H", "timeCycle"), interrupting=False)]
    in_subprocess(runtime, "t_esp_cycle", inner, flows(("sub_start", "slow"), ("slow", "sub_end")))
    view = begin(runtime, "t_esp_cycle")
    for hour in range(3):
        clock.travel(timedelta(hours=1, seconds=1))
        assert sweep(runtime) == 1, hour
        assert ran(runtime, view.id).count("handle") == hour + 1
    clock.travel(timedelta(minutes=31))
    assert sweep(runtime) == 1
    assert runtime.instance(view.id, runtime.actor("admin")).status == "completed"
    assert ran(runtime, view.id) == ["handle"] * 3 + ["normal"]


# -- signal end events -----------------------------------------------------------------------------------------
def test_a_signal_end_event_in_a_subprocess_is_caught_by_the_subprocess_boundary_event(runtime: Runtime) -> None:
    inner = render([Node("startEvent", "sub_start"), end("shout", body=SIGNAL_DEF)], flows(("sub_start", "shout")))
    nodes = [start(form="open.json"), Node("subProcess", "sub", body=inner),
             Node("boundaryEvent", "heard", attrs='attachedToRef="sub"', body=SIGNAL_DEF),
             script("handle", "h = 1"), end("handled"), script("normal", "n = 1"), end()]
    deploy(runtime, "t_sig_end", nodes, flows(("start", "sub"), ("heard", "handle"), ("handle", "handled"),
                                              ("sub", "normal"), ("normal", "end")), SIGNAL)
    view = begin(runtime, "t_sig_end")
    assert view.status == "completed" and ran(runtime, view.id) == ["handle"]
    assert events(runtime, view.id, "message_thrown") == []


def test_a_signal_end_event_reaches_other_cases_as_a_broadcast(runtime: Runtime) -> None:
    from tests.support.correlation import SIGNALS, deploy_signal_partners

    deploy_signal_partners(runtime)
    nodes = [start(form="open.json"), script("work", "w = 1"),
             end("alert", body='<bpmn:signalEventDefinition signalRef="sig_alert" />')]
    deploy(runtime, "t_sig_end_out", nodes, flows(("start", "work"), ("work", "alert")), SIGNALS)
    admin = runtime.actor("admin")
    waiting = begin(runtime, "t_sig_wait", {"credit_code": "X"})
    sender = begin(runtime, "t_sig_end_out")
    assert sender.status == "completed"
    assert [e["detail"] for e in events(runtime, sender.id, "message_thrown")] == [
        {"message": "district_alert", "event": "signal"}]
    assert runtime.instance(waiting.id, admin).status == "completed"
    assert [v.process_key for v in runtime.instances(admin)].count("t_sig_start") == 1  # its signal start event


def test_a_case_after_one_whose_event_subprocess_ran_does_not_start_the_handler_with_itself(
        runtime: Runtime) -> None:
    """Spiff wires the handler into the (shared) spec the first time it is triggered, so every later case would
    start it at once and wait at its start: a case with nothing to do would never end."""
    nodes = [start(form="open.json"), Node("exclusiveGateway", "loud", attrs='default="loud__quiet"'),
             Node("intermediateThrowEvent", "shout", body=SIGNAL_DEF), end(), script("quiet", "q = 1"),
             end("quiet_end"), handler(SIGNAL_DEF, interrupting=False)]
    deploy(runtime, "t_esp_again", nodes, flows(("start", "loud"), ("loud", "shout", "shouting"), ("shout", "end"),
                                                ("loud", "quiet"), ("quiet", "quiet_end")), SIGNAL)
    first = begin(runtime, "t_esp_again", {"shouting": True})
    assert first.status == "completed" and ran(runtime, first.id) == ["handle"]
    second = begin(runtime, "t_esp_again", {"shouting": False})
    assert second.status == "completed" and ran(runtime, second.id) == ["quiet"]


# -- event subprocesses started from outside the case (engine/bpmn/eventsubprocesses.py `handler_starts`) ---------
def test_a_broadcast_signal_starts_a_non_interrupting_event_subprocess_of_a_waiting_case(runtime: Runtime) -> None:
    nodes = [start(form="open.json"), user("wait", "等待", "open.json"), end(), handler(SIGNAL_DEF, interrupting=False)]
    deploy(runtime, "t_esp_outside", nodes, flows(("start", "wait"), ("wait", "end")), SIGNAL, lane=["start", "wait"])
    view = begin(runtime, "t_esp_outside")
    sent = runtime.broadcast("stop", {"reason": "外部通知"}, runtime.actor("admin"))
    assert [v.id for v in sent.delivered] == [view.id]
    after = runtime.instance(view.id, runtime.actor("admin"))
    assert after.status == "running" and [t.element_id for t in after.open_tasks] == ["wait"]  # ran beside it
    assert ran(runtime, view.id) == ["handle"]
    again = runtime.broadcast("stop", None, runtime.actor("admin"))  # a non-interrupting one may run again
    assert [v.id for v in again.delivered] == [view.id] and ran(runtime, view.id) == ["handle", "handle"]


def test_a_broadcast_signal_interrupts_the_subprocess_whose_event_subprocess_catches_it(runtime: Runtime) -> None:
    inner = [Node("startEvent", "sub_start"), Node("intermediateCatchEvent", "wait", body=timer("PT1H")),
             end("sub_end"), handler(SIGNAL_DEF)]
    in_subprocess(runtime, "t_esp_outside_sub", inner, flows(("sub_start", "wait"), ("wait", "sub_end")), SIGNAL)
    view = begin(runtime, "t_esp_outside_sub")
    assert [(r.element_id, r.state) for r in timer_rows(runtime, view.id)] == [("wait", "waiting")]
    sent = runtime.broadcast("stop", None, runtime.actor("admin"))
    assert [v.id for v in sent.delivered] == [view.id]
    after = runtime.instance(view.id, runtime.actor("admin"))
    assert after.status == "completed" and ran(runtime, view.id) == ["handle", "normal"]
    assert [(r.element_id, r.state) for r in timer_rows(runtime, view.id)] == [("wait", "cancelled")]
    assert runtime.broadcast("stop", None, runtime.actor("admin")).delivered == []  # the case no longer waits


def test_a_message_by_its_key_starts_the_event_subprocess_of_that_case_only(runtime: Runtime) -> None:
    message = '<bpmn:message id="msg_notice" name="notice" />'
    trigger = Node("startEvent", "h_start", attrs='isInterrupting="false"', ext=props(correlationKey="code"),
                   body='<bpmn:messageEventDefinition messageRef="msg_notice" />')
    on_notice = Node("subProcess", "handler", attrs='triggeredByEvent="true"',
                     body=render([trigger, script("handle", "handled = True"), end("h_end")],
                                 flows(("h_start", "handle"), ("handle", "h_end"))))
    nodes = [start(form="open.json"), user("wait", "等待", "open.json"), end(), on_notice]
    deploy(runtime, "t_esp_msg", nodes, flows(("start", "wait"), ("wait", "end")), message, lane=["start", "wait"])
    first, second = begin(runtime, "t_esp_msg", {"code": "A-1"}), begin(runtime, "t_esp_msg", {"code": "B-2"})
    sent = runtime.correlate("notice", "B-2", None, runtime.actor("admin"))
    assert [v.id for v in sent.delivered] == [second.id] and sent.started == []
    assert (ran(runtime, first.id), ran(runtime, second.id)) == ([], ["handle"])
