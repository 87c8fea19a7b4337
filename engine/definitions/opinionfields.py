"""Which form fields make a task completion a decision (审批意见): read from the form's own marks.

A string field marked `"x-opinion": "public"` or `"x-opinion": "internal"` (at any depth: the street office's
`site_check.opinion`) is the step's opinion: a form with one is a decision form, and a completion through it
must carry a non-blank opinion. The field marked `"x-decision": true` (a `oneOf` of titled constants, an `enum`,
or a boolean) is what was decided; it is optional (an inspection's findings decide nothing, but are an opinion).

`public`: the applicant sees the opinion in its case's trail and its decision documents (the 办理意见 of the
steps that decide on its application: acceptance, the decision, a department's permit review); `internal`:
staff only (a street office's site notes, an expert review's reasoning), see engine/case/opinions.py.

The marks live in the form, beside the field they describe, so that a form used by several tasks means the same
everywhere and a designer sees the rule where the field is. Checked when the form is loaded (a bad mark is a
validate error naming the form).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

OPINION_MARK = "x-opinion"
DECISION_MARK = "x-decision"
AUDIENCES = ("public", "internal")


@dataclass(frozen=True)
class DecisionFields:
    """Where a decision form keeps its opinion and its decision (JSON pointers), and who may read the opinion."""

    opinion: str
    internal: bool
    decision: str | None = None
    decision_schema: Any = None  # the decision field's own schema: its titles label the trail

    def label(self, value: Any) -> str | None:
        """What was decided as people read it: the constant's title (`备案通过`), or the boolean field's
        title with 是/否; the value itself when the schema gives no title."""
        if value is None or not isinstance(self.decision_schema, dict):
            return None if value is None else str(value)
        for option in self.decision_schema.get("oneOf") or self.decision_schema.get("anyOf") or []:
            if isinstance(option, dict) and option.get("const") == value and option.get("title"):
                return str(option["title"])
        if isinstance(value, bool):
            title = self.decision_schema.get("title")
            answer = "是 (yes)" if value else "否 (no)"
            return f"{title}：{answer}" if title else answer
        return str(value)


def _marked(schema: Any, mark: str, at: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """(pointer, field schema) of every property carrying `mark`, through nested objects."""
    if not isinstance(schema, dict):
        return
    for name, field in (schema.get("properties") or {}).items():
        if not isinstance(field, dict):
            continue
        pointer = f"{at}/{name}"
        if mark in field:
            yield pointer, field
        yield from _marked(field, mark, pointer)


def decision_fields(form_name: str, schema: dict[str, Any]) -> DecisionFields | None:
    """The form's decision marks, or None for a form that decides nothing; ValueError naming the form for a
    mark that cannot work (two opinions, an opinion that is no string, an unknown audience)."""
    opinions = list(_marked(schema, OPINION_MARK))
    decisions = [(p, f) for p, f in _marked(schema, DECISION_MARK) if f[DECISION_MARK] is True]
    if not opinions:
        if decisions:
            raise ValueError(f"表单 {form_name} 标了 {DECISION_MARK} 却没有 {OPINION_MARK} 意见字段 "
                             f"(a decision needs an opinion field marked {OPINION_MARK})")
        return None
    if len(opinions) > 1 or len(decisions) > 1:
        raise ValueError(f"表单 {form_name} 只能有一个意见字段和一个决定字段 (one {OPINION_MARK} and at most one "
                         f"{DECISION_MARK} field per form)")
    pointer, field = opinions[0]
    if field.get("type") != "string" or field.get("readOnly"):
        raise ValueError(f"表单 {form_name} 的意见字段 {pointer} 须为可填写的文本 (the opinion field must be a "
                         "writable string)")
    if field[OPINION_MARK] not in AUDIENCES:
        raise ValueError(f"表单 {form_name} 的 {OPINION_MARK} 须为 public 或 internal "
                         f"(the {OPINION_MARK} of {pointer} must be one of {', '.join(AUDIENCES)})")
    decision, decision_schema = decisions[0] if decisions else (None, None)
    return DecisionFields(pointer, field[OPINION_MARK] == "internal", decision, decision_schema)
