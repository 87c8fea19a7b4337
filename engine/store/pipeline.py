"""PostgreSQL write transactions in pipeline mode: a statement whose result nobody reads waits for no round trip.

A step's transaction is mostly writes whose results the code never looks at (task rows, events, timers): sent
one by one, each costs a round trip, and on a busy machine each round trip also waits for the server's process
and then the client's to be scheduled again.  In psycopg's pipeline mode (libpq's) they are queued instead, and
go out with the next statement whose result is read, or with the COMMIT: a step then waits for its statements'
results a few times, not once per statement.  The server still runs them one after the other, in order, in the
same transaction; the first that fails makes the server skip the rest, COMMIT included, and its error is raised
where its result is read, else when the transaction ends — the transaction is then rolled back as before.

Only the hot path's prepared statements (engine/store/prepared.py) are queued, each on a plain psycopg cursor.
SQLAlchemy reads a cursor's description and row count right after executing, so every cursor it makes on such a
connection (`ResultWaitingCursor`, the connection's cursor factory) waits for its statement's result, as outside
a pipeline: what SQLAlchemy runs — and whatever a listener sees — behaves as without pipelining.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import psycopg

#: the connection whose write transaction this context runs pipelined, with its pipeline
_ACTIVE: ContextVar[tuple[psycopg.Connection[Any], psycopg.Pipeline] | None] = ContextVar("tongban_pipeline",
                                                                                         default=None)


def wait(driver: Any) -> None:
    """Have every statement sent on `driver` (a DBAPI connection) run and its result received: it is then as if
    each had waited for its own (their first error is raised here). Nothing to do outside a pipeline."""
    active = _ACTIVE.get()
    if active is not None and active[0] is driver:
        active[1].sync()


class ResultWaitingCursor(psycopg.Cursor[Any]):
    """The cursors SQLAlchemy makes: in a pipelined transaction each statement waits for its result."""

    def execute(self, query: Any, params: Any = None, **kwargs: Any) -> ResultWaitingCursor:
        super().execute(query, params, **kwargs)
        wait(self.connection)
        return self

    def executemany(self, query: Any, params_seq: Any, **kwargs: Any) -> None:
        super().executemany(query, params_seq, **kwargs)
        wait(self.connection)


def cursor(driver: Any) -> Any:
    """A cursor for a prepared statement on `driver`: on psycopg a plain one, which in a pipelined transaction
    sends its statement without waiting for the result (reading a result waits for it)."""
    return psycopg.Cursor(driver) if isinstance(driver, psycopg.Connection) else driver.cursor()


@contextmanager
def pipelined(driver: psycopg.Connection[Any]) -> Iterator[None]:
    """The transaction begun on `driver` runs pipelined until it commits, at the end of the block: the COMMIT goes
    out with whatever is still queued, in one round trip. On an exception the queue is flushed (errors from it are
    logged by psycopg, the block's exception stands) and the caller rolls back."""
    with driver.pipeline() as pipeline:
        token = _ACTIVE.set((driver, pipeline))
        try:
            yield
            psycopg.Cursor(driver).execute("COMMIT", prepare=False)
        finally:
            _ACTIVE.reset(token)
