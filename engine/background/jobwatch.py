"""The worker's and the beat's logs and the worker's metrics: wired to Celery's signals by `engine.background.jobs`.

Celery would configure logging itself (its own format, every job at INFO); `setup_logging` hands that to
`engine.base.logs`, so a worker writes the same JSON lines as the web app, each with the id of the job it was
written in.  A worker's step figures (engine/runtime/metrics.py) live in its pool processes; with
`TONGBAN_WORKER_METRICS=host:port` the worker serves them at `http://host:port/metrics`, added up over its pool
processes when PROMETHEUS_MULTIPROC_DIR is set (the prefork pool needs it; `--pool threads|solo` does not).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import signals
from prometheus_client import REGISTRY, CollectorRegistry, start_http_server
from prometheus_client.multiprocess import MultiProcessCollector

from engine.base import logs
from engine.base.settings import Settings

log = logging.getLogger(__name__)
_job_tokens: dict[str, Any] = {}


def connect(quiet_jobs: set[str]) -> None:
    """Wire the handlers below to Celery's signals; `quiet_jobs` (the sweeps) log their runs at DEBUG."""
    logs.QUIET_JOBS.update(quiet_jobs)
    signals.setup_logging.connect(_logging)
    signals.task_prerun.connect(_job_started)
    signals.task_postrun.connect(_job_ended)
    signals.worker_init.connect(_metrics_port)


def _logging(**_: Any) -> None:
    settings = Settings.from_env()
    logs.configure(settings.log_format, settings.log_level)


def _job_started(task_id: str, **_: Any) -> None:
    _job_tokens[task_id] = logs.task_id.set(task_id)


def _job_ended(task_id: str, **_: Any) -> None:
    if (token := _job_tokens.pop(task_id, None)) is not None:
        logs.task_id.reset(token)


def _metrics_port(**_: Any) -> None:
    """In the worker's main process, before its pool forks: serve the pool's step metrics when asked to."""
    where = Settings.from_env().worker_metrics
    if where is None:
        return
    registry = REGISTRY
    if folder := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):  # an earlier run's figures must not be added to this one's
            stale.unlink()
        registry = CollectorRegistry()
        MultiProcessCollector(registry)
    else:
        log.warning("TONGBAN_WORKER_METRICS without PROMETHEUS_MULTIPROC_DIR: a prefork pool's figures are not seen "
                    "(set PROMETHEUS_MULTIPROC_DIR to an empty folder, or run the worker with --pool threads)")
    host, port = where
    start_http_server(port, addr=host, registry=registry)
    log.info("worker metrics at http://%s:%s/metrics", host, port)
