"""A CPU-time and memory budget per script evaluation, enforced inside the process by one watchdog thread.

Scripts run in the web server's threads and in Celery's prefork workers, dozens of evaluations per
step (a decision table evaluates a cell per rule), so neither process-wide limits (`setrlimit` would
stop the whole server) nor a process per evaluation will do: an evaluation costs about 2 µs here,
a round trip to a waiting helper process some 60 µs and a fresh interpreter more than a second.

So each evaluation registers itself while it runs. The watchdog, asleep while nothing is registered,
wakes every `TICK` and reads each registered thread's CPU clock (`pthread_getcpuclockid`) and the
process's resident memory (`/proc/self/statm`); an evaluation over either budget gets `Exhausted`
raised inside its thread (`PyThreadState_SetAsyncExc`). Python sees such an exception only between
bytecodes, so the guards in engine/bpmn/scripting.py keep every single C-level operation small; and it
is raised at most once per evaluation, under the lock the evaluation takes to finish, and cleared
again if still pending then, so it never reaches code after the evaluation.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading
import time
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any, TypeVar

from engine.base.settings import ScriptBudget

#: How often the watchdog looks while an evaluation runs: the most a budget is overrun by, give or take
#: the interpreter's thread switch interval (5 ms) for the watchdog to get its turn.
TICK = 0.01
#: While the thread runs other code than the caller named as safe to interrupt (a helper reading the
#: working-day calendar from the database, say), the exception waits up to this long for it to come back.
GRACE = 1.0

T = TypeVar("T")

#: outside any runtime: the TONGBAN_SCRIPT_* variables the process started with (a runtime enters its settings')
FROM_ENVIRONMENT = ScriptBudget.from_env(os.environ)
CURRENT: ContextVar[ScriptBudget] = ContextVar("tongban_script_budget", default=FROM_ENVIRONMENT)


def current() -> ScriptBudget:
    """The budget of the runtime whose code runs now (engine/runtime/context.py)."""
    return CURRENT.get()


_set_async_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
_cpu_clock: Callable[[int], int] | None = getattr(time, "pthread_getcpuclockid", None)
_PAGE = os.sysconf("SC_PAGE_SIZE")


class Exhausted(BaseException):
    """Raised in an evaluation that used up its budget. A BaseException, so that `except Exception` in helper
    code lets it through; scripts cannot catch it either (every handler of theirs starts with `check()`)."""


class _Watch:
    """One running evaluation, as the watchdog sees it."""

    __slots__ = ("budget", "clock", "cpu_start", "done", "fired", "ident", "interruptible", "over_since", "reason",
                 "rss_start", "started")

    def __init__(self, ident: int, budget: ScriptBudget, interruptible: frozenset[str]) -> None:
        self.ident = ident
        self.budget = budget
        self.interruptible = interruptible
        self.clock = None if _cpu_clock is None else _cpu_clock(ident)  # computed from the thread id: no system call
        self.started = time.monotonic()
        # Set by the watchdog when it first looks, not here: reading a thread's CPU clock is a system call, which
        # on a busy virtual machine took 5 µs at the median and 0.7 ms on average — most of an evaluation's cost,
        # in every evaluation, for the few that run long enough to be looked at (see `_over`).
        self.cpu_start: float | None = None
        self.rss_start: int | None = None  # set by the watchdog from the reading it took before this began
        self.over_since: float | None = None
        self.fired = False
        self.done = False
        self.reason = ""

    def cpu_now(self) -> float:
        """The thread's CPU time (wall time where the platform has no per-thread clock)."""
        return time.monotonic() if self.clock is None else time.clock_gettime(self.clock)

    def message(self) -> str:
        if self.reason == "memory":
            return (f"脚本超出内存限制 {self.budget.memory_mb} MB (script exceeded its memory budget of "
                    f"{self.budget.memory_mb} MB)")
        return (f"脚本超出 CPU 时间限制 {self.budget.cpu_seconds:g} 秒 (script exceeded its CPU budget of "
                f"{self.budget.cpu_seconds:g} s)")


def _rss() -> int | None:
    """The process's resident memory in bytes; None where /proc is not there (then only the guards bound memory)."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            return int(statm.read().split()[1]) * _PAGE
    except OSError:
        return None


class _Watchdog:
    """The registry of running evaluations and the one thread that watches them."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.watches: dict[int, _Watch] = {}
        self.wake = threading.Event()
        self.idle = True
        self.thread: threading.Thread | None = None

    def arm(self, watch: _Watch) -> None:
        self.watches[watch.ident] = watch
        if self.idle:
            if self.thread is None:
                with self.lock:
                    if self.thread is None:
                        self.thread = threading.Thread(target=self._loop, name="tongban-script-budget", daemon=True)
                        self.thread.start()
            self.wake.set()

    def disarm(self, watch: _Watch) -> None:
        """Take the watch off. Once `done` is set (under the lock the watchdog fires under) nothing more is
        injected; one injected but not yet raised is cleared. If it is raised in here, start over."""
        while True:
            try:
                with self.lock:
                    watch.done = True
                self.watches.pop(watch.ident, None)
                if watch.fired:
                    _set_async_exc(ctypes.c_ulong(watch.ident), None)
                return
            except Exhausted:
                continue

    def _loop(self) -> None:
        rss = _rss()
        while True:
            if not self.watches:
                self.idle = True
                self.wake.clear()
                if not self.watches:
                    self.wake.wait()
                self.idle = False
                rss = _rss()
            time.sleep(TICK)
            now = _rss()
            for watch in list(self.watches.values()):
                if watch.rss_start is None:
                    watch.rss_start = rss
                reason = self._over(watch, now)
                if reason:
                    self._fire(watch, reason)
            rss = now

    @staticmethod
    def _over(watch: _Watch, rss: int | None) -> str | None:
        try:
            cpu = watch.cpu_now()
        except OSError:  # the thread is gone: its evaluation is over
            return None
        if watch.cpu_start is None:  # the first look: the time it ran before counts in full, CPU or not (< TICK)
            watch.cpu_start = cpu - (time.monotonic() - watch.started)
        used = cpu - watch.cpu_start
        if used > watch.budget.cpu_seconds:
            return "cpu"
        if rss is not None and watch.rss_start is not None and rss - watch.rss_start > watch.budget.memory_mb << 20:
            return "memory"
        return None

    def _fire(self, watch: _Watch, reason: str) -> None:
        """Raise Exhausted in the evaluating thread, preferably while it runs the script itself."""
        moment = time.monotonic()
        if watch.over_since is None:
            watch.over_since = moment
        frame = sys._current_frames().get(watch.ident)
        if (frame is None or frame.f_code.co_filename not in watch.interruptible) and moment - watch.over_since < GRACE:
            return
        with self.lock:
            if watch.done or watch.fired:
                return
            watch.fired, watch.reason = True, reason
            _set_async_exc(ctypes.c_ulong(watch.ident), ctypes.py_object(Exhausted))


_dog = _Watchdog()


def _after_fork() -> None:
    """A forked child (a Celery pool process) has no watchdog thread and runs no evaluation yet."""
    global _dog
    _dog = _Watchdog()


os.register_at_fork(after_in_child=_after_fork)


def run(budget: ScriptBudget, interruptible: frozenset[str], call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` within `budget`; Exhausted (with a message naming the budget) when it used it up.

    `interruptible` names the source files (code objects' `co_filename`) where the exception may be raised
    at once: the script's own and code written to be stopped anywhere. An evaluation inside another one on
    the same thread runs within the outer one's budget.
    """
    dog = _dog
    ident = threading.get_ident()
    if ident in dog.watches:
        return call(*args)
    watch = _Watch(ident, budget, interruptible)
    result: Any = None
    try:
        dog.arm(watch)
        result = call(*args)
    except Exhausted:
        pass  # reported below, once the watch is off
    finally:
        dog.disarm(watch)
    if watch.fired:
        raise Exhausted(watch.message())
    return result


def check() -> None:
    """The first statement of every `except` and `finally` body in a script: an exhausted budget cannot be
    caught, and a `finally` cannot keep running after it."""
    watch = _dog.watches.get(threading.get_ident())
    if watch is not None and watch.fired:
        raise Exhausted(watch.message())
