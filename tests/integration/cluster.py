"""Real `tongban worker`, `tongban beat` and gunicorn web processes against a real broker and database, for the
fault tests, the compose and scale tests and `bench/timers.py`, `bench/scale.py`: each process leads its own
process group, so `kill -9` takes the whole worker (parent and pool children) the way a crashed machine would."""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import IO

from engine.background.jobs import make_app

BIN = Path(sys.executable).parent
TONGBAN = str(BIN / "tongban")
#: the web command of compose.yaml, the Dockerfile and the systemd unit, minus its workers and address
GUNICORN = [str(BIN / "gunicorn"), "-c", "python:api.gunicorn_conf"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def spawn(argv: list[str], env: dict[str, str], cwd: Path, log: IO[bytes]) -> subprocess.Popen[bytes]:
    """A process leading its own process group (killed whole by `stop`), its output in `log`."""
    return subprocess.Popen(argv, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True)


def stop(procs: Iterable[subprocess.Popen[bytes]], grace: float = 0) -> None:
    """End each process group: SIGTERM and up to `grace` seconds for a warm stop, else (or with 0) SIGKILL."""
    procs = list(procs)
    for proc in procs:
        _signal_group(proc, signal.SIGTERM if grace else signal.SIGKILL)
    deadline = time.monotonic() + grace
    for proc in procs:
        try:
            proc.wait(max(deadline - time.monotonic(), 0.1) if grace else 10)
        except subprocess.TimeoutExpired:
            _signal_group(proc, signal.SIGKILL)
            proc.wait(10)


def _signal_group(proc: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """The whole group, even when its leader has exited already (a pool child may outlive it)."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def purge(broker_url: str) -> None:
    """Empty the job queue (this raises when the broker is unreachable: a failure, never a skip)."""
    app = make_app(broker_url, current=False)
    with app.connection_for_write() as conn:
        conn.ensure_connection(max_retries=2)
        app.control.purge(connection=conn)


class Cluster:
    def __init__(self, database_url: str, broker_url: str, workdir: Path) -> None:
        self.workdir = workdir
        self.env = {**os.environ, "TONGBAN_DATABASE_URL": database_url, "TONGBAN_BROKER_URL": broker_url,
                    "TONGBAN_INSTANCE": str(workdir), "TONGBAN_SECRET_KEY": secrets.token_hex(32)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        self._logs.append(log)
        proc = spawn(argv, self.env, self.workdir, log)
        self.procs[name] = proc
        return proc

    def worker(self, name: str, concurrency: int = 2) -> subprocess.Popen[bytes]:
        return self._spawn(name, [TONGBAN, "worker", "-n", f"{name}@%h", "-c", str(concurrency),
                                  "--without-gossip", "--without-mingle"])

    def beat(self, name: str) -> subprocess.Popen[bytes]:
        return self._spawn(name, [TONGBAN, "beat"])

    def web(self, name: str, processes: int, port: int) -> subprocess.Popen[bytes]:
        """gunicorn with `processes` workers on 127.0.0.1:`port`, as compose.yaml's web service runs it."""
        return self._spawn(name, [*GUNICORN, "-w", str(processes), "-b", f"127.0.0.1:{port}", "api:create_app()"])

    def stop(self, name: str, grace: float) -> None:
        """SIGTERM the process (a worker finishes the job in hand), SIGKILL after `grace` seconds."""
        stop([self.procs.pop(name)], grace)

    def kill(self, name: str) -> None:
        """kill -9 the process and its pool children, all at once."""
        proc = self.procs[name]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)

    def log(self, name: str) -> str:
        return (self.workdir / f"{name}.log").read_text(errors="replace")

    def alive(self) -> list[str]:
        return [name for name, proc in self.procs.items() if proc.poll() is None]

    def close(self) -> None:
        stop(self.procs.values())
        for log in self._logs:
            log.close()

    def __enter__(self) -> Cluster:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def wait_for(condition: Callable[[], bool], timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()
