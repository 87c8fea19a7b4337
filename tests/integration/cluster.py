"""Real `tongban worker` and `tongban beat` processes against a real broker and database, for the fault
tests and `bench/timers.py`: each process leads its own process group, so `kill -9` takes the whole
worker (parent and pool children) the way a crashed machine would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

from engine.background.jobs import make_app

TONGBAN = str(Path(sys.executable).with_name("tongban"))


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
                    "TONGBAN_INSTANCE": str(workdir)}
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self._logs: list[IO[bytes]] = []

    def _spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = (self.workdir / f"{name}.log").open("wb")
        self._logs.append(log)
        proc = subprocess.Popen([TONGBAN, *argv], env=self.env, cwd=self.workdir, stdout=log,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs[name] = proc
        return proc

    def worker(self, name: str, concurrency: int = 2) -> subprocess.Popen[bytes]:
        return self._spawn(name, ["worker", "-n", f"{name}@%h", "-c", str(concurrency),
                                  "--without-gossip", "--without-mingle"])

    def beat(self, name: str) -> subprocess.Popen[bytes]:
        return self._spawn(name, ["beat"])

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
        for proc in self.procs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
        for proc in self.procs.values():
            proc.wait(10)
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
