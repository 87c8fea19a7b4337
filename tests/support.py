"""Helpers for tests: in-memory process workspaces and a tiny BPMN wrapper."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from flask.testing import FlaskClient

from engine.definitions.workspace import Files, read_tree

REPO = Path(__file__).resolve().parent.parent
ROLES = (REPO / "processes" / "roles.yaml").read_bytes()
PASSWORD = "correct horse 电池 staple"  # every user's, where a test logs in

HEADER = """<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL"
  xmlns:spiffworkflow="http://spiffworkflow.org/bpmn/schema/1.0/core"
  id="defs_{pid}" targetNamespace="http://tongban.local/test">
"""


def form_props(form: str) -> str:
    return ("<bpmn:extensionElements><spiffworkflow:properties>"
            f'<spiffworkflow:property name="formJsonSchemaFilename" value="{form}" />'
            "</spiffworkflow:properties></bpmn:extensionElements>")


def bpmn(pid: str, body: str, lanes: dict[str, list[str]] | None = None, extra: str = "") -> str:
    """A definitions document with one process `pid` whose flow nodes are `body`.

    `lanes` maps a lane name to the ids of the nodes in it.
    """
    lane_xml = ""
    if lanes:
        lane_xml = f'<bpmn:laneSet id="ls_{pid}">' + "".join(
            f'<bpmn:lane id="lane_{pid}_{i}" name="{name}">'
            + "".join(f"<bpmn:flowNodeRef>{n}</bpmn:flowNodeRef>" for n in nodes) + "</bpmn:lane>"
            for i, (name, nodes) in enumerate(lanes.items())) + "</bpmn:laneSet>"
    return (HEADER.format(pid=pid) + extra + f'<bpmn:process id="{pid}" isExecutable="true">'
            + lane_xml + body + "</bpmn:process></bpmn:definitions>")


OPEN_FORM = json.dumps({"type": "object", "additionalProperties": True}).encode()  # declares any field: tests only


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


def repo_files() -> Files:
    return read_tree(REPO / "processes", REPO / "forms")


def sample_files() -> Files:
    """Only the sample approval process (with the role catalogue and its forms): deploy tests count versions."""
    return {path: content for path, content in repo_files().items()
            if path == "processes/roles.yaml" or path.startswith(("processes/sample/", "forms/sample_"))}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf-token" content="([^"]+)"', html).group(1)


def log_in(client: FlaskClient, username: str) -> str:
    """Log in through the form; returns the CSRF token the pages would send."""
    token = csrf_of(client.get("/login").get_data(as_text=True))
    reply = client.post("/login", data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert reply.status_code == 302, reply.get_data(as_text=True)
    return csrf_of(client.get("/services").get_data(as_text=True))
