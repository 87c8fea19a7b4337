"""The FEEL unary tests decision tables use (engine/bpmn/feel.py): one case per construct, and its null logic."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from engine.bpmn.feel import FeelError, FeelTypeError, parse_literal, parse_tests


@pytest.mark.parametrize(("entry", "value", "expected"), [
    ("[50000..200000]", 50000, True), ("[50000..200000]", 200000, True), ("[50000..200000]", 200001, False),
    ("(1..5]", 1, False), ("(1..5]", 1.5, True), ("(1..5]", 5, True), ("[1..5)", 5, False), ("]1..5[", 3, True),
    ("[1..5[", 5, False), ('"AA","BB"', "BB", True), ('"AA","BB"', "CC", False), ('not("XX")', "YY", True),
    ('not("XX")', "XX", False), ("not(1,2)", 3, True), ("not(1,2)", 2, False), ("< 10", 9.99, True),
    ("< 10", 10, False), ("<= 10", 10, True), ("> -5", -4, True), (">= 0.1", 0.1, True),
    ('>= date("2026-01-01")', date(2026, 1, 1), True), ('>= date("2026-01-01")', "2025-12-31", False),
    ('< date("2026-01-01")', "2025-12-31T23:59:00+08:00", True), ("-", "anything", True), ("", None, True),
    ('"x"', "x", True), ("5", 5.0, True), ("true", True, True), ("false", True, False), ("True", True, True),
    ("null", None, True), ("None", 0, False), ("1,[5..9]", 7, True), ("1,[5..9]", 4, False),
])
def test_each_construct(entry: str, value: Any, expected: bool) -> None:
    assert parse_tests(entry).matches(value, {}) is expected


@pytest.mark.parametrize(("entry", "expected"), [("< 10", False), ("[1..5]", False), ("5", False),
                                                 ("null", True), ("not(5)", True), ("not(< 10)", False), ("-", True)])
def test_a_null_input_fails_comparisons_without_an_error(entry: str, expected: bool) -> None:
    assert parse_tests(entry).matches(None, {}) is expected


def test_names_are_case_fields_and_absent_ones_are_null() -> None:
    assert parse_tests("[low..applicant.high]").matches(5, {"low": 1, "applicant": {"high": 9}})
    assert not parse_tests("< limit").matches(5, {})


@pytest.mark.parametrize(("entry", "value"), [("< 10", "5"), ('"a"', 1), ("true", 1), ('>= date("2026-01-01")', "x")])
def test_another_type_than_the_entry_is_an_error_not_a_non_match(entry: str, value: Any) -> None:
    with pytest.raises(FeelTypeError, match="cannot be compared with"):
        parse_tests(entry).matches(value, {})


@pytest.mark.parametrize("entry", ["? > 1", ">= 1 and <= 2", "1..2", "[1..2", "not()", '"unterminated', "a +1",
                                   "date(2026)", "x(1)", "__import__('os')"])
def test_text_outside_the_subset_is_refused(entry: str) -> None:
    with pytest.raises(FeelError):
        parse_tests(entry)


@pytest.mark.parametrize(("text", "value"), [('"文本"', "文本"), ("12", 12), ("-1.5", -1.5), ("true", True),
                                             ("null", None), ('date("2026-01-01")', date(2026, 1, 1))])
def test_output_literals(text: str, value: Any) -> None:
    assert parse_literal(text) == value and type(parse_literal(text)) is type(value)


@pytest.mark.parametrize("text", ['"a","b"', "< 1", "amount * 2", "-"])
def test_what_is_not_one_literal(text: str) -> None:
    with pytest.raises(FeelError):
        parse_literal(text)
