"""BPMN constructs run as the specification says, through tongban's runtime (issue #15, points 1 and 2).

Each test is one small process of the shape the betsy conformance suite uses (bench/conformance.py runs
the suite itself): scripts that count their runs, and the case's history or timer rows to check what ran.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select

from engine.background.timers import sweep
from engine.base import clock
from engine.runtime.runtime import Runtime
from engine.store.models import Timer
from tests.support.builder import Node, bpmn, end, flows, render, script, start, user
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
