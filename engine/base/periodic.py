"""The embedded mode's background threads: one piece of work repeated at an interval inside the web process.

A fork keeps only the thread that called it, so a gunicorn worker forked from a master that already made the
app (`--preload`) would silently have no timer thread.  Every running `Periodic` therefore survives a fork:
the fork waits until no piece of work is under way (so the child inherits no lock a sweep held mid-step),
and the child starts a thread of its own for it.  Each process's sweeps lease what they take in the database,
so several processes sweeping is safe.  A database's connection pool is reset in the child before that
(engine/store/db.py registers its fork hook first: it is imported before any `Periodic` starts).
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    """Runs `work` now and then every `interval` seconds until stopped; a failure is logged and tried again.

    Each kind of work has its own thread, so a slow one (a mail server taking its time) never delays another
    (timers coming due).
    """

    def __init__(self, name: str, work: Callable[[], object], interval: float) -> None:
        self.name, self.work, self.interval = name, work, interval
        self.stopped = threading.Event()
        self._working = threading.Lock()  # held while `work` runs: a fork waits for it (see the module)
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        _watch_forks()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        _running.add(self)
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def _run(self) -> None:
        while not self.stopped.is_set():
            with self._working:
                if self.stopped.is_set():
                    break
                try:
                    self.work()
                except Exception:
                    log.exception("%s failed; retrying in %s s", self.name, self.interval)
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
        _running.discard(self)

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _before_fork(self) -> None:
        self._working.acquire()

    def _after_fork_in_parent(self) -> None:
        self._working.release()

    def _after_fork_in_child(self) -> None:
        """The parent's thread did not come along: run a fresh one here, with fresh locks."""
        self.stopped, self._working = threading.Event(), threading.Lock()
        self.start()


_running: weakref.WeakSet[Periodic] = weakref.WeakSet()
_forking: list[Periodic] = []  # the ones whose work lock the fork holds, in the order taken
_watching = False


def _before_fork() -> None:
    _forking[:] = sorted(_running, key=lambda p: p.name)
    for periodic in _forking:
        periodic._before_fork()


def _after_fork_in_parent() -> None:
    for periodic in reversed(_forking):
        periodic._after_fork_in_parent()
    _forking.clear()


def _after_fork_in_child() -> None:
    forked, _forking[:] = list(_forking), []
    for periodic in forked:
        periodic._after_fork_in_child()


def _watch_forks() -> None:
    global _watching
    if not _watching:
        _watching = True
        os.register_at_fork(before=_before_fork, after_in_parent=_after_fork_in_parent,
                            after_in_child=_after_fork_in_child)
