"""In-memory process workspaces: the files of one process folder `processes/t/`, as a deploy reads them."""

from __future__ import annotations

import json
from typing import Any

from engine.definitions.workspace import Files
from tests.support.repo import ROLES

OPEN = {"type": "object", "additionalProperties": True}  # a form schema declaring any field: tests only
OPEN_FORM = json.dumps(OPEN).encode()  # the same, as a file


def workspace(bpmn_files: dict[str, str], forms: dict[str, Any] | None = None, key: str | None = None,
              code: str = "TST", extra: Files | None = None) -> Files:
    """Files for one process folder `processes/t/`; `key` gets a manifest so it can be started."""
    files: Files = {"processes/roles.yaml": ROLES}
    for name, text in bpmn_files.items():
        files[f"processes/t/{name}"] = text.encode()
    for name, schema in (forms or {}).items():
        files[f"forms/{name}"] = json.dumps(schema).encode() if not isinstance(schema, bytes) else schema
    if key:
        files["processes/t/process.yaml"] = f"key: {key}\ncode: {code}\nname: {{zh: 测试, en: Test}}\n".encode()
    files.update(extra or {})
    return files
