"""Designer endpoints: only designers, only process and form files, nothing written that does not parse."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api import create_app
from engine.runtime.runtime import Runtime
from tests.support.http import bearer
from tests.support.repo import REPO


@pytest.fixture
def tree(client: FlaskClient, runtime: Runtime, tmp_path: Path) -> tuple[FlaskClient, Path]:
    """An app whose processes/ and forms/ are a writable copy; returns (client, tree root)."""
    root = tmp_path / "tree"
    for folder in ("processes", "forms"):
        shutil.copytree(REPO / folder, root / folder)
    settings = dataclasses.replace(runtime.settings, processes_dir=root / "processes", forms_dir=root / "forms")
    return create_app(settings, Runtime(runtime.db, settings)).test_client(), root


def test_only_designers_and_admins_read_and_write(tree: tuple[FlaskClient, Path]) -> None:
    client, _ = tree
    path = "/api/v1/designer/files?path=processes/sample/approval.bpmn"
    assert client.get(path, headers=bearer(client, "haiyun")).status_code == 403
    assert client.get(path, headers=bearer(client, "window")).status_code == 403
    reply = client.get(path, headers=bearer(client, "designer"))
    assert reply.status_code == 200 and 'id="approve"' in reply.get_data(as_text=True)


@pytest.mark.parametrize("path", [
    "processes/../pyproject.toml", "processes/roles.yaml", "processes/sample/process.yaml",
    "forms/../../etc/passwd.json", "engine/cli/main.py", "processes/qysq/scenarios/x.json"])
def test_nothing_outside_the_diagrams_decisions_and_forms(tree: tuple[FlaskClient, Path], path: str) -> None:
    client, _ = tree
    headers = bearer(client, "designer")
    assert client.get(f"/api/v1/designer/files?path={path}", headers=headers).status_code == 404
    assert client.put(f"/api/v1/designer/files?path={path}", json={"content": "{}"},
                      headers=headers).status_code == 404


@pytest.mark.parametrize("content", [
    "<bpmn:definitions", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e "x">]><x>&e;</x>'])
def test_a_file_that_does_not_parse_is_refused_and_nothing_written(tree: tuple[FlaskClient, Path],
                                                                   content: str) -> None:
    client, root = tree
    before = (root / "processes/sample/approval.bpmn").read_bytes()
    reply = client.put("/api/v1/designer/files?path=processes/sample/approval.bpmn", json={"content": content},
                       headers=bearer(client, "designer"))
    assert reply.status_code == 422 and "/content" in reply.json["fields"]
    assert (root / "processes/sample/approval.bpmn").read_bytes() == before


def test_saving_with_problems_keeps_the_work_and_deploy_refuses_naming_the_element(
        tree: tuple[FlaskClient, Path]) -> None:
    client, root = tree
    headers = bearer(client, "designer")
    source = (root / "processes/sample/approval.bpmn").read_text(encoding="utf-8")
    broken = source.replace('name="窗口人员"', 'name="无此角色"')
    reply = client.put("/api/v1/designer/files?path=processes/sample/approval.bpmn", json={"content": broken},
                       headers=headers)
    assert reply.status_code == 200
    assert [(p["element_id"], p["severity"]) for p in reply.json["problems"]] == [("approve", "error")]
    assert (root / "processes/sample/approval.bpmn").read_text(encoding="utf-8") == broken
    refused = client.post("/api/v1/designer/deploy", headers=headers)
    assert refused.status_code == 422 and any(k.endswith("#approve") for k in refused.json["fields"])


def test_deploy_from_the_designer_creates_the_next_version(tree: tuple[FlaskClient, Path]) -> None:
    client, root = tree
    headers = bearer(client, "designer")
    path = "processes/sample/approval.bpmn"
    source = (root / path).read_text(encoding="utf-8").replace('name="审批"', 'name="复核审批"')
    assert client.put(f"/api/v1/designer/files?path={path}", json={"content": source},
                      headers=headers).json["problems"] == []
    deployed = {d["key"]: d for d in client.post("/api/v1/designer/deploy", headers=headers).json}
    assert (deployed["sample_approval"]["version"], deployed["sample_approval"]["created"]) == (2, True)
    assert not any(d["created"] for k, d in deployed.items() if k != "sample_approval")
