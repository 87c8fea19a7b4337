"""Connections: SQLite by default (WAL, immediate write transactions), PostgreSQL by URL; migrations."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, Select, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from engine.base.periodic import Periodic

MIGRATIONS_DIR = Path(__file__).resolve().parents[2] / "migrations"


def _sqlite_setup(engine: Engine, auto_checkpoint: Callable[[], bool]) -> None:
    """WAL lets readers run beside the one writer; BEGIN IMMEDIATE takes the write lock up front.

    With pysqlite's default deferred BEGIN, two writers that both read first deadlock on the
    lock upgrade and one fails at once with "database is locked" instead of waiting.
    """

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        if not auto_checkpoint():
            cur.execute("PRAGMA wal_autocheckpoint=0")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # Straight on the driver connection: this runs on every transaction, SQLAlchemy's layer adds nothing.
        options = conn.get_execution_options()
        if options.get("tongban_write"):
            conn.connection.driver_connection.execute("BEGIN IMMEDIATE")
        elif not options.get("tongban_autocommit"):
            conn.connection.driver_connection.execute("BEGIN DEFERRED")


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
        else:
            # No pre-ping (a round trip per checkout); stale connections are recycled instead.
            self.engine = create_engine(url, pool_size=10, max_overflow=20, pool_recycle=1800)
        self._write_engine = self.engine.execution_options(tongban_write=True)
        # Hot-path reads are single statements and need no transaction: autocommit saves the BEGIN and
        # ROLLBACK (round trips on PostgreSQL; on SQLite we simply do not issue a BEGIN for them).
        self._read_engine = self.engine.execution_options(
            **({"tongban_autocommit": True} if self.is_sqlite else {"isolation_level": "AUTOCOMMIT"}))
        self._read = sessionmaker(self.engine, expire_on_commit=False)
        self._write = sessionmaker(self._write_engine, expire_on_commit=False)

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
        """A Core write transaction: commits on success, rolls back on any exception."""
        with self._write_engine.begin() as conn:
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

    def dispose(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.stop()
            self._checkpointer.join()
            self.checkpoint()  # what the last interval wrote
            self._checkpointer = None
        self.engine.dispose()


def alembic_config(db: Database) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = db.engine
    return cfg
