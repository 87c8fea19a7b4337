"""Which fields a form lets a person write: every path its schema declares and does not mark `readOnly`.

A step merges what it is sent into the case's data, so a field the form does not declare would let
the sender rewrite anything the process keeps (thresholds, permit lists, due dates, counters).
JSON Schema itself allows undeclared properties unless told otherwise and never enforces
`readOnly`, so this walks the submitted value beside the schema.  A property is declared by the
subschemas that apply to the value at hand, as JSON Schema applies them: the schema itself, every
`allOf` branch, the `anyOf`/`oneOf` branches the value matches (all of them when it matches none, so
that only the schema's own error is reported), `then` when the value meets `if` and `else` when it
does not, `dependentSchemas` of the keys present, and local `$ref`s.  Within those it is declared by
`properties` and matching `patternProperties` (both apply), else by an `additionalProperties` schema
(or an explicit `true`: a designer's free-form map).  So the 135 handling form's `extension_until`,
declared under `if handle_outcome == "extend"`, cannot be sent with any other outcome.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator

from engine.base.jsonvalues import escape

UNDECLARED = "表单未声明此字段，不能写入 (the form does not declare this field: it cannot be written)"
READ_ONLY = "只读字段，不能写入 (read-only field: it cannot be written)"
#: What `additionalProperties: true` declares: any key, and anything under it (a designer's free-form map)
_FREE: dict[str, Any] = {}
_ANY_VALUE: Any = object()  # expand every branch, whatever value they would apply to (the lint's view)


class WriteScope:
    """One form's write scope; `validator` (the form's own) decides which conditional branches apply."""

    def __init__(self, schema: dict[str, Any], validator: Any = None) -> None:
        self.root = schema
        self._validator = validator

    @property
    def validator(self) -> Any:
        """Built when a condition is first tested: the static questions (which fields a form names) need none."""
        if self._validator is None:
            self._validator = Draft202012Validator(self.root)
        return self._validator

    def check(self, data: Any, stored: Any = None, seen: Any = None) -> tuple[dict[str, list[str]], Any]:
        """(every path the schema does not let a person write → [reason], the data to write).

        A submitted object replaces the stored one, so read-only fields nested in it are carried over
        from `stored` (the case's data before the step): what a form only shows survives its submission.
        `seen` is what the top level's conditions read, when it is more than what was sent (the stored
        read-only fields beside it).
        """
        errors: dict[str, list[str]] = {}
        return errors, self._walk([self.root], data, stored, "", errors, data if seen is None else seen)

    def _walk(self, schemas: list[Any], value: Any, stored: Any, path: str, errors: dict[str, list[str]],
              seen: Any = None) -> Any:
        applicable = list(self._expand(schemas, value if seen is None else seen))
        if isinstance(value, dict):
            out = dict(value)
            for key, item in value.items():
                where = f"{path}/{escape(str(key))}"
                declaring = list(_declaring(applicable, str(key)))
                if not declaring:
                    errors[where] = [UNDECLARED]
                elif _read_only(self._expand(declaring, _ANY_VALUE)):
                    errors[where] = [READ_ONLY]
                elif not any(s is _FREE for s in declaring):
                    before = stored.get(key) if isinstance(stored, dict) else None
                    out[key] = self._walk(declaring, item, before, where, errors)
            if path and isinstance(stored, dict):  # top-level fields the step leaves out stay as they are
                for name in _read_only_names(applicable, self):
                    if name not in out and name in stored:
                        out[name] = stored[name]
            return out
        if isinstance(value, list):
            for index, item in enumerate(value):
                items = [s for s in (_item_schema(b, index) for b in applicable) if s is not None]
                if items:
                    self._walk(items, item, None, f"{path}/{index}", errors)
        return value

    def _expand(self, schemas: list[Any], value: Any) -> Iterator[dict[str, Any]]:
        """Each schema with the branches that apply to `value` beside it (every branch for _ANY_VALUE)."""
        seen: set[int] = set()
        stack = [s for s in reversed(schemas) if isinstance(s, dict)]
        while stack:
            schema = stack.pop()
            if id(schema) in seen:
                continue
            seen.add(id(schema))
            yield schema
            stack.extend(s for s in reversed(self._branches(schema, value)) if isinstance(s, dict))

    def _branches(self, schema: dict[str, Any], value: Any) -> list[Any]:
        nested: list[Any] = list(schema.get("allOf") or [])
        for key in ("anyOf", "oneOf"):
            options = [s for s in schema.get(key) or [] if isinstance(s, dict)]
            matching = [s for s in options if self._holds(s, value)]
            nested.extend(matching or options)
        if "if" in schema:
            if value is _ANY_VALUE:
                nested.extend([schema.get("then"), schema.get("else")])
            else:
                nested.append(schema.get("then") if self._holds(schema["if"], value) else schema.get("else"))
        for key, dependent in (schema.get("dependentSchemas") or {}).items():
            if value is _ANY_VALUE or (isinstance(value, dict) and key in value):
                nested.append(dependent)
        if isinstance(schema.get("$ref"), str):
            nested.append(_resolve(self.root, schema["$ref"]))
        return nested

    def _holds(self, schema: Any, value: Any) -> bool:
        return value is _ANY_VALUE or bool(self.validator.evolve(schema=schema).is_valid(value))


def write_errors(schema: dict[str, Any], data: Any) -> dict[str, list[str]]:
    """Every path in `data` the schema does not let a person write, as JSON pointer → [reason]."""
    return WriteScope(schema).check(data)[0]


def read_only_fields(schema: dict[str, Any]) -> frozenset[str]:
    """Top-level fields the form only shows: their stored values stand in for them when it is validated."""
    scope = WriteScope(schema)
    return frozenset(_read_only_names(list(scope._expand([schema], _ANY_VALUE)), scope))


def writable_fields(schema: dict[str, Any]) -> frozenset[str]:
    """Top-level fields a person may write (wholly or in part) in some branch: what a step could change."""
    names = set()
    for branch in WriteScope(schema)._expand([schema], _ANY_VALUE):
        names.update(branch.get("properties") or {})
    return frozenset(names - read_only_fields(schema))


def marked_fields(schema: dict[str, Any], mark: str) -> frozenset[str]:
    """Top-level fields some branch declares with `mark: true` (x-input, x-personal)."""
    return frozenset(name for branch in WriteScope(schema)._expand([schema], _ANY_VALUE)
                     for name, sub in (branch.get("properties") or {}).items()
                     if isinstance(sub, dict) and sub.get(mark) is True)


def _read_only_names(applicable: list[dict[str, Any]], scope: WriteScope) -> set[str]:
    return {name for branch in applicable for name, sub in (branch.get("properties") or {}).items()
            if isinstance(sub, dict) and _read_only(scope._expand([sub], _ANY_VALUE))}


def _read_only(schemas: Iterator[dict[str, Any]]) -> bool:
    return any(s.get("readOnly") is True for s in schemas)


def _declaring(schemas: list[dict[str, Any]], key: str) -> Iterator[Any]:
    """The subschemas that declare `key` in any of the given (already expanded) schemas."""
    for schema in schemas:
        properties = schema.get("properties")
        named = isinstance(properties, dict) and key in properties
        if named:
            yield properties[key]
        matched = [sub for pattern, sub in (schema.get("patternProperties") or {}).items()
                   if _pattern(pattern).search(key)]
        yield from matched
        if named or matched:
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
