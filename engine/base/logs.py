"""Logging, configured once for every process tongban runs: the web app (`tongban serve`, gunicorn), the worker
and the beat.

One JSON object a line by default — what a log shipper (journald, Loki, Elasticsearch) indexes without a
parser — or a line for a person at a terminal (`TONGBAN_LOG_FORMAT=text`).  Each line carries the request id
of the HTTP request it was written for, or the id of the job, so one case's trail can be followed across the
web server and the workers.  The beat's and the worker's once-a-second sweeps are logged at DEBUG: at INFO they
were 86,400 lines a day saying nothing happened.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from pythonjsonlogger.json import JsonFormatter

#: the HTTP request (api/observability.py) or the job (engine/background/jobs.py) a line is written for
request_id: ContextVar[str | None] = ContextVar("tongban_request_id", default=None)
task_id: ContextVar[str | None] = ContextVar("tongban_task_id", default=None)

#: Celery's own per-job lines ("received", "succeeded") and the beat's "sending due task", for these jobs, are
#: demoted to DEBUG (see `QuietJobs`); `engine.background.jobs` names its once-a-second jobs here
QUIET_JOBS: set[str] = set()
#: libraries whose INFO lines are not for operators: SpiffWorkflow logs every task's state change *with the case
#: data* at INFO, which must never reach a log shipper
QUIET_LIBRARIES = {"spiff": logging.WARNING}
_CELERY_JOB_LOGGERS = frozenset({"celery.app.trace", "celery.worker.strategy", "celery.beat"})


class Context(logging.Filter):
    """Puts the current request id and job id on every record (as `request_id`, `task_id`), when there is one."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", request_id), ("task_id", task_id)):
            if (value := var.get()) is not None and not hasattr(record, name):
                setattr(record, name, value)
        return True


class QuietJobs(logging.Filter):
    """Celery logs every job it receives and finishes at INFO; for the sweeps (every second) that is noise.

    Those records are lowered to DEBUG here, and dropped unless the root logger is set to DEBUG.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name not in _CELERY_JOB_LOGGERS or record.levelno != logging.INFO or not QUIET_JOBS:
            return True
        if not QUIET_JOBS.intersection(_job_names(record)):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().isEnabledFor(logging.DEBUG)


def _job_names(record: logging.LogRecord) -> Iterable[str]:
    """The job a Celery record is about: `{'name': …}` in the worker's records, `(entry, task)` in the beat's."""
    args = record.args
    if isinstance(args, Mapping):
        return [str(args.get("name"))]
    return [str(a) for a in args or ()]


class Json(JsonFormatter):
    """time (ISO 8601, UTC, milliseconds), level, logger, message, then request_id / task_id and any extras."""

    def __init__(self) -> None:
        super().__init__(["asctime", "levelname", "name", "message"], json_ensure_ascii=False,
                         rename_fields={"asctime": "time", "levelname": "level", "name": "logger"})

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        return datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")


class Text(logging.Formatter):
    """For a person: `2026-12-01 19:47:05,123 INFO    api.errors [req 5f1c…] message`."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s%(context)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [f"{label} {value}" for label, value in (("req", getattr(record, "request_id", None)),
                                                        ("job", getattr(record, "task_id", None))) if value]
        record.context = f" [{', '.join(ids)}]" if ids else ""
        return super().format(record)


class Stderr(logging.StreamHandler):  # type: ignore[type-arg]
    """A handler writing to whatever `sys.stderr` is when a line is written, not when it was made (a test runner
    or a daemon swaps it; a handler bound to the old one writes into a closed file)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property  # type: ignore[override]
    def stream(self) -> Any:
        return sys.stderr

    @stream.setter
    def stream(self, _: Any) -> None:
        pass


def dict_config(fmt: str, level: str) -> dict[str, Any]:
    """The `logging.config.dictConfig` of every tongban process; gunicorn takes it as `logconfig_dict`, so its own
    lines (gunicorn.error, gunicorn.access) come out in the same format."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "handlers": {"stderr": {"()": handler, "fmt": fmt}},
        "root": {"level": level, "handlers": ["stderr"]},
        "loggers": {**{name: {"level": level, "handlers": [], "propagate": True}
                       for name in ("gunicorn.error", "gunicorn.access", "waitress", "celery")},
                    **{name: {"level": max(at_least, logging.getLevelName(level))}
                       for name, at_least in QUIET_LIBRARIES.items()}},
    }


def handler(fmt: str) -> logging.Handler:
    """The handler every tongban process writes through: stderr, `fmt` (json | text), ids and quiet sweeps."""
    out = Stderr()
    out.setFormatter(Json() if fmt == "json" else Text())
    out.addFilter(Context())
    out.addFilter(QuietJobs())
    return out


def configure(fmt: str, level: str, force: bool = False) -> None:
    """Set up logging (`Settings.log_format`, `.log_level`: TONGBAN_LOG_FORMAT, TONGBAN_LOG_LEVEL), once per process:
    the app factory, the worker and the beat all call it, and later calls change nothing unless `force`.

    Adds tongban's handler to the root logger and leaves any other there (a test runner's, an embedding
    program's); gunicorn's own loggers are configured by `dict_config` in api/gunicorn_conf.py.
    """
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, Stderr)]  # also when `dict_config` made it (gunicorn)
    if ours and not force:
        return
    for old in ours:
        root.removeHandler(old)
    root.addHandler(handler(fmt))
    root.setLevel(level)
    for name, at_least in QUIET_LIBRARIES.items():
        logging.getLogger(name).setLevel(max(at_least, logging.getLevelName(level)))
