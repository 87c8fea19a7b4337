"""The web process as an operator runs it: `tongban serve` on waitress, and `gunicorn -w 2 'api:create_app()'`
without a broker, whose workers fire the timers themselves — each exactly once — on SQLite (issue 13, point 1).

These start real servers in subprocesses, on a SQLite file of their own whatever database the suite runs on.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from engine.base.settings import Settings
from engine.definitions.catalogue import RoleCatalogue
from engine.design.demo import DEMO_ORGS, DEMO_USERS
from engine.people.administration import seed_accounts
from engine.runtime.runtime import SYSTEM, Runtime
from engine.store.db import Database
from engine.store.models import Event, Instance, Timer
from tests.support.repo import REPO, ROLES
from tests.support.timers import timed

BIN = Path(sys.executable).parent
CASES = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answer(port: int, path: str) -> tuple[int, dict[str, str]]:
    """Status and headers of a GET, as any HTTP client sees them."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as reply:
            return reply.status, dict(reply.headers)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers)


def server_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a fresh embedded installation: a SQLite file, no broker."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TONGBAN_")}
    return {**env, "PYTHONPATH": str(REPO), "TONGBAN_INSTANCE": str(tmp_path / "instance"),
            "TONGBAN_DATABASE_URL": f"sqlite:///{tmp_path / 'tongban.db'}", **extra}


@pytest.fixture
def sqlite_runtime(tmp_path: Path) -> Iterator[Runtime]:
    """A migrated SQLite file with the applicant haiyun, whatever database the rest of the suite uses."""
    db = Database(f"sqlite:///{tmp_path / 'tongban.db'}")
    db.upgrade()
    seed_accounts(db, SYSTEM, RoleCatalogue.from_yaml(ROLES), DEMO_ORGS, [u for u in DEMO_USERS if u[0] == "haiyun"])
    settings = Settings(instance_dir=tmp_path / "instance", database_url=db.url, processes_dir=tmp_path,
                        forms_dir=tmp_path, district="370202", timezone=ZoneInfo("Asia/Shanghai"))
    runtime = Runtime(db, settings)
    with runtime.context.entered():
        yield runtime
    db.dispose()


@contextmanager
def running(argv: list[str], env: dict[str, str], port: int, cwd: Path) -> Iterator[subprocess.Popen[str]]:
    """Start a server (its output in cwd/server.log), wait until it answers on `port`; SIGTERM it afterwards."""
    log = cwd / "server.log"
    with log.open("w") as out:
        server = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)
    try:
        deadline = time.monotonic() + 120  # a loaded CI machine boots two workers slowly
        while time.monotonic() < deadline:
            assert server.poll() is None, log.read_text()
            try:
                answer(port, "/api/v1/processes")
                break
            except OSError:
                time.sleep(0.2)
        else:
            pytest.fail(f"the server did not answer in 120 s: {log.read_text()}")
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


def firings(runtime: Runtime, instances: list[int]) -> dict[int, int]:
    with runtime.db.read() as s:
        rows = s.execute(select(Event.instance_id, func.count()).where(
            Event.kind == "timer_fired", Event.instance_id.in_(instances)).group_by(Event.instance_id)).all()
    return dict(rows)


@pytest.mark.parametrize("preload", [False, True], ids=["forked-then-made", "made-then-forked"])
def test_gunicorn_without_a_broker_fires_each_timer_once(sqlite_runtime: Runtime, tmp_path: Path,
                                                         preload: bool) -> None:
    port = free_port()
    argv = [str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}", *(["--preload"] if preload else []),
            "api:create_app()"]
    with running(argv, server_env(tmp_path), port, tmp_path) as server:
        instances = timed(sqlite_runtime, CASES, duration="PT2S")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and len(firings(sqlite_runtime, instances)) < CASES:
            time.sleep(0.25)
        time.sleep(2)  # two sweeping workers had every chance to fire one twice
        assert server.poll() is None
    assert firings(sqlite_runtime, instances) == dict.fromkeys(instances, 1)
    with sqlite_runtime.db.read() as s:
        assert set(s.scalars(select(Instance.status).where(Instance.id.in_(instances)))) == {"completed"}
        assert set(s.scalars(select(Timer.state).where(Timer.instance_id.in_(instances)))) == {"fired"}
        ended = s.scalar(select(func.count()).where(Event.kind == "ended", Event.instance_id.in_(instances)))
    assert ended == CASES


def test_tongban_serve_is_a_production_server(sqlite_runtime: Runtime, tmp_path: Path) -> None:
    port = free_port()
    argv = [str(BIN / "tongban"), "serve", "--port", str(port)]
    with running(argv, server_env(tmp_path, TONGBAN_PROCESSES=str(REPO / "processes")), port, tmp_path) as server:
        status, headers = answer(port, "/api/v1/processes")
        assert status == 401
        assert headers["Server"] == "waitress" and "werkzeug" not in str(headers).lower()
        [instance] = timed(sqlite_runtime, duration="PT1S")  # and its own timer thread fires what comes due
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not firings(sqlite_runtime, [instance]):
            time.sleep(0.25)
        assert firings(sqlite_runtime, [instance]) == {instance: 1}
        os.killpg(server.pid, signal.SIGTERM)  # systemd's stop: it finishes and says so
        server.wait(30)
    output = (tmp_path / "server.log").read_text()
    assert server.returncode == 0, output
    assert re.search(rf"serving http://127\.0\.0\.1:{port} \(embedded, 8 threads\)", output)
    assert "已停止 (stopped)" in output and "Traceback" not in output
