"""Every shipped form speaks both languages: labels, options and help carry their English, and a pattern
has a readable message (the page and the server show it, never the regular expression)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from engine.definitions.forms import load_form
from tests.support.repo import REPO

SCHEMAS = sorted(p for p in (REPO / "forms").glob("*.json") if not p.name.endswith(".ui.json"))
UI_SCHEMAS = sorted((REPO / "forms").glob("*.ui.json"))


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)


@pytest.mark.parametrize("path", SCHEMAS, ids=lambda p: p.name)
def test_every_title_description_and_pattern_has_its_english(path: Any) -> None:
    missing = []
    for node in nodes(json.loads(path.read_text())):
        for key in ("title", "description", "x-pattern-message"):
            english = f"{key}-en" if key.startswith("x-") else f"x-{key}-en"
            if isinstance(node.get(key), str) and not (isinstance(node.get(english), str) and node[english].strip()):
                missing.append(f"{key} {node[key]!r}")
        if isinstance(node.get("pattern"), str) and "x-pattern-message" not in node:
            missing.append(f"pattern {node['pattern']!r} has no x-pattern-message")
    assert missing == []


@pytest.mark.parametrize("path", UI_SCHEMAS, ids=lambda p: p.name)
def test_every_help_text_has_its_english(path: Any) -> None:
    missing = [node["ui:help"] for node in nodes(json.loads(path.read_text()))
               if isinstance(node.get("ui:help"), str) and not node.get("ui:help-en")]
    assert missing == []


def test_a_pattern_failure_reads_as_the_form_says_never_as_the_regex() -> None:
    form = load_form("sample_submit.json", (REPO / "forms" / "sample_submit.json").read_bytes())
    errors = form.errors({"contact": "张三", "mobile": "2380000000", "email": "z@example.cn", "commitment": True})
    assert errors == {"/mobile": ["请填写以 1 开头的 11 位手机号码 (an 11-digit mobile number starting with 1)"]}


def test_a_pattern_without_its_own_message_says_so_in_both_languages() -> None:
    schema = {"type": "object", "properties": {"code": {"type": "string", "pattern": "^[A-Z]{3}$"}}}
    form = load_form("t.json", json.dumps(schema).encode())
    assert form.errors({"code": "ab"}) == {"/code": ["格式不正确 (not in the expected format)"]}
