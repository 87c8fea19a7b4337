"""Whether this process can do its work now: the database answers, its schema is the one this code expects, and
the broker (scale-out mode) accepts connections.  `/readyz` (api/observability.py) answers with these.

Each check says only which part failed and a short reason — never a URL, a user name or a driver's message,
which can name hosts and accounts: those go to the log.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import cache

from alembic.config import Config
from alembic.script import ScriptDirectory
from kombu import Connection as BrokerConnection
from sqlalchemy import column, inspect, select, table
from sqlalchemy.exc import SQLAlchemyError

from engine.runtime.runtime import Runtime
from engine.store.db import Database, alembic_config

log = logging.getLogger(__name__)

#: a probe must answer before the orchestrator's own timeout (Kubernetes, compose, a load balancer: 1–5 s)
BROKER_TIMEOUT = 2.0
#: alembic's own table: the revision the database stands at
VERSION_TABLE = table("alembic_version", column("version_num"))
VERSION = select(VERSION_TABLE.c.version_num)


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


@cache
def _code_heads(script_location: str) -> frozenset[str]:
    """The revisions this code's migrations end at (read once: they change only with a new release)."""
    cfg = Config()
    cfg.set_main_option("script_location", script_location)
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


def schema(db: Database) -> list[Check]:
    """The database answers (one query, the migration table) and stands at this code's newest revision."""
    heads = _code_heads(alembic_config(db).get_main_option("script_location") or "")
    try:
        with db.engine.connect() as conn:  # (alembic's MigrationContext would log two INFO lines a probe)
            current = frozenset(conn.execute(VERSION).scalars()) if inspect(conn).has_table(VERSION_TABLE.name) \
                else frozenset()
    except SQLAlchemyError as exc:
        log.warning("readiness: the database is unreachable: %s", exc)
        return [Check("database", False, f"无法连接 (unreachable: {type(exc).__name__})"),
                Check("migrations", False, "未知：数据库无法连接 (unknown: the database is unreachable)")]
    database = Check("database", True, "可连接 (reachable)")
    need = ", ".join(sorted(heads))
    if current == heads:
        return [database, Check("migrations", True, f"已是最新 {need} (at {need})")]
    at = ", ".join(sorted(current)) or "none"
    return [database, Check("migrations", False, f"数据库版本 {at}，本版本需要 {need}，请运行 tongban db upgrade "
                                                 f"(database at {at}, this release needs {need}: run `tongban db "
                                                 "upgrade`)")]


def broker(url: str) -> Check:
    """The broker accepts a connection within BROKER_TIMEOUT."""
    try:
        with BrokerConnection(url, connect_timeout=BROKER_TIMEOUT) as conn:
            conn.ensure_connection(max_retries=1, timeout=BROKER_TIMEOUT)
    except Exception as exc:  # kombu raises the transport's own errors (socket, redis, amqp) as well as its own
        log.warning("readiness: the broker is unreachable: %s", exc)
        return Check("broker", False, f"无法连接 (unreachable: {type(exc).__name__})")
    return Check("broker", True, "可连接 (reachable)")


def checks(runtime: Runtime) -> list[Check]:
    """Every check that applies to this runtime: the broker only in scale-out mode."""
    found = schema(runtime.db)
    if runtime.settings.broker_url is not None:
        found.append(broker(runtime.settings.broker_url))
    return found
