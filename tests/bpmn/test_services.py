"""Service tasks: an operator called with the case data, its reply kept; transient failures (a timeout, a
503) retried with exponential backoff through the timer sweep, exactly once per attempt; permanent ones and
exhausted retries an incident that `retry` clears; in-app notices written with the step."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta
from http.server import ThreadingHTTPServer
from typing import Any

import pytest
from sqlalchemy import select

from engine.background import timers
from engine.base import clock
from engine.bpmn.services import Operator, ServiceCalls, operators
from engine.definitions.registry import validate
from engine.runtime.runtime import Runtime
from engine.runtime.views import InstanceView
from engine.store.models import Event, Notification, Timer
from tests.support.builder import Node, end, flows, render, start
from tests.support.services import POST, FakeSystem, deploy_call, service
from tests.support.steps import begin, only_task
from tests.support.workspaces import workspace


@pytest.fixture
def system() -> Iterator[tuple[FakeSystem, str]]:
    fake = FakeSystem()
    server = ThreadingHTTPServer(("127.0.0.1", 0), fake.handler())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield fake, f"http://127.0.0.1:{server.server_port}/licences"
    server.shutdown()
    server.server_close()


@pytest.fixture
def calling(runtime: Runtime, system: tuple[FakeSystem, str]) -> Runtime:
    """A runtime whose `licences` endpoint is the fake system, with a short call timeout."""
    runtime.settings = replace(runtime.settings, service_endpoints={"licences": system[1]}, service_timeout=0.5)
    return runtime


def events(runtime: Runtime, instance: int, kind: str) -> list[dict[str, Any]]:
    return [e["detail"] for e in runtime.instance(instance, runtime.actor("admin"), detail=True).events
            if e["kind"] == kind]


def sweep_after(runtime: Runtime, seconds: float) -> int:
    clock.travel(timedelta(seconds=seconds))
    return timers.sweep(runtime)


def test_a_service_task_posts_the_case_data_and_keeps_the_reply(calling: Runtime,
                                                               system: tuple[FakeSystem, str]) -> None:
    fake, _ = system
    fake.replies = [(200, {"licence": "L-0001"})]
    deploy_call(calling, "http_post", POST)
    view = begin(calling, "t_service", {"company": "海韵科技"})
    assert view.status == "running" and fake.seen == []  # reaching it calls nothing: the step commits first
    assert timers.sweep(calling) == 1  # the first attempt, due at once (the server's timer thread, or a job)
    assert only_task(calling, "window", view.id).element_id == "review"
    assert calling.instance(view.id, calling.actor("admin"), detail=True).data["reply"] == {"licence": "L-0001"}
    [request] = fake.seen
    assert request["body"] == {"company": "海韵科技"} and len(request["key"]) == 36  # the task id: repeats are spotted
    assert events(calling, view.id, "service_called") == [{"operator": "http_post", "attempt": 1}]


def test_a_timeout_and_a_503_are_retried_with_backoff_until_the_service_answers(
        calling: Runtime, system: tuple[FakeSystem, str]) -> None:
    fake, _ = system
    fake.replies = [1.0, (503, {}), (200, {"licence": "L-0002"})]  # stalls past the 0.5 s timeout, then busy
    deploy_call(calling, "http_post", POST, retry='<spiffworkflow:retry retries="3" backoff_base="10"/>')
    view = begin(calling, "t_service", {"company": "海韵科技"})
    assert timers.sweep(calling) == 1 and len(fake.seen) == 1
    [first] = events(calling, view.id, "service_retry_scheduled")
    assert first["attempt"] == 1 and "timed out" in first["error"]

    assert sweep_after(calling, 9) == 0 and len(fake.seen) == 1  # not before its time (10 s)
    assert sweep_after(calling, 2) == 1 and len(fake.seen) == 2  # second attempt: 503, next in 20 s
    second = events(calling, view.id, "service_retry_scheduled")[1]
    assert second["attempt"] == 2 and "503" in second["error"]
    assert sweep_after(calling, 15) == 0 and len(fake.seen) == 2
    assert sweep_after(calling, 6) == 1 and len(fake.seen) == 3
    assert only_task(calling, "window", view.id).element_id == "review"
    assert calling.instance(view.id, calling.actor("admin"), detail=True).data["reply"] == {"licence": "L-0002"}
    assert sweep_after(calling, 3600) == 0 and len(fake.seen) == 3  # nothing left to fire
    with calling.db.read() as s:
        rows = s.execute(select(Timer.element_id, Timer.state)).all()
    assert rows == [("call", "fired")] * 3  # one row per attempt
    assert len({r["key"] for r in fake.seen}) == 1  # every attempt carries the same idempotency key


def failing(runtime: Runtime, fake: FakeSystem, replies: list[tuple[int, Any] | float], retry: str) -> InstanceView:
    fake.replies = replies
    deploy_call(runtime, "http_post", POST, retry=retry)
    view = begin(runtime, "t_service", {"company": "海韵科技"})
    timers.sweep(runtime)
    return view


def test_exhausted_retries_are_an_incident_that_an_administrator_retries(
        calling: Runtime, system: tuple[FakeSystem, str]) -> None:
    fake, _ = system
    view = failing(calling, fake, [(503, {})] * 3, '<spiffworkflow:retry retries="2" backoff_base="10"/>')
    sweep_after(calling, 11)
    sweep_after(calling, 21)
    failed = calling.instance(view.id, calling.actor("admin"))
    assert (failed.status, failed.error_element) == ("error", "call") and "503" in failed.error
    assert "2" in failed.error and len(fake.seen) == 3
    done = calling.retry(view.id, calling.actor("admin"))  # the system is back (no scripted failure left)
    assert done.status == "running" and timers.sweep(calling) == 1 and len(fake.seen) == 4
    assert only_task(calling, "window", view.id).element_id == "review"


@pytest.mark.parametrize(("reply", "endpoint", "words"), [
    ((400, {"error": "bad company"}), "'licences'", "HTTP 400"),
    ((200, {}), "'nowhere'", "nowhere"),
])
def test_a_refused_or_misconfigured_call_is_an_incident_at_once(calling: Runtime, system: tuple[FakeSystem, str],
                                                               reply: tuple[int, Any], endpoint: str,
                                                               words: str) -> None:
    fake, _ = system
    fake.replies = [reply]
    deploy_call(calling, "http_post", {**POST, "endpoint": endpoint})
    view = begin(calling, "t_service", {"company": "海韵科技"})
    timers.sweep(calling)
    view = calling.instance(view.id, calling.actor("admin"))
    assert (view.status, view.error_element) == ("error", "call") and words in view.error
    with calling.db.read() as s:  # nothing scheduled after the one attempt: it would fail the same way
        assert s.execute(select(Timer.kind, Timer.state)).all() == [("service", "fired")]


def test_notify_raises_one_notice_per_role_holder_once(runtime: Runtime) -> None:
    deploy_call(runtime, "notify", {"role": "'window_clerk'", "text_zh": "'新申请：' + company",
                                    "text_en": "'New application: ' + company"})
    view = begin(runtime, "t_service", {"company": "海韵科技"})
    timers.sweep(runtime)
    runtime.advance(view.id)  # a repeated job writes nothing again
    with runtime.db.read() as s:
        rows = s.execute(select(Notification.kind, Notification.text_zh, Notification.instance_id)).all()
        kinds = s.scalars(select(Event.kind).where(Event.instance_id == view.id)).all()
    assert rows == [("service_notice", "新申请：海韵科技", view.id)]  # the demo has one window clerk
    assert kinds.count("service_called") == 1


def test_validate_names_an_unknown_operator_or_a_missing_parameter() -> None:
    def problems(operator: str, params: dict[str, str]) -> list[str]:
        call = Node("serviceTask", "call", ext=f"<bpmn:extensionElements>{service('call', operator, params)}"
                                               "</bpmn:extensionElements>")
        edges = flows(("start", "call"), ("call", "end"))
        xml = ('<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions '
               'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
               'xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core" id="d" targetNamespace="t">'
               f'<bpmn:process id="p" isExecutable="true">{render([start(), call, end()], edges)}'
               "</bpmn:process></bpmn:definitions>")
        return [f"{p.element_id}: {p.message}" for p in validate(workspace({"p.bpmn": xml})) if p.severity == "error"]

    assert problems("http_post", POST) == []
    [unknown] = problems("send_fax", {})
    assert unknown.startswith("call:") and "send_fax" in unknown and "http_post" in unknown
    [missing] = problems("notify", {"role": "'window_clerk'"})
    assert missing.startswith("call:") and "text_zh" in missing


def test_a_plug_in_that_raises_is_an_incident_not_a_crash(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(params: dict[str, Any], calls: ServiceCalls) -> Any:
        raise KeyError("licence_no")

    monkeypatch.setitem(operators(), "broken", Operator("broken", broken, frozenset()))
    deploy_call(runtime, "broken", {})
    view = begin(runtime, "t_service", {"company": "海韵科技"})
    timers.sweep(runtime)
    failed = runtime.instance(view.id, runtime.actor("admin"))
    assert (failed.status, failed.error_element) == ("error", "call") and "licence_no" in failed.error
