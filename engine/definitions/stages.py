"""A process's own stages for the case page's progress bar: process.yaml `stages:` (DOMAIN.md names them per service).

Each stage has a key, its name in both languages and the BPMN elements that belong to it; the case page shows the
stage a case has reached by the elements it has passed or waits at. A process that declares none gets the
general 申请 → 受理 → 审查 → 决定 → 送达 (engine/runtime/caseview.py).
"""

from __future__ import annotations

from dataclasses import dataclass

MAX_STAGES = 8  # a progress bar of more steps no longer fits a phone's width


@dataclass(frozen=True)
class StageSpec:
    """One declared stage: `elements` are the BPMN element ids whose passing or waiting puts a case in it."""

    key: str
    name_zh: str
    name_en: str
    elements: tuple[str, ...]


def parse_stages(raw: object) -> tuple[StageSpec, ...]:
    """The `stages:` list; ValueError (zh and en) names the item at fault, so a bad manifest is not half-read."""
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_STAGES:
        raise ValueError(f"stages 须为 2 至 {MAX_STAGES} 个阶段的列表 (stages must be a list of 2 to {MAX_STAGES} "
                         "stages, each {key, name: {zh, en}, elements: [element ids]})")
    found: list[StageSpec] = []
    for index, item in enumerate(raw, 1):
        where = f"stages 第 {index} 项 (stage {index})"
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not item["key"].isidentifier():
            raise ValueError(f"{where}: key 须为标识符 (key must be an identifier)")
        name, elements = item.get("name"), item.get("elements")
        if not (isinstance(name, dict) and isinstance(name.get("zh"), str) and isinstance(name.get("en"), str)):
            raise ValueError(f"{where}: name 须有 zh 和 en (name needs zh and en)")
        if not (isinstance(elements, list) and elements and all(isinstance(e, str) for e in elements)):
            raise ValueError(f"{where}: elements 须为元素 id 列表 (elements must be a non-empty list of element ids)")
        if any(s.key == item["key"] for s in found):
            raise ValueError(f"{where}: key {item['key']!r} 重复 (listed twice)")
        found.append(StageSpec(item["key"], name["zh"], name["en"], tuple(elements)))
    return tuple(found)
