"""The embedded mode's background threads: one piece of work repeated at an interval inside `tongban serve`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic(threading.Thread):
    """Runs `work` now and then every `interval` seconds until stopped; a failure is logged and tried again.

    Each kind of work has its own thread, so a slow one (a mail server taking its time) never delays another
    (timers coming due).
    """

    def __init__(self, name: str, work: Callable[[], object], interval: float) -> None:
        super().__init__(name=name, daemon=True)
        self.work, self.interval = work, interval
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                self.work()
            except Exception:
                log.exception("%s failed; retrying in %s s", self.name, self.interval)
            self.stopped.wait(self.interval)

    def stop(self) -> None:
        self.stopped.set()
