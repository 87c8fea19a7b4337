"""The Celery jobs, run in-process: each one twice changes nothing the second time; the dispatcher
enqueues after a step and never fails a committed request."""

from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Any

import pytest
from celery.worker.request import Request
from click.testing import CliRunner
from kombu import Connection
from kombu.message import Message

from engine.background import jobs
from engine.base import clock
from engine.base.settings import Settings
from engine.cli.main import main
from engine.runtime.runtime import Runtime
from tests.support.jobs import sharing_clock, written
from tests.support.services import deploy_call
from tests.support.shipped import SUBMIT
from tests.support.steps import begin
from tests.support.timers import timed


def test_the_advance_job_runs_the_steps_a_request_deferred_and_a_rerun_writes_nothing(in_worker: Runtime) -> None:
    dispatched: list[int] = []
    deferring = Runtime(in_worker.db, in_worker.settings, dispatch=lambda case, _version: dispatched.append(case))
    haiyun, admin = deferring.actor("haiyun"), in_worker.actor("admin")
    view = deferring.start("sample_approval", {"title": "办公用房改造", "amount": 50000}, haiyun)
    # the applicant's start step runs with its request and readies the user task right after it (nothing automatic
    # lies between them); what follows the submission — the gateway — is the worker's to run
    [submit] = view.open_tasks
    deferring.complete(submit.id, SUBMIT, haiyun)
    assert dispatched == [view.id, view.id] and in_worker.instance(view.id, admin).open_tasks == []
    assert jobs.advance(view.id) is True
    assert [t.element_id for t in in_worker.instance(view.id, admin).open_tasks] == ["approve"]
    before = written(in_worker)
    jobs.advance(view.id)
    assert written(in_worker) == before


def test_the_fire_job_fires_once_however_often_it_runs(in_worker: Runtime) -> None:
    [instance] = timed(in_worker)
    clock.travel(timedelta(hours=1, seconds=1))
    jobs.fire_timer(instance)
    after_first = written(in_worker)
    assert in_worker.instance(instance, in_worker.actor("admin")).status == "completed"
    jobs.fire_timer(instance)
    assert written(in_worker) == after_first


def test_the_sweep_job_enqueues_each_due_instance_once(in_worker: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    instances = timed(in_worker, 3)
    enqueued: list[int] = []
    monkeypatch.setattr(jobs.fire_timer, "apply_async", lambda args: enqueued.append(*args))
    assert jobs.sweep() == 0  # nothing due yet
    clock.travel(timedelta(hours=1, seconds=1))
    assert jobs.sweep() == 3 and sorted(enqueued) == instances
    after_first = written(in_worker)
    assert jobs.sweep() == 0 and written(in_worker) == after_first  # leased: a second beat's sweep skips them
    for instance in enqueued:
        jobs.fire_timer(instance)
    assert jobs.sweep() == 0 and len(enqueued) == 3


def test_a_job_for_a_vanished_instance_is_dropped(in_worker: Runtime) -> None:
    assert jobs.advance(987654) is False


def test_no_broker_means_no_dispatcher(settings: Settings) -> None:
    assert jobs.dispatcher_for(settings) is None


def test_the_dispatcher_enqueues_the_advance_job(settings: Settings) -> None:
    broker = "memory://"
    dispatch = jobs.dispatcher_for(Settings(**{**settings.__dict__, "broker_url": broker}))
    assert dispatch is not None
    dispatch(42, 3)
    with Connection(broker) as conn:
        message = conn.SimpleQueue(jobs.QUEUE).get(timeout=1)
        args, _kwargs, _embed = json.loads(message.body)
        assert (message.headers["task"], args) == (jobs.ADVANCE, [42, 3])
        message.ack()


def test_an_unreachable_broker_is_logged_not_raised(settings: Settings, caplog: pytest.LogCaptureFixture) -> None:
    dispatch = jobs.dispatcher_for(Settings(**{**settings.__dict__, "broker_url": "redis://127.0.0.1:1/0"}))
    assert dispatch is not None
    with caplog.at_level(logging.ERROR, logger="engine.background.jobs"):
        dispatch(7, 1)  # the step is committed already: the request must still succeed
    assert "tongban advance 7" in caplog.text


def test_worker_and_beat_refuse_to_start_without_a_broker(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TONGBAN_BROKER_URL", raising=False)
    for command in ("worker", "beat"):
        result = CliRunner().invoke(main, [command])
        assert result.exit_code == 1 and "TONGBAN_BROKER_URL" in result.output


def test_advance_command_continues_a_case_by_hand(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    [instance] = timed(runtime)
    case = runtime.instance(instance, runtime.actor("admin")).case_number
    clock.travel(timedelta(hours=2))
    # the command's own runtime (its own clock) on the same database, with the clock this test travelled
    monkeypatch.setattr(Runtime, "__init__", sharing_clock(Runtime.__init__, runtime))
    result = CliRunner().invoke(main, ["advance", case, "--json"])
    assert result.exit_code == 0, result.output
    assert [v["status"] for v in json.loads(result.output)] == ["completed"]


class ReleasedChannel:
    """What kombu's Redis channel does once a broker restart released its connection (kombu issue #582)."""

    no_ack_consumers = None

    def basic_ack(self, *_: Any, **__: Any) -> None:
        raise AttributeError("'NoneType' object has no attribute 'hostname'")


@pytest.mark.parametrize(("request_class", "survives"), [(jobs.JobRequest, True), (Request, False)])
def test_acknowledging_over_a_released_connection_does_not_stop_the_worker(request_class: type[Request],
                                                                          survives: bool,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    message = Message(body=json.dumps([[1], {}, {}]), channel=ReleasedChannel(), delivery_tag="1",
                      content_type="application/json", content_encoding="utf-8",
                      headers={"id": "job-1", "task": jobs.ADVANCE})
    request = request_class(message, app=jobs.app, task=jobs.advance, connection_errors=(ConnectionError,),
                            on_ack=message.ack_log_error)
    if survives:
        request.acknowledge()
        assert request.acknowledged and "Couldn't ack" in caplog.text
    else:  # Celery's own request lets the error out, into the worker's event loop
        with pytest.raises(AttributeError):
            request.acknowledge()


def test_a_due_service_attempt_gets_its_own_job_on_its_own_queue(in_worker: Runtime,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    deploy_call(in_worker, "notify", {"role": "'window_clerk'", "text_zh": "'新申请'"})
    instance = begin(in_worker, "t_service").id  # reaching the service task makes its first attempt due
    enqueued: list[tuple[str, int]] = []
    monkeypatch.setattr(jobs.run_service, "apply_async", lambda args: enqueued.append(("service", *args)))
    monkeypatch.setattr(jobs.fire_timer, "apply_async", lambda args: enqueued.append(("timer", *args)))
    assert jobs.sweep() == 1 and enqueued == [("service", instance)]
    assert jobs.app.amqp.router.route({}, jobs.RUN_SERVICE)["queue"].name == jobs.SERVICES_QUEUE
    assert jobs.run_service(instance) is True
    assert [t.element_id for t in in_worker.tasks(in_worker.actor("window")) if t.instance_id == instance] == ["review"]

