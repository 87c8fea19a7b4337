"""Hot-path statements compiled once per database dialect and run straight on the driver's cursor.

Why: `Connection.execute` spends a great deal of bookkeeping on every statement — the cache key of the
whole statement tree, an execution context, result metadata built from the cursor's description, a
processor looked up per column — 0.2–0.5 ms for the instance-and-task read of a step against some 15 µs
for the same SQL on the cursor (bench/engine.py; a life cycle sends about fifteen such statements).
These statements never change, so each one is compiled once per dialect, keeping what running it needs:
the SQL text, the parameter order and the column types' bind and result processors, so values are
stored and read exactly as SQLAlchemy stores and reads them.

Whenever anybody listens to the connection's cursor events (statement counting in bench/ and the tests,
OpenTelemetry's SQLAlchemy instrumentation, a profiler), a statement goes through `Connection.execute`
instead, with SQLAlchemy's own execution context: listeners see exactly what they would see without this
module, and only a connection nobody observes takes the short way.

Transactions stay SQLAlchemy's: a statement runs on the DBAPI connection under the caller's
`Database.reading()` / `writing()` block and commits or rolls back with it.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from engine.store import pipeline

Processor = Callable[[Any], Any] | None


@dataclass(frozen=True)
class _Plan:
    """One statement as one dialect runs it."""

    sql: str
    #: for a positional paramstyle (SQLite's `?`), the parameter names in the order the SQL uses them
    order: tuple[str, ...] | None
    #: parameter name → its type's bind processor
    binds: dict[str, Processor]
    #: values of parameters a call need not give: literals in the statement, columns' scalar defaults
    defaults: dict[str, Any]
    row: type[tuple[Any, ...]] | None
    results: tuple[Processor, ...]

    def complete(self, values: dict[str, Any]) -> dict[str, Any]:
        """`values` with every parameter the statement takes (the defaults of those it leaves out)."""
        return {name: values[name] if name in values else self.defaults[name] for name in self.binds}

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """What the driver takes: processed values, by name or in the SQL's order."""
        processed = {}
        for name, value in self.complete(values).items():
            process = self.binds[name]
            processed[name] = process(value) if process is not None else value
        return processed if self.order is None else tuple(processed[name] for name in self.order)

    def make_row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if self.row is None:
            raise TypeError(f"the statement returns no columns: {self.sql}")
        return self.row._make(p(v) if p is not None else v for p, v in zip(self.results, raw, strict=True))


class Prepared:
    """A fixed Core statement (SELECT, INSERT, UPDATE, DELETE; RETURNING allowed) run without SQLAlchemy's
    per-call work when nobody observes the connection.

    `keys`, for an INSERT without `.values()`, names the columns every row gives; a column with a scalar
    default that a row leaves out gets that default, as with SQLAlchemy; any other default (callable, SQL
    expression) must be given, and compiling refuses the statement otherwise.
    """

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._plans: WeakKeyDictionary[Dialect, _Plan] = WeakKeyDictionary()

    def plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = self._compile(dialect)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
        if "__[POSTCOMPILE_" in compiled.string:
            raise ValueError(f"{self.statement}: an expanding parameter (IN of a list) cannot be prepared")
        prefetched = [*getattr(compiled, "insert_prefetch", ()), *getattr(compiled, "update_prefetch", ())]
        defaults = {name: bind.effective_value for name, bind in compiled.binds.items() if not bind.required}
        for column in prefetched:
            default = column.default
            if default is None or not default.is_scalar:
                raise ValueError(f"{self.statement}: column {column.key} has a non-scalar default; give it")
            defaults[column.key] = default.arg
        binds = {name: bind.type.dialect_impl(dialect).bind_processor(dialect) for name, bind in compiled.binds.items()}
        order = tuple(compiled.positiontup) if compiled.positional else None
        columns = list(getattr(self.statement, "exported_columns", ()))
        row = namedtuple("Row", [c.key for c in columns], rename=True) if columns else None  # type: ignore[misc]
        results = tuple(c.type.dialect_impl(dialect).result_processor(dialect, None) for c in columns)
        return _Plan(compiled.string, order, binds, defaults, row, results)

    # -- running ---------------------------------------------------------------------------------------------------
    def _observed(self, conn: Connection, plan: _Plan, values: dict[str, Any] | list[dict[str, Any]]) -> Any:
        """SQLAlchemy's own way, for a connection somebody listens to: a real execution context for them. The
        rows of an INSERT get the defaults of the `keys` they leave out, as on the short way."""

        def given(row: dict[str, Any]) -> dict[str, Any]:
            return row if self.keys is None else {k: row[k] if k in row else plan.defaults[k] for k in self.keys}

        if isinstance(values, list):
            return conn.execute(self.statement, [given(v) for v in values])
        return conn.execute(self.statement, given(values))

    def _cursor(self, conn: Connection, plan: _Plan, values: dict[str, Any] | list[dict[str, Any]]) -> Any:
        cursor = pipeline.cursor(conn.connection.driver_connection)
        if isinstance(values, list):
            cursor.executemany(plan.sql, [plan.parameters(v) for v in values])
        else:
            cursor.execute(plan.sql, plan.parameters(values))
        return cursor

    @staticmethod
    def _listened(conn: Connection) -> bool:
        return bool(conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute)

    def execute(self, conn: Connection, values: dict[str, Any]) -> None:
        """Run once, for its effect: in a pipelined transaction (engine/store/pipeline.py) nothing waits for it."""
        self._effect(conn, values)

    def _effect(self, conn: Connection, values: dict[str, Any] | list[dict[str, Any]]) -> None:
        plan = self.plan(conn.dialect)
        if self._listened(conn):
            self._observed(conn, plan, values)
        else:
            self._cursor(conn, plan, values).close()

    def changed(self, conn: Connection, values: dict[str, Any]) -> int:
        """Run once; the number of rows it changed (waited for, in a pipelined transaction)."""
        plan = self.plan(conn.dialect)
        if self._listened(conn):
            return self._observed(conn, plan, values).rowcount
        cursor = self._cursor(conn, plan, values)
        pipeline.wait(conn.connection.driver_connection)
        count = cursor.rowcount
        cursor.close()
        return count

    def executemany(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Run once per row, batched by the driver (nothing for no rows; a single row skips the batching)."""
        if len(rows) == 1:
            self.execute(conn, rows[0])
        elif rows:
            self._effect(conn, rows)

    def send(self, conn: Connection, values: dict[str, Any]) -> Sent:
        """Run once; its rows are read when asked for, so that in a pipelined transaction what is sent before
        they are read goes out in the same round trip."""
        plan = self.plan(conn.dialect)
        if self._listened(conn):
            return Sent(plan, [plan.row._make(r) for r in self._observed(conn, plan, values)])  # type: ignore[union-attr]
        return Sent(plan, self._cursor(conn, plan, values))

    def all(self, conn: Connection, values: dict[str, Any]) -> list[Any]:
        """Every row returned, as named tuples (attribute access and `_asdict()`, like SQLAlchemy's rows)."""
        return self.send(conn, values).all()

    def first(self, conn: Connection, values: dict[str, Any]) -> Any | None:
        return self.send(conn, values).first()

    def scalar(self, conn: Connection, values: dict[str, Any]) -> Any:
        """The first column of the one row returned (e.g. an INSERT … RETURNING id)."""
        return self.send(conn, values).scalar()


class Sent:
    """A prepared statement sent, whose rows are read on demand (once)."""

    def __init__(self, plan: _Plan, source: Any) -> None:
        self._plan = plan
        self._source = source  # the rows read through SQLAlchemy, or the driver's cursor

    def all(self) -> list[Any]:
        if isinstance(self._source, list):
            return self._source
        rows = [self._plan.make_row(raw) for raw in self._source.fetchall()]
        self._source.close()
        return rows

    def first(self) -> Any | None:
        rows = self.all()
        return rows[0] if rows else None

    def scalar(self) -> Any:
        row = self.first()
        if row is None:
            raise LookupError(f"no row returned by {self._plan.sql}")
        return row[0]
