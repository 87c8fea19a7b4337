"""The embedded mode's background threads: started by the app factory once per process and database, none in
scale-out, stopped cleanly, and carried across a fork (gunicorn --preload forks after the app was made)."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from api import create_app
from engine.background import embedded
from engine.base.periodic import Periodic
from engine.base.settings import SmtpSettings
from engine.runtime.runtime import Runtime

#: not the script budget's watchdog, say
EMBEDDED = {"tongban-timers", "tongban-retention", "tongban-mail", "tongban-checkpoint"}


def background_threads() -> set[str]:
    return {t.name for t in threading.enumerate()} & EMBEDDED


@pytest.fixture
def clean() -> Iterator[None]:
    assert background_threads() == set()  # no test left threads behind
    yield
    embedded.stop_all()
    assert background_threads() == set()


def test_an_app_over_a_given_runtime_leaves_its_background_to_the_caller(runtime: Runtime, clean: None) -> None:
    create_app(runtime.settings, runtime)
    assert background_threads() == set()


def test_started_once_per_process_and_database(runtime: Runtime, clean: None) -> None:
    first = create_app(runtime.settings, runtime, background=True)
    create_app(runtime.settings, Runtime(runtime.db, runtime.settings), background=True)  # a second app, same file
    assert first is not None
    assert background_threads() == ({"tongban-timers", "tongban-retention", "tongban-checkpoint"}
                                    if runtime.db.is_sqlite else {"tongban-timers", "tongban-retention"})
    assert [t.name for t in threading.enumerate()].count("tongban-timers") == 1
    running = embedded.start(runtime)
    assert running is not None and all(t.is_alive() for t in running.threads)
    embedded.stop_all()
    assert not any(t.is_alive() for t in running.threads)  # stopped, and joined: not merely told to stop


def test_the_mail_thread_runs_when_smtp_is_set(runtime: Runtime, clean: None) -> None:
    smtp = SmtpSettings(host="127.0.0.1", sender="tongban@shinan.gov.cn")
    with_mail = Runtime(runtime.db, dataclasses.replace(runtime.settings, smtp=smtp))
    embedded.start(with_mail)
    assert "tongban-mail" in background_threads()


def test_scale_out_starts_nothing(runtime: Runtime, clean: None) -> None:
    broker = Runtime(runtime.db, dataclasses.replace(runtime.settings, broker_url="memory://"))
    assert embedded.start(broker) is None
    assert background_threads() == set()


def test_a_forked_child_runs_the_work_itself(tmp_path: Path) -> None:
    """After os.fork() only the forking thread exists in the child: the child starts its own thread."""
    seen = tmp_path / "pids"
    periodic = Periodic("tongban-test", lambda: seen.open("a").write(f"{os.getpid()}\n"), 0.05)
    periodic.start()
    try:
        while not seen.exists():
            time.sleep(0.01)
        child = os.fork()
        if child == 0:  # the child: wait for a line written by this process, then leave without pytest's cleanup
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if str(os.getpid()) in seen.read_text().split():
                    os._exit(0)
                time.sleep(0.02)
            os._exit(1)
        _, status = os.waitpid(child, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        assert periodic.is_alive()  # the parent's thread carries on
    finally:
        periodic.stop()
        periodic.join(5)
    assert not periodic.is_alive()
