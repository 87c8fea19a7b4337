"""Explicit configuration from environment variables, with an embedded default that needs no server."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
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
class StorageSettings:
    """TONGBAN_STORAGE=local|s3 and, for s3, the bucket; credentials come from boto3's own chain, never from here."""

    backend: str = "local"
    bucket: str | None = None
    #: object names start with it ("tongban/blobs/"); empty: the bucket's root
    prefix: str = ""
    #: an S3-compatible server (MinIO, Ceph, a cloud's OSS); unset: AWS
    endpoint_url: str | None = None
    region: str | None = None
    #: path-style requests (bucket in the path) suit most self-hosted servers; auto lets botocore choose
    addressing_style: str = "auto"

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> StorageSettings:
        backend = env.get("TONGBAN_STORAGE", "local").strip() or "local"
        if backend not in STORAGE_BACKENDS:
            raise SettingsInvalid(f"环境变量 TONGBAN_STORAGE 须为 local 或 s3 (TONGBAN_STORAGE must be local or s3; "
                                  f"got {backend!r})")
        if backend == "local":
            return cls()
        bucket = env.get("TONGBAN_S3_BUCKET", "").strip()
        if not bucket:
            raise SettingsInvalid("TONGBAN_STORAGE=s3 须同时设置 TONGBAN_S3_BUCKET (TONGBAN_STORAGE=s3 needs "
                                  "TONGBAN_S3_BUCKET, the bucket's name)")
        style = env.get("TONGBAN_S3_ADDRESSING_STYLE", "auto").strip() or "auto"
        if style not in ("auto", "path", "virtual"):
            raise SettingsInvalid(f"环境变量 TONGBAN_S3_ADDRESSING_STYLE 须为 auto、path 或 virtual "
                                  f"(TONGBAN_S3_ADDRESSING_STYLE must be auto, path or virtual; got {style!r})")
        endpoint = env.get("TONGBAN_S3_ENDPOINT_URL", "").strip() or None
        if endpoint is not None and not endpoint.startswith(("http://", "https://")):
            raise SettingsInvalid(f"环境变量 TONGBAN_S3_ENDPOINT_URL 须为 http(s) 地址 (TONGBAN_S3_ENDPOINT_URL must "
                                  f"be an http(s) URL, e.g. https://minio.internal:9000; got {endpoint!r})")
        prefix = env.get("TONGBAN_S3_PREFIX", "").strip().strip("/")
        return cls(backend="s3", bucket=bucket, prefix=f"{prefix}/" if prefix else "", endpoint_url=endpoint,
                   region=env.get("TONGBAN_S3_REGION", "").strip() or None, addressing_style=style)


STORAGE_BACKENDS = ("local", "s3")


@dataclass(frozen=True)
class RetentionSettings:
    """What the retention job may delete: drafts nobody started a case with, and bytes no row names."""

    #: an upload for a start form still unbound after this is given up (TONGBAN_RETENTION_DRAFTS, seconds)
    drafts: timedelta = timedelta(days=1)
    #: stored bytes no row names are deleted only once older than this, so an upload between its bytes and its
    #: row is never touched (TONGBAN_RETENTION_ORPHAN_GRACE, seconds)
    orphan_grace: timedelta = timedelta(hours=1)


@dataclass(frozen=True)
class RateLimits:
    """How often one client may try (api/limits.py applies them; "N per minute|hour|…", `;` between several).

    Log-in: every attempt per IP (a flood cap a busy office behind one address stays under), failed attempts
    per IP (guessing many accounts), failed attempts per (account, IP) (guessing one). The public pages and
    APIs (verify, disclosure) per IP. Counters live in `storage`: memory by default (per process: with several
    gunicorn workers each counts alone), the broker's Redis when the broker is Redis, or any `limits` storage
    URL (TONGBAN_RATELIMIT_STORAGE, e.g. redis://host:6379/4, memcached://host:11211).
    """

    storage: str = "memory://"
    login_per_ip: str = "30 per minute"
    login_failures_per_ip: str = "50 per hour"
    login_failures_per_user: str = "5 per 15 minutes"
    public_per_ip: str = "60 per minute"

    @classmethod
    def from_env(cls, env: Mapping[str, str], broker_url: str | None) -> RateLimits:
        on_redis = broker_url if broker_url and broker_url.startswith(("redis://", "rediss://")) else None
        values = {name: env[f"TONGBAN_RATELIMIT_{name.upper()}"] for name in cls.__dataclass_fields__
                  if env.get(f"TONGBAN_RATELIMIT_{name.upper()}")}
        values.setdefault("storage", on_redis or cls.storage)
        return cls(**values)


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
    #: How long a step's automatic work (its outbox row, scale-out) is left to the `advance` job published with
    #: it: a job lost with a worker or the broker is enqueued again by the sweep after this.  Longer than an
    #: `advance` job waits in the queue and runs, or the work is enqueued twice (harmless, but wasted).
    outbox_lease: timedelta = timedelta(seconds=30)
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
    #: Where the designer reads and saves process and form files (TONGBAN_DESIGN_WORKSPACE); unset, the instance
    #: folder's workspace/, first filled from processes_dir and forms_dir — never the installed code's own files.
    workspace_dir: Path | None = None
    #: How long `POST /designer/scenarios` may run a folder's scenarios before the run is stopped.
    scenario_seconds: float = 120.0
    #: Where the public reaches this server (scheme, host, optional path; no trailing slash): the QR code and
    #: the verification address printed on every document point here (`{public_url}/verify/{code}`).
    public_url: str = "http://127.0.0.1:5000"
    #: Where uploads are kept: the instance folder's blobs/ (default) or an S3-compatible bucket.
    storage: StorageSettings = StorageSettings()
    #: What the retention job deletes, and when (engine/background/retention.py).
    retention: RetentionSettings = RetentionSettings()
    #: Staff log-in through the district's identity platform (统一身份认证, OpenID Connect); unset, local
    #: passwords only.
    oidc: OidcSettings | None = None
    #: Log-in and public-page rate limits and where their counters live.
    rate_limits: RateLimits = RateLimits()
    #: How many reverse proxies in front set X-Forwarded-For (0: none; the client is the connecting address).
    #: Rate limits and the audit log's IP read the client's address through exactly that many hops.
    trusted_proxies: int = 0
    #: Log lines: `json` (one object a line, for a log shipper) or `text` (for a terminal); the lowest level written.
    log_format: str = "json"
    log_level: str = "INFO"
    #: `/metrics` (api/observability.py) answers only a scraper sending this bearer token …
    metrics_token: str | None = None
    #: … and/or only clients in these networks; with neither set it is not served at all (404).
    metrics_allow: tuple[IPv4Network | IPv6Network, ...] = ()
    #: `host:port` where a `tongban worker` serves its own step metrics (unset: it serves none).
    worker_metrics: tuple[str, int] | None = None

    def design_workspace(self) -> Path:
        return self.workspace_dir or self.instance_dir / "workspace"

    def require_shared_database(self) -> None:
        """Scale-out's web processes, workers and beats share one database from several machines: with a broker
        set, a SQLite file (one machine's, one writer at a time) is refused rather than split or corrupted."""
        if self.broker_url is not None and self.database_url.startswith("sqlite"):
            raise SettingsInvalid(
                "已设置 TONGBAN_BROKER_URL（扩展模式），但数据库是 SQLite：SQLite 文件不能由多台机器上的多个进程共用；"
                "请将 TONGBAN_DATABASE_URL 设为 PostgreSQL，或取消 TONGBAN_BROKER_URL 以单机模式运行 "
                "(TONGBAN_BROKER_URL is set (scale-out) but the database is SQLite, which processes on several "
                "machines cannot share: set TONGBAN_DATABASE_URL=postgresql+psycopg://… or unset "
                "TONGBAN_BROKER_URL to run embedded with `tongban serve`)")

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if env is None else env)
        instance_dir = Path(env.get("TONGBAN_INSTANCE", "instance")).resolve()
        default_db = f"sqlite:///{instance_dir / 'tongban.db'}"
        processes_dir = Path(env.get("TONGBAN_PROCESSES", "processes")).resolve()
        return cls(
            instance_dir=instance_dir,
            database_url=env.get("TONGBAN_DATABASE_URL") or default_db,
            processes_dir=processes_dir,
            # forms sit beside processes/, as in the repository (and as `tongban validate PATH` reads them)
            forms_dir=Path(env.get("TONGBAN_FORMS") or processes_dir.parent / "forms").resolve(),
            # 区划代码 of the issuing district, first six digits of every case number.
            district=env.get("TONGBAN_DISTRICT", "370202"),
            # Case numbers and deadlines are dates where the citizen is, not in UTC.
            timezone=ZoneInfo(env.get("TONGBAN_TIMEZONE", "Asia/Shanghai")),
            broker_url=broker_url_from_env(env),
            workflow_cache=_number(env, "TONGBAN_WORKFLOW_CACHE", "256", int),
            secret_key=env.get("TONGBAN_SECRET_KEY") or None,
            production=_choice(env, "TONGBAN_ENV", ENVIRONMENTS).lower() == "production",
            timer_lease=timedelta(seconds=_number(env, "TONGBAN_TIMER_LEASE", "120", float)),
            outbox_lease=timedelta(seconds=_positive(env, "TONGBAN_OUTBOX_LEASE", "30")),
            service_endpoints=_endpoints(env.get("TONGBAN_SERVICE_ENDPOINTS", "")),
            service_timeout=_number(env, "TONGBAN_SERVICE_TIMEOUT", "10", float),
            service_retries=_number(env, "TONGBAN_SERVICE_RETRIES", "5", int),
            service_backoff=timedelta(seconds=_number(env, "TONGBAN_SERVICE_BACKOFF", "30", float)),
            smtp=SmtpSettings.from_env(env),
            script_budget=ScriptBudget.from_env(env),
            workspace_dir=Path(env["TONGBAN_DESIGN_WORKSPACE"]).resolve() if env.get("TONGBAN_DESIGN_WORKSPACE")
            else None,
            scenario_seconds=_positive(env, "TONGBAN_SCENARIO_SECONDS", "120"),
            public_url=_public_url(env.get("TONGBAN_PUBLIC_URL", "")),
            storage=StorageSettings.from_env(env),
            retention=RetentionSettings(
                drafts=timedelta(seconds=_positive(env, "TONGBAN_RETENTION_DRAFTS", "86400")),
                orphan_grace=timedelta(seconds=_positive(env, "TONGBAN_RETENTION_ORPHAN_GRACE", "3600"))),
            rate_limits=RateLimits.from_env(env, env.get("TONGBAN_BROKER_URL") or None),
            trusted_proxies=_number(env, "TONGBAN_TRUSTED_PROXIES", "0", int),
            log_format=_choice(env, "TONGBAN_LOG_FORMAT", LOG_FORMATS).lower(),
            log_level=_choice(env, "TONGBAN_LOG_LEVEL", LOG_LEVELS).upper(),
            metrics_token=env.get("TONGBAN_METRICS_TOKEN") or None,
            metrics_allow=_networks(env.get("TONGBAN_METRICS_ALLOW", "")),
            worker_metrics=_host_port(env, "TONGBAN_WORKER_METRICS"),
            oidc=OidcSettings.from_env(env, production=env.get("TONGBAN_ENV") == "production"),
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
LOG_FORMATS = ("json", "text")
LOG_LEVELS = ("INFO", "DEBUG", "WARNING", "ERROR", "CRITICAL")


def broker_url_from_env(env: Mapping[str, str] | None = None) -> str | None:
    """TONGBAN_BROKER_URL alone: what the Celery app needs at import, before the other settings are checked (a
    bad one must stop a command with its message, not an import with a traceback)."""
    return (os.environ if env is None else env).get("TONGBAN_BROKER_URL") or None


@dataclass(frozen=True)
class OidcSettings:
    """One OpenID Connect provider: TONGBAN_OIDC_ISSUER turns the identity platform's log-in on.

    The issuer is stated, not only discovered: the discovery document and every ID token must name this
    exact issuer, so a discovery address that answers for another provider is refused rather than trusted.
    """

    issuer: str
    client_id: str
    client_secret: str
    #: the YAML file mapping claims to an organisation and roles (engine/people/federation.py reads it)
    mapping_path: Path
    discovery_url: str = ""
    scopes: str = "openid profile email"
    #: RP-initiated logout: tongban's logout also ends the platform's session (the platform must accept
    #: `{TONGBAN_PUBLIC_URL}/login` as a post-logout address).  Off, a shared counter PC stays signed in at
    #: the platform after someone logs out of tongban.
    end_session: bool = False

    @property
    def metadata_url(self) -> str:
        return self.discovery_url or f"{self.issuer}/.well-known/openid-configuration"

    @classmethod
    def from_env(cls, env: dict[str, str], production: bool = False) -> OidcSettings | None:
        issuer = env.get("TONGBAN_OIDC_ISSUER", "").strip().rstrip("/")
        if not issuer:
            return None
        _oidc_url("TONGBAN_OIDC_ISSUER", issuer, production)
        discovery = env.get("TONGBAN_OIDC_DISCOVERY_URL", "").strip()
        if discovery:
            _oidc_url("TONGBAN_OIDC_DISCOVERY_URL", discovery, production)
        missing = [name for name in ("TONGBAN_OIDC_CLIENT_ID", "TONGBAN_OIDC_CLIENT_SECRET", "TONGBAN_OIDC_MAPPING")
                   if not env.get(name, "").strip()]
        if missing:
            raise SettingsInvalid(f"设置 TONGBAN_OIDC_ISSUER 时还须设置 {'、'.join(missing)} (TONGBAN_OIDC_ISSUER "
                                  f"is set: {', '.join(missing)} must be set too)")
        scopes = " ".join(env.get("TONGBAN_OIDC_SCOPES", cls.scopes).split())
        if "openid" not in scopes.split():
            raise SettingsInvalid(f"环境变量 TONGBAN_OIDC_SCOPES 须包含 openid (TONGBAN_OIDC_SCOPES must include "
                                  f"openid, e.g. {cls.scopes!r}; got {scopes!r})")
        end_session = env.get("TONGBAN_OIDC_END_SESSION", "false").strip().lower()
        if end_session not in ("true", "false"):
            raise SettingsInvalid(f"环境变量 TONGBAN_OIDC_END_SESSION 须为 true 或 false "
                                  f"(TONGBAN_OIDC_END_SESSION must be true or false; got {end_session!r})")
        return cls(issuer=issuer, client_id=env["TONGBAN_OIDC_CLIENT_ID"].strip(),
                   client_secret=env["TONGBAN_OIDC_CLIENT_SECRET"].strip(),
                   mapping_path=Path(env["TONGBAN_OIDC_MAPPING"].strip()).resolve(),
                   discovery_url=discovery, scopes=scopes, end_session=end_session == "true")


def _oidc_url(name: str, url: str, production: bool) -> None:
    """https, or plain http only outside production (a provider on the same machine, a test)."""
    parts = urlsplit(url)
    allowed = ("https",) if production else ("https", "http")
    if parts.scheme not in allowed or not parts.netloc or parts.fragment:
        raise SettingsInvalid(f"环境变量 {name} 须为 {'https' if production else 'http(s)'} 地址 ({name} must be "
                              f"an {'https' if production else 'http(s)'} address, e.g. "
                              f"https://tyrz.shinan.gov.cn/oidc; got {url!r})")


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


ENVIRONMENTS = ("development", "production")  # TONGBAN_ENV: a misspelt `production` must not run as development


def _choice(env: dict[str, str], name: str, words: tuple[str, ...]) -> str:
    """One of `words` (any case; the first when unset)."""
    value = env.get(name, "").strip() or words[0]
    if value.lower() not in {w.lower() for w in words}:
        raise SettingsInvalid(f"环境变量 {name} 须为 {'、'.join(words)} 之一 ({name} must be one of "
                              f"{', '.join(words)}; got {value!r})")
    return value


def _networks(raw: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """TONGBAN_METRICS_ALLOW: addresses or networks, comma-separated (`127.0.0.1, 10.20.0.0/16`)."""
    try:
        return tuple(ip_network(part.strip(), strict=False) for part in raw.split(",") if part.strip())
    except ValueError:
        raise SettingsInvalid(f"环境变量 TONGBAN_METRICS_ALLOW 须为以逗号分隔的地址或网段 (TONGBAN_METRICS_ALLOW "
                              f"must be addresses or networks separated by commas, e.g. 127.0.0.1,10.20.0.0/16; "
                              f"got {raw!r})") from None


def _host_port(env: dict[str, str], name: str) -> tuple[str, int] | None:
    """`host:port` (`0.0.0.0:9101`, `[::1]:9101`), or None when unset."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    host, _, port = raw.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise SettingsInvalid(f"环境变量 {name} 须为 主机:端口 ({name} must be host:port, e.g. 127.0.0.1:9101; "
                              f"got {raw!r})")
    return host.strip("[]"), int(port)


def _public_url(raw: str) -> str:
    """TONGBAN_PUBLIC_URL: an http(s) address without query or fragment; unset, the embedded server's own."""
    url = raw.strip().rstrip("/")
    if not url:
        return Settings.public_url
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise SettingsInvalid(f"环境变量 TONGBAN_PUBLIC_URL 须为 http(s) 地址 (TONGBAN_PUBLIC_URL must be the public "
                              f"http(s) address of this server, e.g. https://tongban.shinan.gov.cn; got {raw!r})")
    return url


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
