"""Errors the runtime raises; each maps to one HTTP status so the API layer needs no guessing."""

from __future__ import annotations

from typing import Any


class TongbanError(Exception):
    """Base class: a machine-readable `code`, a human `message` and optional per-field detail."""

    code = "error"
    status = 400

    def __init__(self, message: str, fields: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    def to_dict(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "fields": self.fields}


class NotFound(TongbanError):
    """The object does not exist *or the caller may not see it* (never leak existence)."""

    code = "not_found"
    status = 404


class Forbidden(TongbanError):
    code = "forbidden"
    status = 403


class Conflict(TongbanError):
    """Someone else changed the instance first (stale version, task already completed)."""

    code = "conflict"
    status = 409


class FormInvalid(TongbanError):
    """Submitted data breaks the form: `fields` maps every failing JSON path to its messages."""

    code = "validation_failed"
    status = 422


class DefinitionInvalid(TongbanError):
    """A process bundle failed validation; `problems` lists each with file, line and element id."""

    code = "definition_invalid"
    status = 422

    def __init__(self, message: str, problems: list[Any]) -> None:
        # `fields` keys say where, as `file:line#element`, so API clients can mark the element
        where: dict[str, list[str]] = {}
        for p in problems:
            where.setdefault(f"{p.file}:{p.line or ''}#{p.element_id or ''}", []).append(p.message)
        super().__init__(message, where)
        self.problems = problems


class Unauthorized(TongbanError):
    code = "unauthorized"
    status = 401
