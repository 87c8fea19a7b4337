"""Explicit configuration from environment variables, with an embedded default that needs no server."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class ScriptBudget:
    """A designer's code runs inside the server's threads: each evaluation gets this much CPU time and memory.

    2 s is some 100 000 times what an ordinary condition or script takes and still well inside any request
    timeout; 128 MB is far above what bookkeeping on case data needs, yet small beside the server's memory
    even with a few evaluations exceeding it at once (the memory figure is the process's growth while the
    evaluation runs, so concurrent evaluations share it).
    """

    cpu_seconds: float = 2.0
    memory_mb: int = 128

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> ScriptBudget:
        values = dict(env)
        memory = _number(values, "TONGBAN_SCRIPT_MEMORY_MB", "128", int)
        if memory < 16:
            raise SettingsInvalid(f"环境变量 TONGBAN_SCRIPT_MEMORY_MB 至少为 16 (TONGBAN_SCRIPT_MEMORY_MB must be at "
                                  f"least 16; got {memory})")
        return cls(cpu_seconds=_positive(values, "TONGBAN_SCRIPT_CPU_SECONDS", "2"), memory_mb=memory)


@dataclass(frozen=True)
class Settings:
    instance_dir: Path
    database_url: str
    processes_dir: Path
    forms_dir: Path
    district: str
    timezone: ZoneInfo
    #: Celery broker (redis://… or amqp://…): set, steps and timers run on `tongban worker`s (scale-out);
    #: unset, everything runs inside the serving process (embedded).
    broker_url: str | None = None
    #: Live workflows kept per process so consecutive steps skip deserializing (0 turns it off).
    workflow_cache: int = 256
    #: Signs session cookies; unset, the web app generates one and keeps it in the instance folder.
    secret_key: str | None = None
    #: TONGBAN_ENV=production: secure cookies only, and no demo seeding.
    production: bool = False
    #: How long a sweeper's claim on a due timer lasts: a timer whose fire job was lost (worker or broker
    #: died) is claimed again after this.  Longer than the slowest fire job, or a slow one fires twice.
    timer_lease: timedelta = timedelta(minutes=2)
    #: Service tasks: the external systems `http_post` may call, by name (JSON object name → URL) …
    service_endpoints: dict[str, str] = field(default_factory=dict)
    #: … how long one call may take, how often a transient failure is retried, and the first wait (it doubles).
    service_timeout: float = 10.0
    service_retries: int = 5
    service_backoff: timedelta = timedelta(seconds=30)
    #: E-mail copies of notices (optional): unset, notices stay in-app only.
    smtp: SmtpSettings | None = None
    #: What one script, condition or expression evaluation may use (engine/bpmn/budget.py enforces it).
    script_budget: ScriptBudget = ScriptBudget()
    #: How long `POST /designer/scenarios` may run a folder's scenarios before the run is stopped.
    scenario_seconds: float = 120.0

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        instance_dir = Path(env.get("TONGBAN_INSTANCE", "instance")).resolve()
        default_db = f"sqlite:///{instance_dir / 'tongban.db'}"
        return cls(
            instance_dir=instance_dir,
            database_url=env.get("TONGBAN_DATABASE_URL") or default_db,
            processes_dir=Path(env.get("TONGBAN_PROCESSES", "processes")).resolve(),
            forms_dir=Path(env.get("TONGBAN_FORMS", "forms")).resolve(),
            # 区划代码 of the issuing district, first six digits of every case number.
            district=env.get("TONGBAN_DISTRICT", "370202"),
            # Case numbers and deadlines are dates where the citizen is, not in UTC.
            timezone=ZoneInfo(env.get("TONGBAN_TIMEZONE", "Asia/Shanghai")),
            broker_url=env.get("TONGBAN_BROKER_URL") or None,
            workflow_cache=_number(env, "TONGBAN_WORKFLOW_CACHE", "256", int),
            secret_key=env.get("TONGBAN_SECRET_KEY") or None,
            production=env.get("TONGBAN_ENV") == "production",
            timer_lease=timedelta(seconds=_number(env, "TONGBAN_TIMER_LEASE", "120", float)),
            service_endpoints=_endpoints(env.get("TONGBAN_SERVICE_ENDPOINTS", "")),
            service_timeout=_number(env, "TONGBAN_SERVICE_TIMEOUT", "10", float),
            service_retries=_number(env, "TONGBAN_SERVICE_RETRIES", "5", int),
            service_backoff=timedelta(seconds=_number(env, "TONGBAN_SERVICE_BACKOFF", "30", float)),
            smtp=SmtpSettings.from_env(env),
            script_budget=ScriptBudget.from_env(env),
            scenario_seconds=_positive(env, "TONGBAN_SCENARIO_SECONDS", "120"),
        )


@dataclass(frozen=True)
class SmtpSettings:
    """The mail server notices are sent through: TONGBAN_SMTP_HOST turns mailing on."""

    host: str
    sender: str  # the From address
    port: int = 587
    security: str = "starttls"  # starttls | ssl | none
    user: str | None = None
    password: str | None = None
    timeout: float = 10.0

    @classmethod
    def from_env(cls, env: dict[str, str]) -> SmtpSettings | None:
        host = env.get("TONGBAN_SMTP_HOST", "").strip()
        if not host:
            return None
        security = env.get("TONGBAN_SMTP_SECURITY", "starttls")
        if security not in SMTP_SECURITY:
            raise SettingsInvalid(f"环境变量 TONGBAN_SMTP_SECURITY 须为 {'、'.join(SMTP_SECURITY)} 之一 "
                                  f"(TONGBAN_SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY)}; "
                                  f"got {security!r})")
        sender = env.get("TONGBAN_SMTP_FROM", "").strip()
        if "@" not in sender:
            raise SettingsInvalid("环境变量 TONGBAN_SMTP_FROM 须为发件地址 (TONGBAN_SMTP_FROM must be the sender's "
                                  "address when TONGBAN_SMTP_HOST is set, e.g. tongban@shinan.gov.cn)")
        return cls(host=host, sender=sender, security=security,
                   port=_number(env, "TONGBAN_SMTP_PORT", "465" if security == "ssl" else "587", int),
                   user=env.get("TONGBAN_SMTP_USER") or None, password=env.get("TONGBAN_SMTP_PASSWORD") or None,
                   timeout=_number(env, "TONGBAN_SMTP_TIMEOUT", "10", float))


SMTP_SECURITY = ("starttls", "ssl", "none")


class SettingsInvalid(ValueError):
    """An environment variable tongban cannot use: which one, and what it should look like."""


def _number(env: dict[str, str], name: str, default: str, kind: type[int] | type[float]) -> Any:
    try:
        return kind(env.get(name, default))
    except ValueError:
        raise SettingsInvalid(f"环境变量 {name} 须为{'整数' if kind is int else '数字'} ({name} must be "
                              f"{'a whole number' if kind is int else 'a number'}, e.g. {default}; "
                              f"got {env[name]!r})") from None


def _positive(env: dict[str, str], name: str, default: str) -> float:
    value = _number(env, name, default, float)
    if not value > 0:
        raise SettingsInvalid(f"环境变量 {name} 须为正数 ({name} must be a positive number of seconds, e.g. "
                              f"{default}; got {env[name]!r})")
    return value


def _endpoints(raw: str) -> dict[str, str]:
    """TONGBAN_SERVICE_ENDPOINTS: a JSON object of name → http(s) URL; anything else stops start-up."""
    if not raw.strip():
        return {}
    try:
        endpoints = json.loads(raw)
    except ValueError:
        endpoints = None
    if not isinstance(endpoints, dict) or not all(
            isinstance(url, str) and url.startswith(("http://", "https://")) for url in endpoints.values()):
        raise SettingsInvalid('环境变量 TONGBAN_SERVICE_ENDPOINTS 须为名称到 http(s) 地址的 JSON 对象 '
                              '(TONGBAN_SERVICE_ENDPOINTS must be a JSON object of names to http(s) URLs, e.g. '
                              '{"licences": "https://zwfw.internal/api/licences"})')
    return endpoints
