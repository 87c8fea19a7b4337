"""The FEEL that decision tables need: DMN 1.3 simple unary tests for input entries, literals for output entries.

Decision tables written in dmn-js or Camunda Modeler use FEEL: `[50000..200000]`, `"AA","BB"`, `not("XX")`,
`>= date("2026-01-01")`, `-`. No maintained Python library parses FEEL *unary tests* (bkflow-feel parses FEEL
expressions only — `"AA","BB"`, `< 10` and `-` are syntax errors to it — and pins pytz below 2024), so this
module has lark parse exactly that subset into small test objects evaluated here: the text of an entry never
reaches Python's `eval`.

Comparisons follow FEEL's three-valued logic: a null (missing) input fails `< 10` and `[1..5]` without an error
and matches `not(1)`; an input of another type than the entry's (text against a number) is a designer's
mistake and raises FeelTypeError, never a silent non-match.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedInput, v_args

from engine.base import workdays

_GRAMMAR = r"""
?start: tests
tests: "-"                               -> any_value
     | NOT "(" positives ")"             -> negated
     | positives
positives: positive ("," positive)*
?positive: COMPARATOR endpoint           -> compare
         | low_end endpoint ".." endpoint high_end -> interval
         | endpoint                      -> equal
?endpoint: literal | path
?literal: NUMBER                         -> number
        | STRING                         -> string
        | TRUE                           -> true
        | FALSE                          -> false
        | NULL                           -> null
        | DATE "(" STRING ")"            -> date
path: NAME ("." NAME)*
low_end: "[" -> closed | "(" -> opened | "]" -> opened
high_end: "]" -> closed | ")" -> opened | "[" -> opened
COMPARATOR: "<=" | ">=" | "<" | ">"
NOT.2: /not\b/
DATE.2: /date\b/
TRUE.2: /(true|True)\b/
FALSE.2: /(false|False)\b/
NULL.2: /(null|None)\b/
NUMBER: /-?(\d+(\.\d+)?|\.\d+)/
STRING: /"(\\.|[^"\\])*"/
NAME: /(?!\d)\w+/
%ignore /\s+/
"""


class FeelError(ValueError):
    """Entry text outside the FEEL subset tongban evaluates (raised when a table is loaded: validate refuses it)."""


class FeelTypeError(TypeError):
    """An input compared with an entry of another type at run time (text against a number, say)."""


@dataclass(frozen=True)
class Path:
    """A name in an entry (`limit`, `applicant.kind`): a value of the case data, null when absent."""

    names: tuple[str, ...]

    def resolve(self, data: Mapping[str, Any]) -> Any:
        value: Any = data
        for name in self.names:
            if not isinstance(value, Mapping) or name not in value:
                return None
            value = value[name]
        return value


def _value(endpoint: Any, data: Mapping[str, Any]) -> Any:
    return endpoint.resolve(data) if isinstance(endpoint, Path) else endpoint


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float | Decimal):
        return "number"
    if isinstance(value, date):
        return "date"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


def _as_date(value: Any) -> Any:
    """Case data keeps dates and times as ISO text; compared with a date, a time counts as its day in China."""
    if isinstance(value, datetime):
        return (value.astimezone(workdays.CHINA) if value.tzinfo else value).date()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
        try:
            return _as_date(datetime.fromisoformat(value))
        except ValueError:
            return value
    return value


def _comparable(value: Any, endpoint: Any) -> tuple[Any, Any]:
    """Both sides as one FEEL type (numbers exactly, as decimals); FeelTypeError when they are of two types."""
    if isinstance(endpoint, date):
        value = _as_date(value)
    kinds = _kind(value), _kind(endpoint)
    if kinds[0] != kinds[1]:
        raise FeelTypeError(f"输入值 {value!r}（{kinds[0]}）不能与 {endpoint!r}（{kinds[1]}）比较 "
                            f"(the input {value!r}, a {kinds[0]}, cannot be compared with {endpoint!r}, a {kinds[1]})")
    if kinds[0] == "number":
        return _decimal(value), _decimal(endpoint)
    return value, endpoint


def _decimal(number: Any) -> Decimal:
    return number if isinstance(number, Decimal) else Decimal(repr(number) if isinstance(number, float) else number)


_ORDER = {"<": lambda a, b: a < b, "<=": lambda a, b: a <= b, ">": lambda a, b: a > b, ">=": lambda a, b: a >= b}


@dataclass(frozen=True)
class Test:
    """One positive unary test: `= endpoint` (kind "="), `< endpoint` …, or an interval (kind "..")."""

    kind: str
    low: Any
    high: Any = None
    low_closed: bool = True
    high_closed: bool = True

    def holds(self, value: Any, data: Mapping[str, Any]) -> bool | None:
        """True, False, or None (null: FEEL's unknown, which never matches)."""
        low = _value(self.low, data)
        if self.kind == "=":
            if value is None or low is None:
                return value is None and low is None
            left, right = _comparable(value, low)
            return bool(left == right)
        if value is None or low is None:
            return None
        if self.kind != "..":
            left, right = _comparable(value, low)
            return bool(_ORDER[self.kind](left, right))
        high = _value(self.high, data)
        if high is None:
            return None
        left, low = _comparable(value, low)
        left, high = _comparable(value, high)
        above = left >= low if self.low_closed else left > low
        below = left <= high if self.high_closed else left < high
        return bool(above and below)


@dataclass(frozen=True)
class UnaryTests:
    """An input entry: `-` (any value), a list of positive tests (any one matching), or `not(...)` of one."""

    tests: tuple[Test, ...] = ()
    negated: bool = False

    def matches(self, value: Any, data: Mapping[str, Any]) -> bool:
        if not self.tests:
            return True
        results = [t.holds(value, data) for t in self.tests]
        found: bool | None = True if True in results else None if None in results else False
        if self.negated:
            found = None if found is None else not found
        return found is True

    def values(self) -> list[Any] | None:
        """The literals of a plain list (`"high","medium","low"`: an output's priorities), else None."""
        if self.negated or not all(t.kind == "=" and not isinstance(t.low, Path) for t in self.tests):
            return None
        return [t.low for t in self.tests]


@v_args(inline=True)
class _Build(Transformer):  # type: ignore[type-arg]
    def any_value(self) -> UnaryTests:
        return UnaryTests()

    def negated(self, _not: Token, positives: tuple[Test, ...]) -> UnaryTests:
        return UnaryTests(positives, negated=True)

    def tests(self, positives: tuple[Test, ...]) -> UnaryTests:
        return UnaryTests(positives)

    def positives(self, *tests: Test) -> tuple[Test, ...]:
        return tests

    def compare(self, comparator: Token, endpoint: Any) -> Test:
        return Test(str(comparator), endpoint)

    def equal(self, endpoint: Any) -> Test:
        return Test("=", endpoint)

    def closed(self) -> bool:
        return True

    def opened(self) -> bool:
        return False

    def interval(self, low_closed: bool, low: Any, high: Any, high_closed: bool) -> Test:
        kinds = {_kind(e) for e in (low, high) if not isinstance(e, Path)}
        if len(kinds) > 1 or "null" in kinds:
            raise FeelError(f"区间两端类型不同或为空 (the ends of the range are of different types or null: "
                            f"{low!r}, {high!r})")
        if not isinstance(low, Path) and not isinstance(high, Path) and _comparable(low, high)[0] > _comparable(
                low, high)[1]:
            raise FeelError(f"区间下端大于上端 (the range starts above its end: {low!r} > {high!r})")
        return Test("..", low, high, low_closed=low_closed, high_closed=high_closed)

    def number(self, token: Token) -> int | float:
        text = str(token)
        return int(text) if text.lstrip("-").isdigit() else float(text)

    def string(self, token: Token) -> str:
        try:
            return str(json.loads(str(token)))
        except ValueError:
            raise FeelError(f"字符串中有无效的转义 (invalid escape in the string {token})") from None

    def true(self, _token: Token) -> bool:
        return True

    def false(self, _token: Token) -> bool:
        return False

    def null(self, _token: Token) -> None:
        return None

    def date(self, _date: Token, text: Token) -> date:
        literal = self.string(text)
        try:
            return date.fromisoformat(literal)
        except ValueError:
            raise FeelError(f"日期无效 (not a date: {literal!r}; write date(\"2026-01-01\"))") from None

    def path(self, *names: Token) -> Path:
        return Path(tuple(str(n) for n in names))


_PARSER = Lark(_GRAMMAR, parser="lalr")


@lru_cache(maxsize=4096)
def parse_tests(text: str) -> UnaryTests:
    """An input entry's unary tests; an empty entry matches any value, as `-` does. FeelError says what is wrong."""
    if not text.strip():
        return UnaryTests()
    try:
        tree = _PARSER.parse(text)
    except UnexpectedInput as exc:
        raise FeelError(f"第 {exc.column} 个字符处无法解析 (cannot parse at character {exc.column})") from None
    try:
        return _Build().transform(tree)  # type: ignore[no-any-return]
    except Exception as exc:  # lark wraps what the transformer raises
        cause = getattr(exc, "orig_exc", exc)
        raise FeelError(str(cause)) from None


def parse_literal(text: str) -> Any:
    """An output entry that is one FEEL literal (a string, number, boolean, null or date); FeelError otherwise."""
    tests = parse_tests(text) if text.strip() and text.strip() != "-" else None
    values = tests.values() if tests is not None else None
    if values is None or len(values) != 1:
        raise FeelError("不是单个字面量 (not a single literal)")
    return values[0]

