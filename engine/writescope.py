"""Which fields a form lets a person write: every path its schema declares and does not mark `readOnly`.

A step merges what it is sent into the case's data, so a field the form does not declare would let
the sender rewrite anything the process keeps (thresholds, permit lists, due dates, counters).
JSON Schema itself allows undeclared properties unless told otherwise and never enforces
`readOnly`, so this walks the submitted value beside the schema: a property is declared when any
applicable branch (`allOf`/`anyOf`/`oneOf`, `if`/`then`/`else`, `dependentSchemas`, local `$ref`)
names it in `properties`, matches it in `patternProperties`, or gives `additionalProperties` as a
schema (or an explicit `true`: a designer's free-form map).  Declaring in a branch is enough — the
schema's own validation decides whether the branch's condition holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

UNDECLARED = "表单未声明此字段，不能写入 (the form does not declare this field: it cannot be written)"
READ_ONLY = "只读字段，不能写入 (read-only field: it cannot be written)"
_BRANCH_LISTS = ("allOf", "anyOf", "oneOf")
#: What `additionalProperties: true` declares: any key, and anything under it (a designer's free-form map)
_FREE: dict[str, Any] = {}
_BRANCHES = ("if", "then", "else")


def write_errors(schema: dict[str, Any], data: Any) -> dict[str, list[str]]:
    """Every path in `data` the schema does not let a person write, as JSON pointer → [reason]."""
    errors: dict[str, list[str]] = {}
    _walk(schema, [schema], data, "", errors)
    return errors


def read_only_fields(schema: dict[str, Any]) -> frozenset[str]:
    """Top-level fields the form only shows: their stored values stand in for them when it is validated."""
    names = set()
    for branch in _expand(schema, [schema]):
        for name, sub in (branch.get("properties") or {}).items():
            if isinstance(sub, dict) and any(s.get("readOnly") is True for s in _expand(schema, [sub])):
                names.add(name)
    return frozenset(names)


def writable_fields(schema: dict[str, Any]) -> frozenset[str]:
    """Top-level fields a person may write (wholly or in part): what a step could change in the case."""
    names = set()
    for branch in _expand(schema, [schema]):
        names.update(branch.get("properties") or {})
    return frozenset(names - read_only_fields(schema))


def _walk(root: dict[str, Any], schemas: list[Any], value: Any, path: str, errors: dict[str, list[str]]) -> None:
    applicable = list(_expand(root, schemas))
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}/{escape(str(key))}"
            declaring = list(_declaring(applicable, str(key)))
            if not declaring:
                errors[where] = [UNDECLARED]
            elif any(s.get("readOnly") is True for s in _expand(root, declaring)):
                errors[where] = [READ_ONLY]
            elif not any(s is _FREE for s in declaring):
                _walk(root, declaring, item, where, errors)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            items = [s for s in (_item_schema(b, index) for b in applicable) if s is not None]
            if items:
                _walk(root, items, item, f"{path}/{index}", errors)


def _declaring(schemas: list[dict[str, Any]], key: str) -> Iterator[Any]:
    """The subschemas that declare `key` in any of the given (already expanded) schemas."""
    for schema in schemas:
        properties = schema.get("properties")
        if isinstance(properties, dict) and key in properties:
            yield properties[key]
            continue
        matched = [sub for pattern, sub in (schema.get("patternProperties") or {}).items()
                   if _pattern(pattern).search(key)]
        if matched:
            yield from matched
            continue
        extra = schema.get("additionalProperties")
        if extra is True:
            yield _FREE
        elif isinstance(extra, dict):
            yield extra


def _item_schema(schema: dict[str, Any], index: int) -> Any:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list) and index < len(prefix):
        return prefix[index]
    items = schema.get("items")
    return items if isinstance(items, dict) else None


def _expand(root: dict[str, Any], schemas: list[Any]) -> Iterator[dict[str, Any]]:
    """Each schema with every branch that may apply beside it, depth first, each once."""
    seen: set[int] = set()
    stack = [s for s in reversed(schemas) if isinstance(s, dict)]
    while stack:
        schema = stack.pop()
        if id(schema) in seen:
            continue
        seen.add(id(schema))
        yield schema
        nested: list[Any] = [schema.get(k) for k in _BRANCHES]
        for key in _BRANCH_LISTS:
            nested.extend(schema.get(key) or [])
        nested.extend((schema.get("dependentSchemas") or {}).values())
        if isinstance(schema.get("$ref"), str):
            nested.append(_resolve(root, schema["$ref"]))
        stack.extend(s for s in reversed(nested) if isinstance(s, dict))


def _resolve(root: dict[str, Any], ref: str) -> Any:
    """A local reference (`#/$defs/address`); other references declare nothing here."""
    if not ref.startswith("#"):
        return None
    target: Any = root
    for part in filter(None, ref[1:].split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        target = target.get(part) if isinstance(target, dict) else None
    return target


@lru_cache(maxsize=256)
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def escape(key: str) -> str:
    """A field name as one JSON-pointer segment (RFC 6901)."""
    return key.replace("~", "~0").replace("/", "~1")
