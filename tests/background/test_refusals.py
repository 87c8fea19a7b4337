"""Scale-out's worker and beat refuse a SQLite database, also when started as Celery itself (issue 13, point 7)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.repo import REPO


@pytest.mark.parametrize("process", ["worker", "beat"])
def test_celery_itself_refuses_sqlite_with_a_broker(tmp_path: Path, process: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    env.update(PYTHONPATH=str(REPO), TONGBAN_BROKER_URL="memory://",
               TONGBAN_DATABASE_URL=f"sqlite:///{tmp_path / 'tongban.db'}")
    run = subprocess.run([sys.executable, "-m", "celery", "-A", "engine.background.jobs", process], env=env,
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    assert "SQLite" in run.stderr and "TONGBAN_DATABASE_URL" in run.stderr and "Traceback" not in run.stderr
