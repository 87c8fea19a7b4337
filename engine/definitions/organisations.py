"""The district's organisations (processes/organisations.yaml): one list that forms offer and tasks route to.

A form field says `"x-options": "street"` instead of copying the ten 街道 into its own enum; the form
loader expands it into `oneOf` of `{"const": code, "title": zh}` (with `x-title-en`) for every
organisation carrying that tag, so ZZS and YYYZ offer the same streets, and a `candidateOrg` reading
such a field always names an organisation the database has (`tongban orgs sync` creates it from the
same file). The file is part of the content hash of every version whose forms use it.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from engine.base.vocabulary import OrgKind
from engine.definitions.workspace import PROCESSES, Files

ORGANISATIONS_FILE = "organisations.yaml"  # at the top of processes/, beside roles.yaml
ORGANISATIONS_PATH = PROCESSES + ORGANISATIONS_FILE
OPTIONS_KEY = "x-options"
TITLE_EN_KEY = "x-title-en"
_CODE = re.compile(r"[a-z][a-z0-9_]{0,63}")  # organisations.code is String(64)
_KINDS = (OrgKind.OFFICE, OrgKind.DEPARTMENT)  # enterprises register themselves; they are not the district's


@dataclass(frozen=True)
class Organisation:
    code: str
    zh: str
    en: str
    kind: OrgKind
    tags: tuple[str, ...] = ()


class OrganisationList:
    """The organisations in file order, by code and by tag."""

    def __init__(self, organisations: list[Organisation]) -> None:
        self.by_code = {o.code: o for o in organisations}

    def __iter__(self) -> Iterator[Organisation]:
        return iter(self.by_code.values())

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    @property
    def tags(self) -> set[str]:
        return {t for o in self for t in o.tags}

    def tagged(self, tag: str) -> list[Organisation]:
        return [o for o in self if tag in o.tags]

    def options(self, tag: str) -> list[dict[str, str]]:
        """The `oneOf` a field with `"x-options": tag` offers: value is the code, label the Chinese name."""
        return [{"const": o.code, "title": o.zh, TITLE_EN_KEY: o.en} for o in self.tagged(tag)]

    def name(self, code: str) -> str:
        """The Chinese name of `code` (documents print names, not codes); the code itself when unknown."""
        org = self.by_code.get(code) if isinstance(code, str) else None
        return org.zh if org else str(code)


def load_organisations(content: bytes, path: str = ORGANISATIONS_PATH) -> OrganisationList:
    """Parse the list; ValueError naming the entry and what is wrong (validate reports it on the file)."""
    try:
        raw = yaml.safe_load(content) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: 不是有效的 YAML (not valid YAML): {exc}") from None
    entries = raw.get("organisations") if isinstance(raw, dict) else None
    if not isinstance(entries, dict):
        raise ValueError(f"{path}: 须有 organisations 映射：代码 → 组织 (needs an `organisations:` mapping of "
                         "code → organisation)")
    organisations = []
    for code, spec in entries.items():
        where = f"{path} [{code}]"
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise ValueError(f"{where}: 代码须为小写字母、数字、下划线，最长 64 "
                             "(code must be lower-case letters, digits and _, at most 64)")
        if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str) and spec[k].strip()
                                                 for k in ("zh", "en", "kind")):
            raise ValueError(f"{where}: 须有 zh、en、kind 三个文本 (needs text zh, en and kind)")
        if spec["kind"] not in _KINDS:
            raise ValueError(f"{where}: kind 须为 {'、'.join(_KINDS)} 之一 (kind must be one of {', '.join(_KINDS)})")
        tags = spec.get("tags", [])
        if not isinstance(tags, list) or not all(isinstance(t, str) and t for t in tags):
            raise ValueError(f"{where}: tags 须为文本列表 (tags must be a list of words)")
        organisations.append(Organisation(code, spec["zh"].strip(), spec["en"].strip(), OrgKind(spec["kind"]),
                                          tuple(tags)))
    return OrganisationList(organisations)


def organisations_in(files: Files) -> OrganisationList | None:
    """The list a bundle or workspace carries; None when it has none (raises ValueError when it is malformed)."""
    content = files.get(ORGANISATIONS_PATH)
    return load_organisations(content) if content is not None else None


def uses_options(schema: Any) -> bool:
    """Whether any part of a form schema says `x-options` (its version then depends on the list)."""
    return any(True for _ in _option_fields(schema, ""))


def expand_options(form: str, schema: dict[str, Any], organisations: OrganisationList | None) -> dict[str, Any]:
    """A copy of `schema` with every `"x-options": tag` turned into the tag's `oneOf`; ValueError naming the form
    and the schema path for an unknown tag, a field that is not a string, or a field keeping its own list."""
    fields = list(_option_fields(schema, ""))
    if not fields:
        return schema
    expanded = copy.deepcopy(schema)
    for pointer, _ in fields:
        node = _at(expanded, pointer)
        where = f"表单 {form} 的 {pointer or '/'}"
        tag = node[OPTIONS_KEY]
        if organisations is None:
            raise ValueError(f"{where} 使用 {OPTIONS_KEY}，但缺少组织目录 {ORGANISATIONS_PATH} (uses {OPTIONS_KEY} "
                             f"but there is no organisation list {ORGANISATIONS_PATH})")
        if not isinstance(tag, str) or tag not in organisations.tags:
            known = ", ".join(sorted(organisations.tags))
            raise ValueError(f"{where} 的 {OPTIONS_KEY} {tag!r} 不是组织目录中的标签，可选：{known} (unknown "
                             f"organisation tag {tag!r} at {pointer or '/'}; known: {known})")
        if node.get("type") != "string":
            raise ValueError(f"{where} 使用 {OPTIONS_KEY} 须为 \"type\": \"string\" 字段 ({OPTIONS_KEY} needs a "
                             "string field)")
        if any(k in node for k in ("oneOf", "enum", "const", "anyOf")):
            raise ValueError(f"{where} 同时使用 {OPTIONS_KEY} 与自带的选项列表，请删除自带列表 ({OPTIONS_KEY} and a "
                             "list of its own: drop the copied oneOf/enum)")
        node["oneOf"] = organisations.options(tag)
    return expanded


def _option_fields(node: Any, pointer: str) -> Iterator[tuple[str, Any]]:
    """(JSON pointer, tag) of every object in the schema carrying `x-options`, at any depth."""
    if isinstance(node, dict):
        if OPTIONS_KEY in node:
            yield pointer, node[OPTIONS_KEY]
        for key, value in node.items():
            yield from _option_fields(value, f"{pointer}/{_escape(str(key))}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _option_fields(value, f"{pointer}/{index}")


def _escape(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _at(schema: Any, pointer: str) -> Any:
    node = schema
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node
