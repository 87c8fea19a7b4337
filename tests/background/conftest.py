"""The jobs' fixture: they run in-process, on the test's runtime."""

from __future__ import annotations

import pytest

from engine.background import jobs
from engine.runtime.runtime import Runtime


@pytest.fixture
def in_worker(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> Runtime:
    """The jobs use the test's runtime as their worker process's own (it runs automatic steps inline)."""
    monkeypatch.setattr(jobs, "worker_runtime", lambda: runtime)
    return runtime
