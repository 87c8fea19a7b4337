"""A set of process files — read from disk for validate/deploy, or from a stored version at run time.

Paths are always relative and prefixed (`processes/…`, `forms/…`) so that a version's stored
bundle and the designer's working tree are addressed the same way.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import yaml

from engine.base.vocabulary import Product
from engine.definitions.stages import StageSpec, parse_stages

PROCESSES = "processes/"
FORMS = "forms/"
ROLES_PATH = PROCESSES + "roles.yaml"
MANIFEST_NAME = "process.yaml"
_SUFFIXES = {".bpmn", ".dmn", ".yaml", ".yml", ".json"}
MAX_REPORT_KEY = 64  # case_facts.name

Files = dict[str, bytes]


def read_tree(processes_dir: Path, forms_dir: Path) -> Files:
    """Every process, decision, manifest and form file under the two folders."""
    files: Files = {}
    for prefix, root in ((PROCESSES, processes_dir), (FORMS, forms_dir)):
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*")):
            if path.is_file() and path.suffix in _SUFFIXES and "scenarios" not in path.parts:
                files[prefix + path.relative_to(root).as_posix()] = path.read_bytes()
    return files


def content_hash(files: Files) -> str:
    """One hash for a bundle: same files and contents → same hash, whatever the order."""
    listing = {path: hashlib.sha256(content).hexdigest() for path, content in sorted(files.items())}
    return hashlib.sha256(json.dumps(listing, sort_keys=True).encode()).hexdigest()


class ManifestError(ValueError):
    """A malformed process.yaml, with the line at fault when one can be named."""

    def __init__(self, path: str, message: str, line: int | None = None) -> None:
        super().__init__(f"{path}: {message}")
        self.path, self.line = path, line


@dataclass(frozen=True)
class ReportKey:
    """One `report:` entry: the case fact's name and the keys that lead to its value in the case data.

    `amount` reports the key `amount`; `{street: address.street_office}` reports, as the fact `street`, the
    value nested in the address — so every process can feed a report filter of one name (the heat map's street)
    whatever shape its form gives the value.
    """

    name: str
    path: tuple[str, ...]


@dataclass(frozen=True)
class Manifest:
    """processes/<folder>/process.yaml: a process applicants can start, and how its cases are numbered.

    `report` names the data keys (or nested values) whose current values every step copies into `case_facts`, so
    reports group cases by them in SQL instead of reading each case's workflow. `products` names the side
    products its steps write beyond the always-on ones (engine/case/products.py), e.g. `[fund_ledger]`;
    None when the file has no `products:` (as every version deployed before the key existed).
    """

    path: str
    key: str
    code: str
    name_zh: str
    name_en: str
    report: tuple[ReportKey, ...] = ()
    products: tuple[Product, ...] | None = None
    stages: tuple[StageSpec, ...] = ()  # the progress bar (engine/definitions/stages.py); (): the general

    @classmethod
    def from_yaml(cls, path: str, content: bytes) -> Manifest:
        raw = yaml.safe_load(content) or {}
        missing = [k for k in ("key", "code", "name") if k not in raw]
        if missing:
            raise ManifestError(path, f"缺少字段 (missing keys) {missing}")
        name = raw["name"] if isinstance(raw["name"], dict) else {"zh": raw["name"], "en": raw["name"]}
        code = str(raw["code"])
        if not code.replace("-", "").isalnum() or not code.isupper():
            raise ManifestError(path, "办件编号代码须为大写字母 (code must be upper-case letters, e.g. ZZS)")
        return cls(path, str(raw["key"]), code, name.get("zh", ""), name.get("en", name.get("zh", "")),
                   _report_keys(path, content, raw.get("report", [])),
                   _products(path, content, raw["products"]) if "products" in raw else None,
                   _stages(path, content, raw["stages"]) if "stages" in raw else ())


def _report_keys(path: str, content: bytes, report: object) -> tuple[ReportKey, ...]:
    """`report:` must list data keys — `name`, or `{name: key.key}` for a nested value — each name once."""
    if not isinstance(report, list):
        raise ManifestError(path, "report 须为数据项名称列表 (report must be a list of data keys, e.g. [building, "
                            "rating, {street: address.street_office}])", _line(content, None))
    keys: list[ReportKey] = []
    for index, entry in enumerate(report):
        key = _report_key(entry)
        if key is None:
            raise ManifestError(path, f"report 第 {index + 1} 项 {entry!r} 不是数据项名称，或 {{名称: 键.键}} (not a "
                                f"data-key identifier of at most {MAX_REPORT_KEY} characters, nor {{name: key.key}} "
                                "for a nested value)", _line(content, index))
        if key.name in (k.name for k in keys):
            raise ManifestError(path, f"report 重复列出 {key.name!r} (listed twice)", _line(content, index))
        keys.append(key)
    return tuple(keys)


def _report_key(entry: object) -> ReportKey | None:
    """The entry as a ReportKey, None when it is neither an identifier nor a one-entry {identifier: dotted path}."""
    if isinstance(entry, str):
        name, dotted = entry, entry
    elif isinstance(entry, dict) and len(entry) == 1 and all(isinstance(x, str) for x in [*entry, *entry.values()]):
        [(name, dotted)] = entry.items()
    else:
        return None
    steps = tuple(dotted.split("."))
    if not (_identifier(name) and all(_identifier(step) for step in steps)):
        return None
    return ReportKey(name, steps)


def _identifier(name: str) -> bool:
    return name.isidentifier() and len(name) <= MAX_REPORT_KEY


def _products(path: str, content: bytes, products: object) -> tuple[Product, ...]:
    """`products:` must list side products the engine has (engine/base/vocabulary.py `Product`), each once."""
    known = ", ".join(Product)
    if not isinstance(products, list):
        raise ManifestError(path, f"products 须为附带产物名称列表 (products must be a list of side products, e.g. "
                            f"[fund_ledger]; known: {known})", _line(content, None, "products"))
    for index, name in enumerate(products):
        if not isinstance(name, str) or name not in Product.__members__.values():
            raise ManifestError(path, f"products 第 {index + 1} 项 {name!r} 不是已有的附带产物，可选：{known} "
                                f"(unknown side product {name!r}; known: {known})", _line(content, index, "products"))
        if name in products[:index]:
            raise ManifestError(path, f"products 重复列出 {name!r} (listed twice)", _line(content, index, "products"))
    return tuple(Product(name) for name in products)


def _stages(path: str, content: bytes, stages: object) -> tuple[StageSpec, ...]:
    try:
        return parse_stages(stages)
    except ValueError as exc:
        raise ManifestError(path, str(exc), _line(content, None, "stages")) from exc


def _line(content: bytes, index: int | None, key: str = "report") -> int | None:
    """1-based line of the `key` value (or of its index-th item) in the manifest's YAML."""
    root = yaml.compose(content)
    node = next((v for k, v in root.value if k.value == key), None) if isinstance(root, yaml.MappingNode) else None
    if isinstance(node, yaml.SequenceNode) and index is not None and index < len(node.value):
        node = node.value[index]
    return node.start_mark.line + 1 if node is not None else None


def manifests(files: Files) -> list[Manifest]:
    return [Manifest.from_yaml(p, c) for p, c in sorted(files.items()) if p.endswith("/" + MANIFEST_NAME)]
