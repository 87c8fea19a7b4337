"""The runtime API on the sample approval process: start, inbox, complete, validation, admin steps."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from engine.base import clock
from engine.base.errors import Conflict, Forbidden, FormInvalid, NotFound
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from engine.store.models import Event, HumanTask, Instance, OutboxEntry
from tests.support.builder import bpmn
from tests.support.workspaces import workspace

START = {"title": "办公用房改造", "amount": 50_000}
SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "zhang@example.cn", "commitment": True}


def start(runtime: Runtime, data: dict | None = None, user: str = "haiyun"):
    return runtime.start("sample_approval", data or START, runtime.actor(user))


def test_start_gets_case_number_and_waits_on_the_applicants_task(runtime: Runtime) -> None:
    view = start(runtime)
    assert re.fullmatch(r"370202SMP\d{8}\d{6}", view.case_number)
    assert view.case_number.endswith("000001")
    assert view.status == "running"
    [task] = view.open_tasks
    assert (task.element_id, task.role, task.org, task.form) == ("submit", "applicant", "ent_haiyun",
                                                                  "sample_submit.json")
    assert start(runtime).case_number.endswith("000002")


def test_full_life_cycle_through_the_approver(runtime: Runtime) -> None:
    view = start(runtime)
    view = runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    [approve] = view.open_tasks if view.open_tasks else runtime.tasks(runtime.actor("window"))
    assert (approve.element_id, approve.role, approve.org) == ("approve", "window_clerk", "xzsp")
    assert [t.id for t in runtime.tasks(runtime.actor("window"))] == [approve.id]
    done = runtime.complete(approve.id, {"decision": "approved", "comment": "同意"}, runtime.actor("window"))
    assert (done.status, done.outcome) == ("completed", "approved")
    detail = runtime.instance(done.id, runtime.actor("haiyun"), detail=True)
    assert detail.data["decision"] == "approved" and detail.data["contact"] == "张三"
    assert [e["kind"] for e in detail.events] == [
        "started", "data_changed", "task_ready", "task_completed", "task_ready", "task_completed", "outcome_set",
        "ended"]
    threshold = next(c for c in detail.history if c["path"] == "/threshold")
    assert (threshold["new"], threshold["user"], threshold["element_id"]) == (10000, None, "start")  # the form's
    completed = [e for e in detail.events if e["kind"] == "task_completed"]
    # who, and what changed (the history); no hash of the data, which would give masked values away
    assert all(e["user_id"] and "data_hash" not in e for e in completed)
    assert {"path": "/decision", "field": "审批意见", "new": "approved", "user": "window"}.items() <= next(
        c for c in detail.history if c["path"] == "/decision").items()


def test_small_amount_takes_the_automatic_branch(runtime: Runtime) -> None:
    view = start(runtime, {"title": "小额", "amount": 500})
    done = runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    assert done.status == "completed"
    data = runtime.instance(done.id, runtime.actor("haiyun"), detail=True).data
    assert data["decision"] == "approved" and "10000" in data["comment"]


def test_invalid_data_lists_every_failing_field_and_changes_nothing(runtime: Runtime) -> None:
    view = start(runtime)
    task_id = view.open_tasks[0].id
    with runtime.db.read() as s:
        before = (s.scalar(select(Instance.version)), s.scalar(select(func.count(Event.id))))
    with pytest.raises(FormInvalid) as err:
        runtime.complete(task_id, {"contact": "张", "mobile": "2380000000", "email": "nope"},
                         runtime.actor("haiyun"))
    assert set(err.value.fields) == {"/contact", "/mobile", "/email", "/commitment"}
    assert err.value.to_dict()["error"] == "validation_failed"
    with runtime.db.read() as s:
        assert (s.scalar(select(Instance.version)), s.scalar(select(func.count(Event.id)))) == before
        assert s.get(HumanTask, task_id).state == "ready"


def test_start_form_is_validated_with_format_checks(runtime: Runtime) -> None:
    with pytest.raises(FormInvalid) as err:
        start(runtime, {"title": "x", "amount": -1})
    assert set(err.value.fields) == {"/title", "/amount"}
    with runtime.db.read() as s:
        assert s.scalar(select(func.count(Instance.id))) == 0


def test_only_a_user_holding_the_role_may_complete(runtime: Runtime) -> None:
    view = start(runtime)
    runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    [approve] = runtime.tasks(runtime.actor("window"))
    with pytest.raises(NotFound):  # another department does not even see it
        runtime.complete(approve.id, {"decision": "approved", "comment": "同意"}, runtime.actor("zhujian"))
    with pytest.raises(NotFound):  # nor does the applicant
        runtime.complete(approve.id, {"decision": "approved", "comment": "同意"}, runtime.actor("haiyun"))
    assert runtime.tasks(runtime.actor("zhujian")) == []


def test_an_enterprise_never_sees_another_enterprises_case(runtime: Runtime) -> None:
    view = start(runtime)
    other = runtime.actor("fushan")
    assert runtime.tasks(other) == [] and runtime.instances(other) == []
    with pytest.raises(NotFound):
        runtime.instance(view.case_number, other)
    with pytest.raises(NotFound):
        runtime.complete(view.open_tasks[0].id, SUBMIT, other)


def test_starting_needs_the_start_lanes_role(runtime: Runtime) -> None:
    with pytest.raises(Forbidden):
        start(runtime, user="window")


def test_completing_twice_is_a_conflict(runtime: Runtime) -> None:
    view = start(runtime)
    runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    with pytest.raises(Conflict):
        runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))


def test_suspend_resume_terminate(runtime: Runtime) -> None:
    admin = runtime.actor("admin")
    view = start(runtime)
    with pytest.raises(Forbidden):
        runtime.suspend(view.case_number, runtime.actor("window"))
    assert runtime.suspend(view.case_number, admin).status == "suspended"
    assert runtime.tasks(runtime.actor("haiyun")) == []  # a suspended case offers no work
    with pytest.raises(Conflict):
        runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    assert runtime.resume(view.case_number, admin).status == "running"
    assert len(runtime.tasks(runtime.actor("haiyun"))) == 1
    ended = runtime.terminate(view.case_number, admin)
    assert ended.status == "terminated" and ended.open_tasks == []
    with runtime.db.read() as s:
        assert s.get(HumanTask, view.open_tasks[0].id).state == "cancelled"
    with pytest.raises(Conflict):
        runtime.resume(view.case_number, admin)


def test_unknown_process_is_not_found(runtime: Runtime) -> None:
    with pytest.raises(NotFound):
        runtime.start("nope", {}, runtime.actor("haiyun"))


def test_a_timer_fires_on_advance_after_the_clock_moves(runtime: Runtime) -> None:
    body = (
        '<bpmn:startEvent id="start"><bpmn:outgoing>f1</bpmn:outgoing></bpmn:startEvent>'
        '<bpmn:intermediateCatchEvent id="wait"><bpmn:incoming>f1</bpmn:incoming><bpmn:outgoing>f2</bpmn:outgoing>'
        '<bpmn:timerEventDefinition><bpmn:timeDuration>"P2D"</bpmn:timeDuration></bpmn:timerEventDefinition>'
        "</bpmn:intermediateCatchEvent>"
        '<bpmn:endEvent id="end"><bpmn:incoming>f2</bpmn:incoming></bpmn:endEvent>'
        '<bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />'
        '<bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="end" />'
    )
    deploy(runtime.db, workspace({"t.bpmn": bpmn("timed", body, {"申请人": ["start", "wait", "end"]})}, key="timed"))
    view = runtime.start("timed", {}, runtime.actor("haiyun"))
    assert view.status == "running" and view.open_tasks == []
    with runtime.db.read() as s:
        version = s.get(Instance, view.id).version
    assert runtime.advance(view.id).status == "running"  # not due yet: nothing written
    with runtime.db.read() as s:
        assert s.get(Instance, view.id).version == version
    clock.travel(timedelta(days=2, seconds=1))
    assert runtime.advance(view.id).status == "completed"
    assert runtime.advance(view.id).status == "completed"  # idempotent


def test_case_number_date_is_the_local_date_in_china(runtime: Runtime) -> None:
    clock.travel(datetime(2026, 11, 22, 17, 30, tzinfo=UTC) - clock.now())  # 01:30 on the 23rd in Qingdao
    assert start(runtime).case_number.startswith("370202SMP20261123")


def test_scale_out_mode_defers_automatic_steps_to_the_dispatcher(runtime: Runtime) -> None:
    queued: list[tuple[int, int]] = []
    deferred = Runtime(runtime.db, runtime.settings, dispatch=lambda case, version: queued.append((case, version)))
    view = deferred.start("sample_approval", START, deferred.actor("haiyun"))
    # the applicant's start step ran with its request (engine/definitions/compiler.py `_applicants_step`), which
    # made the user task after it ready; nothing automatic ran
    assert queued == [(view.id, 1)] and [t.element_id for t in view.open_tasks] == ["submit"]
    worker = runtime  # a worker process: its own runtime, no dispatcher
    worker.advance(view.id, after=1)
    [submit] = worker.tasks(worker.actor("haiyun"))
    assert submit.id == view.open_tasks[0].id
    deferred.complete(submit.id, SUBMIT, deferred.actor("haiyun"))
    assert queued == [(view.id, 1), (view.id, 2)] and worker.tasks(worker.actor("window")) == []
    worker.advance(view.id, after=2)
    assert [t.element_id for t in worker.tasks(worker.actor("window"))] == ["approve"]


def test_a_late_job_a_later_step_superseded_leaves_the_work_to_that_step_s_job(runtime: Runtime) -> None:
    """The applicant submits before the start's job has run (a fast client, a busy worker): that job, run late,
    must not race the submission's own job for the same automatic steps (one of the two would conflict)."""
    queued: list[tuple[int, int]] = []
    deferred = Runtime(runtime.db, runtime.settings, dispatch=lambda case, version: queued.append((case, version)))
    view = deferred.start("sample_approval", START, deferred.actor("haiyun"))
    deferred.complete(view.open_tasks[0].id, SUBMIT, deferred.actor("haiyun"))
    assert queued == [(view.id, 1), (view.id, 2)]
    runtime.advance(view.id, after=1)  # the start's job, late: the submission's job owns what follows it
    assert runtime.tasks(runtime.actor("window")) == []
    with runtime.db.read() as s:
        assert s.get(Instance, view.id).version == 2 and s.get(OutboxEntry, view.id) is not None
    runtime.advance(view.id, after=2)
    assert [t.element_id for t in runtime.tasks(runtime.actor("window"))] == ["approve"]
    with runtime.db.read() as s:
        assert s.get(Instance, view.id).version == 3 and s.get(OutboxEntry, view.id) is None
