"""Document templates (a process folder's `documents.yaml`): what an element's `document` property may issue.

Part of a process version's definition — parsed and checked at validate and deploy time, stored in the
content hash. Issuing them on a case is engine/case/documents.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml
from jinja2 import TemplateError
from jinja2.sandbox import SandboxedEnvironment

from engine.definitions.workspace import Files

TEMPLATES_NAME = "documents.yaml"
DOCUMENT_PROPERTY = "document"
_ENV = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)  # plain text: the PDF is not HTML


@dataclass(frozen=True)
class Template:
    name: str
    title: str
    office: str
    body: str

    def render(self, data: dict[str, Any]) -> str:
        return _ENV.from_string(self.body).render(data).strip()


def folder_of(path: str) -> str:
    return path.rsplit("/", 1)[0] + "/"


def load_templates(path: str, content: bytes) -> dict[str, Template]:
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
        except TemplateError as exc:
            raise ValueError(f"{path} [{name}]: 模板语法错误 (template syntax error): {exc}") from None
        templates[str(name)] = Template(str(name), spec["title"], spec["office"], spec["body"])
    return templates


def templates_for(files: Files, process_path: str) -> dict[str, Template]:
    """The templates of the folder a process file lives in (empty when it has none)."""
    path = folder_of(process_path) + TEMPLATES_NAME
    return load_templates(path, files[path]) if path in files else {}


def names(value: str | None) -> list[str]:
    return [n.strip() for n in (value or "").split(",") if n.strip()]
