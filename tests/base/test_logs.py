"""Log lines: JSON or text, request and job ids, Celery's per-sweep lines at DEBUG, the settings that choose."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

import pytest

from engine.base import logs
from engine.base.settings import Settings, SettingsInvalid


def record(name: str = "engine.x", level: int = logging.INFO, msg: str = "受理 %s", args: object = ("ok",)
           ) -> logging.LogRecord:
    return logging.LogRecord(name, level, __file__, 1, msg, args, None)  # type: ignore[arg-type]


def written(fmt: str, rec: logging.LogRecord) -> str | None:
    """What tongban's handler writes for `rec` (None when its filters drop it)."""
    out = logs.handler(fmt)
    if not all(f.filter(rec) for f in out.filters):
        return None
    return out.format(rec)


@contextmanager
def bound(var: ContextVar[str | None], value: str) -> Iterator[None]:
    token = var.set(value)
    try:
        yield
    finally:
        var.reset(token)


def test_a_json_line_has_time_level_logger_message_and_the_ids() -> None:
    with bound(logs.request_id, "req-12345678"), bound(logs.task_id, "job-1"):
        line = json.loads(written("json", record()))
    assert line["level"] == "INFO" and line["logger"] == "engine.x" and line["message"] == "受理 ok"
    assert line["request_id"] == "req-12345678" and line["task_id"] == "job-1"
    assert line["time"].endswith("+00:00")
    assert "受理" in written("json", record())  # Chinese stays readable, not \\u escapes
    assert "request_id" not in json.loads(written("json", record()))  # outside a request: no id at all


def test_an_exception_is_in_the_json_line() -> None:
    try:
        raise ValueError("坏了")
    except ValueError:
        import sys

        rec = logging.LogRecord("engine.x", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    line = json.loads(written("json", rec))
    assert "ValueError: 坏了" in line["exc_info"]


def test_the_text_line_is_for_a_person() -> None:
    with bound(logs.request_id, "req-12345678"):
        line = written("text", record(level=logging.WARNING))
    assert " WARNING engine.x [req req-12345678] 受理 ok" in line
    assert "[" not in written("text", record())


def test_celerys_lines_for_the_sweeps_drop_to_debug_and_others_stay(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "QUIET_JOBS", {"tongban.sweep"})
    root = logging.getLogger()
    monkeypatch.setattr(root, "level", root.level)  # restored after the test; setLevel also clears the level cache
    root.setLevel(logging.INFO)
    trace = "Task %(name)s[%(id)s] succeeded in %(runtime)ss: %(return_value)s"
    swept = record("celery.app.trace", msg=trace, args=({"name": "tongban.sweep", "id": "1", "runtime": 0.01,
                                                         "return_value": 0},))
    assert written("json", swept) is None and swept.levelname == "DEBUG"
    beat = record("celery.beat", msg="Scheduler: Sending due task %s (%s)", args=("sweep-due-timers", "tongban.sweep"))
    assert written("json", beat) is None
    advanced = record("celery.app.trace", msg=trace, args=({"name": "tongban.advance", "id": "2", "runtime": 0.01,
                                                            "return_value": True},))
    assert json.loads(written("json", advanced))["level"] == "INFO"
    failed = record("celery.app.trace", level=logging.ERROR, msg=trace, args=({"name": "tongban.sweep", "id": "3",
                                                                              "runtime": 0, "return_value": 0},))
    assert json.loads(written("json", failed))["level"] == "ERROR"  # a failing sweep is never hidden
    root.setLevel(logging.DEBUG)
    assert json.loads(written("json", record("celery.app.trace", msg=trace, args=(
        {"name": "tongban.sweep", "id": "4", "runtime": 0, "return_value": 0},))))["level"] == "DEBUG"
    root.setLevel(logging.INFO)


def test_configure_adds_one_handler_once_and_keeps_spiffs_case_data_out() -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    try:
        logs.configure("json", "INFO", force=True)
        logs.configure("text", "DEBUG")  # a second call changes nothing
        ours = [h for h in root.handlers if isinstance(h, logs.Stderr)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, logs.Json) and root.level == logging.INFO
        assert logging.getLogger("spiff").level == logging.WARNING
        logs.configure("text", "DEBUG", force=True)
        ours = [h for h in root.handlers if isinstance(h, logs.Stderr)]
        assert len(ours) == 1 and isinstance(ours[0].formatter, logs.Text)
        assert logging.getLogger("spiff").level == logging.WARNING  # its INFO lines carry case data
    finally:
        logs.configure("json", "INFO", force=True)
        assert [h for h in root.handlers if not isinstance(h, logs.Stderr)] == \
            [h for h in before if not isinstance(h, logs.Stderr)]


def test_gunicorns_dict_config_is_the_same_format() -> None:
    config = logs.dict_config("json", "INFO")
    assert config["handlers"]["stderr"] == {"()": logs.handler, "fmt": "json"}
    assert config["loggers"]["gunicorn.access"]["propagate"] is True
    assert config["loggers"]["spiff"]["level"] == logging.WARNING


def env(**values: str) -> dict[str, str]:
    return {f"TONGBAN_{k}": v for k, v in values.items()}


def test_log_and_metrics_settings() -> None:
    s = Settings.from_env({})
    assert (s.log_format, s.log_level, s.metrics_token, s.metrics_allow, s.worker_metrics) == \
        ("json", "INFO", None, (), None)
    s = Settings.from_env(env(LOG_FORMAT="TEXT", LOG_LEVEL="debug", METRICS_ALLOW=" 127.0.0.1, 10.20.0.0/16 ",
                              WORKER_METRICS="[::1]:9101"))
    assert (s.log_format, s.log_level, s.worker_metrics) == ("text", "DEBUG", ("::1", 9101))
    assert [str(n) for n in s.metrics_allow] == ["127.0.0.1/32", "10.20.0.0/16"]
    assert Settings.from_env(env(WORKER_METRICS="0.0.0.0:65535")).worker_metrics == ("0.0.0.0", 65535)


@pytest.mark.parametrize(("name", "bad"), [("LOG_FORMAT", "xml"), ("LOG_LEVEL", "LOUD"), ("LOG_LEVEL", "10"),
                                           ("METRICS_ALLOW", "10.0.0.0/33"), ("METRICS_ALLOW", "intranet"),
                                           ("WORKER_METRICS", "9101"), ("WORKER_METRICS", ":9101"),
                                           ("WORKER_METRICS", "0.0.0.0:0"), ("WORKER_METRICS", "0.0.0.0:65536"),
                                           ("WORKER_METRICS", "0.0.0.0:port")])
def test_a_bad_value_stops_start_up_naming_the_variable(name: str, bad: str) -> None:
    with pytest.raises(SettingsInvalid, match=f"TONGBAN_{name}"):
        Settings.from_env(env(**{name: bad}))
