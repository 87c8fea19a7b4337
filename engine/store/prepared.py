"""Hot-path statements compiled once per database dialect and run straight on the driver's cursor.

Why: `Connection.execute` spends tens of microseconds of bookkeeping on every statement (cache
key, execution context, result wrapping) — on a step's handful of statements more than the SQL
itself.  These statements never change, so each is compiled once per dialect, keeping exactly
what running it needs: the SQL text, the parameter order and the column types' bind and result
processors, so values are stored and read exactly as SQLAlchemy stores and reads them.

Transactions stay SQLAlchemy's: a statement runs on the DBAPI connection under the caller's
`Database.reading()` / `writing()` block and commits or rolls back with it.  Listeners for
`before_cursor_execute` / `after_cursor_execute` (statement counting, tracing) still see every
statement, with no execution context.
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

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        processed = {}
        for name, process in self.binds.items():
            value = values[name] if name in values else self.defaults[name]
            processed[name] = process(value) if process is not None else value
        return processed if self.order is None else tuple(processed[name] for name in self.order)

    def make_row(self, raw: Sequence[Any]) -> tuple[Any, ...]:
        if self.row is None:
            raise TypeError(f"the statement returns no columns: {self.sql}")
        return self.row._make(p(v) if p is not None else v for p, v in zip(self.results, raw, strict=True))


class Prepared:
    """A fixed Core statement (SELECT, INSERT, UPDATE; RETURNING allowed) run without SQLAlchemy's per-call work.

    `keys`, for an INSERT without `.values()`, names the columns every row gives; a column with a
    scalar default that a row leaves out gets that default, as with SQLAlchemy; any other default
    (callable, SQL expression) must be given, and compiling refuses the statement otherwise.
    """

    def __init__(self, statement: ClauseElement, keys: Sequence[str] | None = None) -> None:
        self.statement = statement
        self.keys = list(keys) if keys is not None else None
        self._plans: WeakKeyDictionary[Dialect, _Plan] = WeakKeyDictionary()

    def _plan(self, dialect: Dialect) -> _Plan:
        plan = self._plans.get(dialect)
        if plan is None:
            plan = self._plans[dialect] = self._compile(dialect)
        return plan

    def _compile(self, dialect: Dialect) -> _Plan:
        compiled = self.statement.compile(dialect=dialect, column_keys=self.keys)
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

    def _run(self, conn: Connection, values: dict[str, Any] | list[dict[str, Any]], many: bool) -> tuple[_Plan, Any]:
        """(the plan it ran, the driver's cursor)."""
        plan = self._plan(conn.dialect)
        params: Any = [plan.parameters(v) for v in values] if many else plan.parameters(values)  # type: ignore[arg-type]
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        traced = bool(conn.dispatch.before_cursor_execute or conn.dispatch.after_cursor_execute)
        if traced:
            for listener in conn.dispatch.before_cursor_execute:
                listener(conn, cursor, plan.sql, params, None, many)
        if many:
            cursor.executemany(plan.sql, params)
        else:
            cursor.execute(plan.sql, params)
        if traced:
            for listener in conn.dispatch.after_cursor_execute:
                listener(conn, cursor, plan.sql, params, None, many)
        return plan, cursor

    def execute(self, conn: Connection, values: dict[str, Any]) -> int:
        """Run once; the number of rows it changed."""
        _, cursor = self._run(conn, values, many=False)
        count = cursor.rowcount
        cursor.close()
        return count

    def executemany(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """Run once per row (nothing for no rows; a single row skips the driver's batching)."""
        if len(rows) == 1:
            self.execute(conn, rows[0])
        elif rows:
            self._run(conn, rows, many=True)[1].close()

    def all(self, conn: Connection, values: dict[str, Any]) -> list[Any]:
        """Every row returned, as named tuples (attribute access and `_asdict()`, like SQLAlchemy's rows)."""
        plan, cursor = self._run(conn, values, many=False)
        rows = [plan.make_row(raw) for raw in cursor.fetchall()]
        cursor.close()
        return rows

    def first(self, conn: Connection, values: dict[str, Any]) -> Any | None:
        rows = self.all(conn, values)
        return rows[0] if rows else None

    def scalar(self, conn: Connection, values: dict[str, Any]) -> Any:
        """The first column of the one row returned (e.g. an INSERT … RETURNING id)."""
        row = self.first(conn, values)
        if row is None:
            raise LookupError(f"no row returned by {self.statement}")
        return row[0]
