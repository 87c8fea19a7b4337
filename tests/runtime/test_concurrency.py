"""Real threads against the real database: optimistic concurrency and unique case numbers."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from sqlalchemy import func, select

from engine.base.errors import Conflict
from engine.runtime.runtime import Runtime
from engine.store.models import Event, HumanTask, Instance

START = {"title": "并发测试", "amount": 50_000}
SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "zhang@example.cn", "commitment": True}


def test_two_concurrent_completions_of_one_task_one_wins_one_conflicts(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", START, haiyun)
    task_id = view.open_tasks[0].id
    # Both threads must have read the same instance version before either writes: hold them at the
    # write until both arrive, so the race is certain rather than likely.
    both_read = threading.Barrier(2, timeout=10)
    commit = Runtime._commit

    def racing_commit(self: Runtime, *args: Any, **kwargs: Any) -> Any:
        both_read.wait()
        return commit(self, *args, **kwargs)

    monkeypatch.setattr(Runtime, "_commit", racing_commit)

    def attempt(contact: str) -> str:
        try:
            runtime.complete(task_id, {**SUBMIT, "contact": contact}, haiyun)
            return "ok"
        except Conflict:
            return "conflict"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(attempt, ["甲方", "乙方"]))
    assert outcomes == ["conflict", "ok"]
    with runtime.db.read() as s:
        assert s.scalar(select(Instance.version)) == 2
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "task_completed")) == 1
        assert s.scalar(select(func.count(HumanTask.id)).where(HumanTask.element_id == "approve")) == 1
        assert s.get(HumanTask, task_id).state == "completed"
    [approve] = runtime.tasks(runtime.actor("window"))
    assert approve.element_id == "approve"


def test_concurrent_starts_get_unique_gapless_case_numbers(runtime: Runtime) -> None:
    haiyun, fushan = runtime.actor("haiyun"), runtime.actor("fushan")
    go = threading.Barrier(2, timeout=10)

    def starts(actor: Any) -> list[str]:
        go.wait()
        return [runtime.start("sample_approval", START, actor).case_number for _ in range(20)]

    with ThreadPoolExecutor(2) as pool:
        numbers = [n for batch in pool.map(starts, [haiyun, fushan]) for n in batch]
    assert len(set(numbers)) == 40
    assert sorted(int(n[-6:]) for n in numbers) == list(range(1, 41))


def test_concurrent_completions_of_different_instances_all_succeed(runtime: Runtime) -> None:
    haiyun = runtime.actor("haiyun")
    tasks = [runtime.start("sample_approval", START, haiyun).open_tasks[0].id for _ in range(10)]
    with ThreadPoolExecutor(2) as pool:
        views = list(pool.map(lambda t: runtime.complete(t, SUBMIT, haiyun), tasks))
    assert all(len(v.open_tasks) == 0 for v in views)
    assert len(runtime.tasks(runtime.actor("window"))) == 10
