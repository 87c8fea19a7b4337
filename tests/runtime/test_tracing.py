"""OpenTelemetry's SQLAlchemy instrumentation traces a whole step: every statement of a start and a completion
is a finished span, none failed (the listeners need SQLAlchemy's execution context, which every statement has)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from sqlalchemy import event

from engine.runtime.runtime import Runtime
from tests.support.shipped import SUBMIT


@pytest.fixture
def spans(runtime: Runtime) -> Iterator[InMemorySpanExporter]:
    """The runtime's engine instrumented as an application would (`instrument(engine=…)`), spans kept in memory.

    The instrumentation declares SQLAlchemy < 2.1 (its newest release, 0.66b2, predates 2.1) and otherwise
    instruments nothing: `skip_dep_check` is how a deployment on 2.1 enables it (docs/operations.md)."""
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    instrumentor = SQLAlchemyInstrumentor()
    instrumentor.instrument(engine=runtime.db.engine, tracer_provider=provider, skip_dep_check=True)
    try:
        yield exporter
    finally:
        instrumentor.uninstrument()
        provider.shutdown()


def _statement(span: Any) -> str:
    attributes = span.attributes or {}
    return str(attributes.get("db.statement") or attributes.get("db.query.text") or "")


def test_a_start_and_a_completion_are_traced_statement_by_statement(runtime: Runtime,
                                                                    spans: InMemorySpanExporter) -> None:
    executed: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        executed.append(statement)

    event.listen(runtime.db.engine, "before_cursor_execute", count)
    try:
        started = runtime.start("sample_approval", {"title": "追踪测试", "amount": 50000}, runtime.actor("haiyun"))
        done = runtime.complete(started.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    finally:
        event.remove(runtime.db.engine, "before_cursor_execute", count)
    assert done.open_tasks == [] and done.status == "running"  # the case went on to the clerk's approval

    finished = spans.get_finished_spans()
    statements = [s for s in finished if s.name != "connect"]  # checking a connection out is a span of its own
    assert [_statement(s) for s in statements] == executed  # one span per statement the driver ran, in order
    assert all(s.end_time is not None and s.status.status_code != StatusCode.ERROR for s in finished)
    written = " | ".join(_statement(s) for s in statements)
    for statement in ("INSERT INTO case_counters", "INSERT INTO instances", "INSERT INTO human_tasks",
                      "INSERT INTO events", "UPDATE instances SET", "UPDATE human_tasks SET"):
        assert statement in written, statement
