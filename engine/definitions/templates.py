"""Document templates (a process folder's `documents.yaml`): what an element's `document` property may issue.

Part of a process version's definition — parsed and checked at validate and deploy time, stored in the
content hash. Issuing them on a case is engine/case/documents.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from engine.definitions.organisations import OrganisationList, organisations_in
from engine.definitions.workspace import Files

TEMPLATES_NAME = "documents.yaml"
DOCUMENT_PROPERTY = "document"
#: `{{ org_name(street) }}` prints the name of an organisation code from processes/organisations.yaml
ORG_NAME_HELPER = "org_name"
_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)  # plain text: the PDF is not HTML


def money(value: Any) -> str:
    """An amount as printed on a notice, `￥40,000.00`: one place formats money, from its decimal text (a float
    like 0.1 + 0.2 never shows its binary artefacts); anything that is no amount prints as it is. The full-width
    yuan sign ￥ (U+FFE5) is the one the document font has (U+00A5 would print as a blank box)."""
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return str(value)
    return f"-￥{-amount:,}" if amount < 0 else f"￥{amount:,}"


_ENV.filters["money"] = money


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    office: str
    body: str
    organisations: OrganisationList | None = field(default=None, compare=False, repr=False)
    #: `opinions: true`: the document prints the case's public 审批流水 after its body (engine/case/opinions.py)
    opinions: bool = False

    def render(self, data: dict[str, Any]) -> str:
        return self._render(self.body, data)

    def render_office(self, data: dict[str, Any]) -> str:
        """The issuing office may name the case's own (`{{ fund_office }}`): a fund's notices come from its street."""
        return self._render(self.office, data)

    def _render(self, text: str, data: dict[str, Any]) -> str:
        names = self.organisations.name if self.organisations else str
        return _ENV.from_string(text, globals={ORG_NAME_HELPER: names}).render(data).strip()


def folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] + "/"


def load_templates(path: str, content: bytes, organisations: OrganisationList | None = None) -> dict[str, Template]:
    """Parse a `documents.yaml`; ValueError names the template and what is wrong (validate reports it)."""
    try:
        raw = yaml.safe_load(content) or {}
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: 不是有效的 YAML (not valid YAML): {exc}") from None
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: 应为“名称: 模板”的映射 (expected a mapping of name → template)")
    templates = {}
    for name, spec in raw.items():
        if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str) for k in ("title", "office", "body")):
            raise ValueError(f"{path} [{name}]: 须有 title、office、body 三个文本 (needs text title, office and body)")
        try:
            _ENV.parse(spec["body"])
            _ENV.parse(spec["office"])
        except TemplateError as exc:
            raise ValueError(f"{path} [{name}]: 模板语法错误 (template syntax error): {exc}") from None
        if not isinstance(spec.get("opinions", False), bool):
            raise ValueError(f"{path} [{name}]: opinions 须为 true 或 false (opinions must be a boolean)")
        templates[str(name)] = Template(str(name), spec["title"], spec["office"], spec["body"], organisations,
                                        spec.get("opinions", False))
    return templates


def templates_for(files: Files, process_path: str) -> dict[str, Template]:
    """The templates of the folder a process file lives in (empty when it has none)."""
    path = folder_of(process_path) + TEMPLATES_NAME
    return load_templates(path, files[path], organisations_in(files)) if path in files else {}


def names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]
