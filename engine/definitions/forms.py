"""JSON Schema forms: checking the schema itself, and validating submitted data against it.

Identity numbers get formats of their own: `"format": "uscc"` (GB 32100 check character) and
`"format": "resident-id"` (GB 11643 check character and a real birth date), reported in Chinese and
English naming the field. A string field may say `"x-options": "street"` to offer the district's
organisations with that tag (engine/definitions/organisations.py).

Rules JSON Schema cannot say (M consenting owners equal N owners, a funding split summing to the
budget, an end after a start) are a form's `x-rules`: restricted expressions over the submitted
data, each naming the field it reports on, checked after the schema and reported the same way.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal, localcontext
from functools import cached_property
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker, ValidationError, validators
from jsonschema.exceptions import SchemaError
from jsonschema.validators import validator_for

from engine.base.identity import IdentityInvalid, check_resident_id, check_uscc
from engine.bpmn.scripting import RestrictedEnvironment, ScriptRefused, check, data_names
from engine.definitions.opinionfields import DecisionFields, decision_fields
from engine.definitions.organisations import OrganisationList, expand_options, uses_options
from engine.definitions.writescope import WriteScope, marked_fields, read_only_fields, writable_fields

FORMAT_CHECKER = FormatChecker()
#: formats a pattern cannot check; their failures say why, in Chinese and English, naming the field
IDENTITY_FORMATS = {"uscc": check_uscc, "resident-id": check_resident_id}
for _name, _check in IDENTITY_FORMATS.items():
    FORMAT_CHECKER.checks(_name, raises=IdentityInvalid)(lambda value, check=_check: not isinstance(value, str)
                                                         or check(value) is None)
RULES_KEY = "x-rules"
PERSONAL_MARK = "x-personal"
JSON_POINTER = re.compile(r"(/([^~/]|~[01])*)+")  # RFC 6901, not the root: a rule reports on a field


@dataclass(frozen=True)
class Rule:
    """`check` must be true of the submitted data, else `message` is reported at `path`."""

    path: str
    check: str
    message: str

    @cached_property
    def reads(self) -> frozenset[str]:
        """The data fields the check reads (helpers, builtins and comprehension variables are not fields)."""
        return data_names(self.check)

    def failure(self, data: dict[str, Any], schema_errors: dict[str, list[str]]) -> str | None:
        """The message when the rule fails; None when it holds or does not apply (a field it reads is
        absent, or already reported by the schema — one clear message per problem)."""
        if any(name not in data for name in self.reads):
            return None
        if any(key == f"/{name}" or key.startswith(f"/{name}/") for name in self.reads for key in schema_errors):
            return None
        try:
            holds = RestrictedEnvironment().evaluate(self.check, data)
        except Exception as exc:
            return f"{self.message}（规则无法计算 rule could not be evaluated: {exc}）"
        return None if holds else self.message


def _rules(name: str, schema: dict[str, Any]) -> tuple[Rule, ...]:
    raw = schema.get(RULES_KEY, [])
    if not isinstance(raw, list):
        raise ValueError(f"表单 {name} 的 {RULES_KEY} 必须是列表 ({RULES_KEY} must be a list)")
    rules = []
    for i, item in enumerate(raw):
        where = f"表单 {name} 的 {RULES_KEY}[{i}]"
        if not isinstance(item, dict) or not all(isinstance(item.get(k), str) for k in ("path", "check", "message")):
            raise ValueError(f"{where} 须有 path、check、message 三个字符串 (needs string path, check and message)")
        if not JSON_POINTER.fullmatch(item["path"]):
            raise ValueError(f"{where} 的 path 须为 JSON 指针，如 /mobile (path must be a JSON pointer)")
        try:
            check(item["check"], "eval")
        except ScriptRefused as exc:
            raise ValueError(f"{where} 的 check 表达式无效 (check refused): {exc}") from None
        rule = Rule(item["path"], item["check"], item["message"])
        if unknown := sorted(rule.reads - _fields(schema)):  # a rule over an absent field would never run
            raise ValueError(f"{where} 的 check 引用了表单没有的字段 {unknown} (check reads fields the form "
                             "does not define)")
        rules.append(rule)
    return tuple(rules)


def _fields(schema: dict[str, Any]) -> set[str]:
    """Top-level field names, including those only a branch (allOf/anyOf/oneOf, if/then/else) declares."""
    return set(writable_fields(schema) | read_only_fields(schema))


@dataclass(frozen=True)
class Form:
    name: str
    schema: dict[str, Any]
    ui_schema: dict[str, Any] | None = None
    rules: tuple[Rule, ...] = field(default=())
    #: the file says `x-options`: its version depends on processes/organisations.yaml
    uses_organisations: bool = False

    @cached_property
    def read_only(self) -> frozenset[str]:
        """Top-level fields shown for reading: never written, their stored values validated in their place."""
        return read_only_fields(self.schema)

    @cached_property
    def writable(self) -> frozenset[str]:
        """Top-level fields a person may write through this form (the lint's view of human input)."""
        return writable_fields(self.schema)

    @cached_property
    def validator(self) -> Any:
        cls = validator_for(self.schema, default=Draft202012Validator)
        checks = {"multipleOf": _multiple_of, "minLength": _min_length}
        return validators.extend(cls, checks)(self.schema, format_checker=FORMAT_CHECKER)

    @cached_property
    def personal(self) -> frozenset[str]:
        """Top-level fields marked `"x-personal": true` (ID numbers): masked for those who may not see them."""
        return marked_fields(self.schema, PERSONAL_MARK)

    @cached_property
    def decision(self) -> DecisionFields | None:
        """Where this form keeps a decision's opinion (`x-opinion`), or None: engine/definitions/opinionfields.py."""
        return decision_fields(self.name, self.schema)

    @cached_property
    def scope(self) -> WriteScope:
        return WriteScope(self.schema, self.validator)

    def errors(self, data: Any, stored: dict[str, Any] | None = None) -> dict[str, list[str]]:
        """Every failing field as JSON-pointer-like path → messages; empty when the data may be written."""
        return self.checked(data, stored)[0]

    def checked(self, data: Any, stored: dict[str, Any] | None = None) -> tuple[dict[str, list[str]], Any]:
        """(every failing field, the data to write).

        `stored` is the case's data before the step: the read-only fields are validated with their stored
        values, and x-rules read the stored data under what was sent, so a rule about the budget reads the
        case's budget, not one a caller makes up.  A field the form does not let a person write is an error
        of its own: refused, not dropped, so a client's mistake shows."""
        stored = stored or {}
        shown = {k: stored[k] for k in self.read_only if k in stored}
        # what is shown stays what is stored, whatever was sent in its place
        refused, written = self.scope.check(data, stored, {**data, **shown} if isinstance(data, dict) else None)
        data = {**written, **shown} if isinstance(written, dict) else written
        fields: dict[str, list[str]] = {}
        for error in self.validator.iter_errors(data):
            path = list(error.absolute_path)
            if error.validator == "required":  # point at the missing field, not at its parent
                missing = [p for p in error.validator_value if not isinstance(error.instance, dict)
                           or p not in error.instance]
                for prop in missing:
                    _report(fields, _path([*path, prop]), f"必填项 (required): {prop}")
                continue
            _report(fields, _path(path), _message(error))
        if isinstance(data, dict):
            schema_errors = dict(fields)  # rules step aside for the schema's errors, not for each other's
            merged = {**stored, **data}
            for rule in self.rules:
                message = rule.failure(merged, schema_errors)
                if message:
                    fields.setdefault(rule.path, []).append(message)
        for path, messages in refused.items():
            fields[path] = messages + [m for m in fields.get(path, []) if m not in messages]
        return fields, written


def _multiple_of(validator: Any, step: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """multipleOf on decimal values: jsonschema divides floats, so 0.07 yuan was "not a multiple of 0.01"
    (0.07 / 0.01 = 7.000000000000001: one cent amount in nine refused).  The precision covers every float."""
    if not validator.is_type(instance, "number"):
        return
    with localcontext() as exact:
        exact.prec = 1000
        if Decimal(str(instance)) % Decimal(str(step)) != 0:
            yield ValidationError(f"{instance!r} is not a multiple of {step}")


def visible_length(text: str) -> int:
    """Characters a reader sees: blanks (spaces, full-width spaces, line breaks) and invisible format characters
    (zero-width spaces and joiners, byte-order marks: Unicode category Cf) do not count."""
    return sum(1 for c in text if not c.isspace() and unicodedata.category(c) != "Cf")


def _min_length(validator: Any, least: Any, instance: Any, schema: dict[str, Any]) -> Iterator[ValidationError]:
    """minLength counts what a reader sees: a refusal's reasons of five spaces, or of zero-width spaces, are no
    reasons (a refusal must state its reasons), and a 10-character description of blanks describes nothing."""
    if validator.is_type(instance, "string") and visible_length(instance) < least:
        yield ValidationError(f"至少 {least} 个字（不计空白） (at least {least} characters, not counting blanks)")


#: messages people read instead of jsonschema's own, which quote the schema ("'x' does not match '^1\\d{10}$'")
READABLE = {
    "pattern": "格式不正确 (not in the expected format)",
    "enum": "请从列表中选择 (choose one of the options)",
    "const": "请按要求填写或勾选确认 (not the value this field requires)",
}
PATTERN_MESSAGE = "x-pattern-message"


def _message(error: ValidationError) -> str:
    """A message in both languages for what a schema says plainly (a pattern's own message from the form file's
    `x-pattern-message` / `-en`, never the raw regex), and for an identity format the reason naming the field."""
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "pattern" and isinstance(schema.get(PATTERN_MESSAGE), str):
        english = schema.get(f"{PATTERN_MESSAGE}-en")
        return f"{schema[PATTERN_MESSAGE]} ({english})" if isinstance(english, str) else schema[PATTERN_MESSAGE]
    if error.validator in READABLE:
        return READABLE[str(error.validator)]
    if error.validator != "format" or not isinstance(error.cause, IdentityInvalid):
        return error.message
    field_name = str(error.absolute_path[-1]) if error.absolute_path else "/"
    title = error.schema.get("title") if isinstance(error.schema, dict) else None
    return f"{title or field_name}：{error.cause.zh} ({field_name}: {error.cause.en})"


def _report(fields: dict[str, list[str]], path: str, message: str) -> None:
    """Once per field: several branches of a schema (allOf, then) may require the same field."""
    messages = fields.setdefault(path, [])
    if message not in messages:
        messages.append(message)


def _path(parts: list[Any]) -> str:
    return "/" + "/".join(str(p) for p in parts) if parts else "/"


def load_form(name: str, content: bytes, ui_content: bytes | None = None,
              organisations: OrganisationList | None = None) -> Form:
    """Parse and check a form file, its `x-options` expanded from `organisations`; raises ValueError with a
    readable reason when it is unusable."""
    try:
        schema = json.loads(content)
    except json.JSONDecodeError as exc:
        raise ValueError(f"表单 {name} 不是合法的 JSON (not valid JSON): line {exc.lineno}: {exc.msg}") from None
    if not isinstance(schema, dict):
        raise ValueError(f"表单 {name} 必须是 JSON 对象 (a form schema must be a JSON object)")
    offers = uses_options(schema)
    schema = expand_options(name, schema, organisations)
    try:
        validator_for(schema, default=Draft202012Validator).check_schema(schema)
    except SchemaError as exc:
        where = "/".join(map(str, exc.path)) or "(root)"
        raise ValueError(f"表单 {name} 不是合法的 JSON Schema (invalid JSON Schema at {where}): {exc.message}") \
            from None
    ui_schema = json.loads(ui_content) if ui_content else None
    form = Form(name, schema, ui_schema, _rules(name, schema), offers)
    _ = form.decision  # a bad x-opinion / x-decision mark is the form's load error
    return form
