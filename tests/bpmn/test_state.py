"""Stored state excludes the spec; the cached spec is re-attached on load."""

from __future__ import annotations

import json

import pytest
from SpiffWorkflow.task import TaskState
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from engine.base.errors import FormInvalid
from engine.bpmn import state
from engine.runtime.runtime import Runtime
from engine.store.models import Instance

START = {"title": "状态测试", "amount": 50_000}


def test_instance_row_holds_the_workflow_without_its_spec(runtime: Runtime) -> None:
    view = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    with runtime.db.read() as s:
        blob = s.scalar(select(Instance.state).where(Instance.id == view.id))
    stored = json.loads(blob)
    assert "spec" not in stored and "subprocess_specs" not in stored
    # nothing of the spec: no condition, no form property, no script
    for spec_text in (b"amount > threshold", b"formJsonSchemaFilename", b"decision = "):
        assert spec_text not in blob
    assert len(blob) < 4000


def test_loading_reuses_the_one_cached_spec(runtime: Runtime) -> None:
    view = runtime.start("sample_approval", START, runtime.actor("haiyun"))
    with runtime.db.read() as s:
        instance = s.get(Instance, view.id)
    with runtime.db.reading() as conn:
        _, compiled = runtime.compiled_version(conn, instance.version_id)
        runtime._versions.clear()  # even when the version row is read again, the parsed spec is shared
        assert runtime.compiled_version(conn, instance.version_id)[1] is compiled
    a, b = state.loads(instance.state, compiled), state.loads(instance.state, compiled)
    assert a.spec is b.spec is compiled.spec
    assert state.dumps(a) == instance.state
    [ready] = [t for t in a.get_tasks() if t.task_spec.name == "submit" and t.state == TaskState.READY]
    assert ready.data["title"] == "状态测试"


def test_the_event_log_is_append_only_in_the_database(runtime: Runtime) -> None:
    runtime.start("sample_approval", START, runtime.actor("haiyun"))
    for statement in ("UPDATE events SET kind = 'forged'", "DELETE FROM events"):
        with pytest.raises(DBAPIError, match="append-only"), runtime.db.write() as session:
            session.execute(text(statement))
    with runtime.db.read() as session:
        assert session.scalar(text("SELECT count(*) FROM events WHERE kind = 'started'")) == 1


def test_the_live_workflow_cache_never_serves_a_stale_or_failed_step(runtime: Runtime) -> None:
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", START, haiyun)
    other = Runtime(runtime.db, runtime.settings)  # another process: its own cache
    submit = {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn", "commitment": True}
    other.complete(view.open_tasks[0].id, submit, other.actor("haiyun"))  # version 1 -> 2 elsewhere
    # this runtime still holds version 1 in its cache: it must notice, reload and see the approve task
    [approve] = runtime.tasks(runtime.actor("window"))
    done = runtime.complete(approve.id, {"decision": "approved", "comment": "同意"}, runtime.actor("window"))
    assert done.status == "completed"
    with runtime.db.read() as s:
        assert s.scalar(select(Instance.version).where(Instance.id == view.id)) == 3
    fresh = runtime.start("sample_approval", START, haiyun)
    with pytest.raises(FormInvalid):  # a refused step leaves the cached workflow untouched and usable
        runtime.complete(fresh.open_tasks[0].id, {"contact": "x"}, haiyun)
    assert runtime.complete(fresh.open_tasks[0].id, submit, haiyun).status == "running"
