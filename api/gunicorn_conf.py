"""gunicorn's settings for tongban: `gunicorn -c python:api.gunicorn_conf -w 4 -b 0.0.0.0:8000 'api:create_app()'`.

- gunicorn's own lines (its master, its workers, the access log) in tongban's log format (engine/base/logs.py),
  each access line with the request's id;
- Prometheus' multiprocess mode when PROMETHEUS_MULTIPROC_DIR is set: the folder is emptied when the master
  starts (figures of an earlier run must not be added to this one's), and a worker that exits is marked dead
  so `/metrics`, answered by any one worker, adds up the figures of all of them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from prometheus_client import multiprocess

from engine.base import logs
from engine.base.settings import Settings

_settings = Settings.from_env()
logconfig_dict = logs.dict_config(_settings.log_format, _settings.log_level)
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms request_id=%({x-request-id}o)s'
#: a step takes milliseconds; a request still running after this is stuck (the script budget stops scripts at 2 s)
timeout = 60
graceful_timeout = 30


def on_starting(_server: Any) -> None:
    if folder := os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        path = Path(folder)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()


def child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        multiprocess.mark_process_dead(worker.pid)
