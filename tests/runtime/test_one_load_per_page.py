"""A task page (and a case page) reads its case's row once and deserializes its workflow once at most: the task,
its case in detail and its labelled data come from one read (`Runtime.task_page`). It used to be three of each."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import event

from engine.bpmn import state
from engine.runtime.runtime import Runtime
from tests.support.http import log_in

START = {"title": "办公用房改造", "amount": 50_000}
SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "z@example.cn", "commitment": True}


@pytest.fixture
def counted(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Any:
    """`with counted() as seen:` counts workflow deserializations and reads of an instance row (with its state)."""
    seen = {"loads": 0, "rows": 0}
    real = state.loads

    def loads(*args: Any) -> Any:
        seen["loads"] += 1
        return real(*args)

    def statement(_conn: Any, _cursor: Any, sql: str, *_: Any) -> None:
        if sql.lstrip().upper().startswith("SELECT") and "instances.state" in sql:
            seen["rows"] += 1

    monkeypatch.setattr(state, "loads", loads)

    @contextmanager
    def counting() -> Iterator[dict[str, int]]:
        seen.update(loads=0, rows=0)
        event.listen(runtime.db.engine, "before_cursor_execute", statement)
        try:
            yield seen
        finally:
            event.remove(runtime.db.engine, "before_cursor_execute", statement)

    return counting


def _case_started_elsewhere(runtime: Runtime) -> Any:
    """Started by another runtime (another process): this one has nothing of it in memory yet."""
    other = Runtime(runtime.db, runtime.settings)
    return other.start("sample_approval", START, other.actor("haiyun"))


def test_a_task_page_reads_its_case_once_and_deserializes_it_once(runtime: Runtime, client: FlaskClient,
                                                                  counted: Any) -> None:
    view = _case_started_elsewhere(runtime)
    task_id = view.open_tasks[0].id
    log_in(client, "haiyun")
    with counted() as seen:
        page = client.get(f"/tasks/{task_id}")
    assert page.status_code == 200 and view.case_number in page.get_data(as_text=True)
    assert seen == {"loads": 1, "rows": 1}
    with counted() as seen:  # the workflow it read stays live (borrowed and put back, never taken for good)
        assert client.get(f"/tasks/{task_id}").status_code == 200
    assert seen == {"loads": 0, "rows": 1}
    with counted() as seen:  # and the completion that follows the page starts from it too
        runtime.complete(task_id, SUBMIT, runtime.actor("haiyun"))
    assert seen["loads"] == 0


def test_a_case_page_reads_its_case_once(runtime: Runtime, client: FlaskClient, counted: Any) -> None:
    view = _case_started_elsewhere(runtime)
    log_in(client, "haiyun")
    with counted() as seen:
        page = client.get(f"/cases/{view.id}")
    assert page.status_code == 200 and view.case_number in page.get_data(as_text=True)
    assert seen == {"loads": 1, "rows": 1}


def test_a_page_does_not_serve_a_workflow_another_process_moved_on(runtime: Runtime, client: FlaskClient) -> None:
    """What a page leaves live is the version it read: a step elsewhere makes it a miss, not stale data."""
    view = _case_started_elsewhere(runtime)
    task_id = view.open_tasks[0].id
    log_in(client, "haiyun")
    assert client.get(f"/tasks/{task_id}").status_code == 200  # version 1 now live in this runtime
    other = Runtime(runtime.db, runtime.settings)
    other.complete(task_id, SUBMIT, other.actor("haiyun"))  # version 1 -> 2 elsewhere
    detail = runtime.instance(view.id, runtime.actor("admin"), detail=True)
    assert detail.data["contact"] == "张三" and [t.element_id for t in detail.open_tasks] == ["approve"]
