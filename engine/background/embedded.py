"""The embedded mode's background work, run by the web process itself when no broker is set.

Without a broker nobody else fires timers, raises SLA notices, mails notice copies or runs the retention job:
`tongban beat` and the workers exist only in scale-out.  So every web process of an embedded installation —
`tongban serve`, or each worker of `gunicorn -w 2 'api:create_app()'` — runs them, started once per process
and database however many apps it makes.  Several processes sweeping one database is safe: claims are leased
rows (`timers.claim_due`), and a step is guarded by its instance's version counter, so each timer fires once.
The threads survive a fork (engine/base/periodic.py) and stop at interpreter exit, after the piece of work in
hand.
"""

from __future__ import annotations

import atexit
import threading

from engine.background import mail, retention
from engine.background.timers import TimerThread
from engine.base.periodic import Periodic
from engine.runtime.context import entered_for
from engine.runtime.runtime import Runtime

#: How long stopping waits for the work in hand (a sweep's steps take milliseconds; a mail server may not).
STOP_WAIT = 15.0


class Embedded:
    """One runtime's background threads: timers and SLA notices, the hourly retention job, notice mail (with
    SMTP), SQLite checkpoints."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        retain = entered_for(lambda: retention.run(runtime), runtime.context)
        self.threads: list[Periodic] = [TimerThread(runtime), Periodic("tongban-retention", retain, retention.EVERY)]
        if runtime.settings.smtp is not None:
            send = entered_for(lambda: mail.sweep(runtime.settings, runtime.db), runtime.context)
            self.threads.append(Periodic("tongban-mail", send, mail.EVERY))

    def start(self) -> None:
        self.runtime.db.background_checkpoints()  # SQLite: the write-ahead log's upkeep leaves the requests
        for thread in self.threads:
            thread.start()

    def stop(self) -> None:
        for thread in self.threads:
            thread.stop()
        for thread in self.threads:
            thread.join(STOP_WAIT)
        self.runtime.db.stop_checkpoints()


_lock = threading.Lock()
_started: dict[str, Embedded] = {}  # by database URL: one set of threads per process and database


def start(runtime: Runtime) -> Embedded | None:
    """Start the background threads for `runtime`'s database unless this process runs them already; None in
    scale-out (a broker is set: the beat and the workers do this work)."""
    if runtime.settings.broker_url is not None:
        return None
    with _lock:
        if (running := _started.get(runtime.db.url)) is None:
            running = _started[runtime.db.url] = Embedded(runtime)
            running.start()
        return running


def stop_all() -> None:
    """Stop every set of threads this process started (and let a later `start` begin anew)."""
    with _lock:
        running = list(_started.values())
        _started.clear()
    for embedded in running:
        embedded.stop()


atexit.register(stop_all)
