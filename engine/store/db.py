"""Connections: SQLite by default (WAL, immediate write transactions), PostgreSQL by URL; migrations."""

from __future__ import annotations

import os
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.base.periodic import Periodic
from engine.store import pipeline

#: The Alembic scripts ship inside the package (package data), so an installed wheel can migrate as a clone can.
MIGRATIONS_DIR = Path(__file__).resolve().with_name("migrations")


#: Page size of a new SQLite database. A step changes one row in each of some 25 tables and indexes, and a WAL commit
#: writes every page it dirtied whole: with 1 KB pages a step writes a quarter of the bytes it writes with SQLite's
#: 4 KB default, and the life cycle in bench/engine.py is 7–10 % faster; reads measured the same (a case's
#: workflow state, ~4 KB, spans a few overflow pages). SQLite applies it only before the first table is
#: made, so a database created earlier keeps its pages.
SQLITE_PAGE_SIZE = 1024


def _sqlite_setup(engine: Engine, auto_checkpoint: Callable[[], bool]) -> None:
    """WAL lets readers run beside the one writer; the driver never begins a transaction by itself (tongban
    issues BEGIN: see `_sqlite_begins`)."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA page_size={SQLITE_PAGE_SIZE}")  # before WAL: a new file's pages are sized first
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        if not auto_checkpoint():
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()


def _postgres_setup(dbapi_conn: Any, _record: Any) -> None:
    """SQLAlchemy's cursors wait for their statement's result even in a pipelined transaction."""
    dbapi_conn.cursor_factory = pipeline.ResultWaitingCursor


def _sqlite_begins(engine: Engine, mode: str) -> Engine:
    """`engine` whose transactions begin with `BEGIN {mode}`: IMMEDIATE takes the write lock up front.

    With pysqlite's default deferred BEGIN, two writers that both read first deadlock on the lock upgrade and
    one fails at once with "database is locked" instead of waiting.  The listener sits on this derived engine
    only: a connection event on the base engine would put SQLAlchemy's event dispatch on every statement of
    every connection (about a third of a simple statement's cost), the hot path's included, which begins its
    write transactions itself (`Database.writing`) and reads without a transaction.
    """
    derived = engine.execution_options()

    @event.listens_for(derived, "begin")
    def _begin(conn: Any) -> None:
        conn.connection.driver_connection.execute(f"BEGIN {mode}")

    return derived


_databases: weakref.WeakSet[Database] = weakref.WeakSet()


def _forget_inherited_connections() -> None:
    """A connection must never cross a fork (gunicorn --preload forks workers after the app was made): the
    child drops the pool it inherited without closing the parent's connections, and opens its own."""
    for database in list(_databases):
        database.engine.dispose(close=False)


# Registered at import, so before the fork hook of engine/base/periodic.py: the child resets its pools before
# its background threads start again.
os.register_at_fork(after_in_child=_forget_inherited_connections)


class Database:
    """One engine per URL, with separate session factories for reading and for writing."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self._checkpointer: Periodic | None = None
        if self.is_sqlite:
            path = url.split("///", 1)[-1]
            if path and path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self.engine = create_engine(url, connect_args={"check_same_thread": False})
            _sqlite_setup(self.engine, lambda: self._checkpointer is None)
            #: what sessions, migrations and `transaction()` write through: BEGIN IMMEDIATE
            self.transactional = _sqlite_begins(self.engine, "IMMEDIATE")
            reads = _sqlite_begins(self.engine, "DEFERRED")  # a session's reads: one snapshot
            # Hot-path reads are single statements and need no transaction: none is begun on SQLite.
            self._read_engine = self.engine
        else:
            # No pre-ping (a round trip per checkout); stale connections are recycled instead.
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)
            event.listen(self.engine, "connect", _postgres_setup)
            self.transactional = self.engine
            # Reads run autocommitted, sessions' too: under READ COMMITTED each statement has its own snapshot
            # anyway, so a read transaction only adds its BEGIN and ROLLBACK round trips — and psycopg drops every
            # server-side prepared statement of the connection on each ROLLBACK (the hot path's would be
            # re-parsed and re-planned on every step, half the server's work for a step).
            self._read_engine = reads = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        self._read = sessionmaker(reads, expire_on_commit=False)
        self._write = sessionmaker(self.transactional, expire_on_commit=False)
        _databases.add(self)

    @contextmanager
    def read(self) -> Iterator[Session]:
        with self._read() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One transaction: everything inside commits together or not at all."""
        with self._write() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Connection]:
        """A Core connection for the hot path: no ORM identity map, no unit of work."""
        with self._read_engine.connect() as conn:
            yield conn

    @contextmanager
    def writing(self) -> Iterator[Connection]:
        """A Core write transaction: commits on success, rolls back on any exception.

        On SQLite it issues its BEGIN IMMEDIATE itself, on the base engine, so its statements run without
        SQLAlchemy's event dispatch unless somebody listens (tracing, statement counting). On PostgreSQL it runs
        pipelined (engine/store/pipeline.py): the writes whose results nobody reads go out together, with the
        COMMIT."""
        if not self.is_sqlite:
            with self.engine.connect() as conn, conn.begin(), pipeline.pipelined(conn.connection.driver_connection):
                yield conn
            return
        with self.engine.connect() as conn, conn.begin():
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE")
            yield conn

    def skip_locked(self, query: Select[Any]) -> Select[Any]:
        """A sweeper's claim: rows another sweeper is claiming are skipped, not waited for (FOR UPDATE SKIP
        LOCKED on PostgreSQL); on SQLite the claim's BEGIN IMMEDIATE already lets one sweeper in at a time."""
        return query if self.is_sqlite else query.with_for_update(skip_locked=True)

    def background_checkpoints(self, interval: float = 1.0) -> None:
        """SQLite: copy the write-ahead log into the database from a thread of its own, not inside commits.

        By default SQLite checkpoints in whichever commit finds the log past 1,000 pages: about one
        commit in fifty then takes milliseconds (an fsync of the database file) instead of ~0.1 ms.
        `tongban serve` moves that work here; a short-lived CLI process keeps the default.
        """
        if not self.is_sqlite or self._checkpointer is not None:
            return
        self._checkpointer = Periodic("tongban-checkpoint", self.checkpoint, interval)
        self.engine.dispose()  # pooled connections were opened with automatic checkpoints on
        self._checkpointer.start()

    def checkpoint(self) -> None:
        """PASSIVE: copies what it can without waiting for readers or the writer; the next run does the rest."""
        with self._read_engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").all()

    def upgrade(self) -> None:
        """Bring the schema to the newest Alembic revision."""
        command.upgrade(alembic_config(self), "head")

    def schema_is_current(self) -> bool:
        """Whether the database stands at the newest migration (False for an empty one): what a command that failed
        on a missing table or column needs to know to say `tongban db upgrade`."""
        heads = set(ScriptDirectory.from_config(alembic_config(self)).get_heads())
        with self.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads()) == heads

    def stop_checkpoints(self) -> None:
        """Back to SQLite's own checkpoints inside commits, after copying what the last interval wrote."""
        if self._checkpointer is None:
            return
        self._checkpointer.stop()
        self._checkpointer.join()
        self.checkpoint()
        self._checkpointer = None
        self.engine.dispose()  # pooled connections were opened with automatic checkpoints off

    def dispose(self) -> None:
        self.stop_checkpoints()
        self.engine.dispose()


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.transactional  # each migration in a transaction (BEGIN IMMEDIATE on SQLite)
    return cfg
