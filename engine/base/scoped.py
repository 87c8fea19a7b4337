"""Setting a context variable for the length of a block: how a runtime's clock, calendar and budget are entered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

T = TypeVar("T")


@contextmanager
def scoped(var: ContextVar[T], value: T) -> Iterator[T]:
    """`var` is `value` for code in this block (this thread or task), and what it was before afterwards."""
    token = var.set(value)
    try:
        yield value
    finally:
        var.reset(token)
