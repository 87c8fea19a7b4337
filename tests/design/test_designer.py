"""Designer endpoints: only designers, only process and form files, nothing written that does not parse (nor
strict JSON), and what another role or a hostile path sends refused."""

from __future__ import annotations

import dataclasses
import re
import shutil
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from api import create_app
from engine.design import designer
from engine.runtime.runtime import Runtime
from tests.support.http import bearer
from tests.support.repo import REPO


@pytest.fixture
def installed(tmp_path: Path) -> Path:
    """A copy of the repository's processes/ and forms/ standing for the installed code."""
    root = tmp_path / "installed"
    for folder in ("processes", "forms"):
        shutil.copytree(REPO / folder, root / folder)
    return root


@pytest.fixture
def tree(client: FlaskClient, runtime: Runtime, installed: Path, tmp_path: Path) -> tuple[FlaskClient, Path]:
    """An app installed from `installed` with its designer workspace in the default place (the instance folder's
    workspace/); returns (client, workspace root)."""
    settings = dataclasses.replace(runtime.settings, instance_dir=tmp_path / "instance",
                                   processes_dir=installed / "processes", forms_dir=installed / "forms")
    designer.folders(settings)
    return create_app(settings, Runtime(runtime.db, settings)).test_client(), settings.design_workspace()


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


def test_a_save_goes_to_the_instance_workspace_and_leaves_the_installed_files_alone(
        tree: tuple[FlaskClient, Path], installed: Path, tmp_path: Path) -> None:
    client, root = tree
    assert root == tmp_path / "instance" / "workspace"
    path = "processes/sample/approval.bpmn"
    before = (installed / path).read_bytes()
    source = (root / path).read_text(encoding="utf-8").replace('name="审批"', 'name="复核审批"')
    assert client.put(f"/api/v1/designer/files?path={path}", json={"content": source},
                      headers=bearer(client, "designer")).status_code == 200
    assert (installed / path).read_bytes() == before
    assert 'name="复核审批"' in (root / path).read_text(encoding="utf-8")
    assert client.get(f"/api/v1/designer/files?path={path}", headers=bearer(client, "designer")).text == source


def test_a_save_from_the_modeler_keeps_the_files_comments(tree: tuple[FlaskClient, Path]) -> None:
    client, root = tree
    path = "processes/zzs/zzs.bpmn"
    original = (root / path).read_text(encoding="utf-8")
    assert "<!--" in original
    edited = re.sub(r"<!--.*?-->", "", original, flags=re.S).replace('name="受理"', 'name="受理决定"')
    assert client.put(f"/api/v1/designer/files?path={path}", json={"content": edited},
                      headers=bearer(client, "designer")).status_code == 200
    saved = (root / path).read_text(encoding="utf-8")
    assert saved == original.replace('name="受理"', 'name="受理决定"')


def test_the_workspace_is_copied_once_and_never_from_inside_itself(runtime: Runtime, tmp_path: Path) -> None:
    """The test settings' processes folder is the instance folder itself: the copy must not recurse."""
    (tmp_path / "roles.yaml").write_text("roles: {}\n", encoding="utf-8")
    processes, _ = designer.folders(runtime.settings)
    assert (processes / "roles.yaml").is_file() and not (processes / "workspace").exists()
    (processes / "roles.yaml").write_text("changed", encoding="utf-8")
    designer.folders(runtime.settings)
    assert (processes / "roles.yaml").read_text(encoding="utf-8") == "changed"

@pytest.mark.parametrize("content", ["[" * 100_000 + "]" * 100_000, '{"a": NaN}', "1e999999",
                                     '{"type": "object", "type": "array"}', "{} {}"])
def test_a_form_that_is_not_strict_json_is_refused_not_a_500(tree: tuple[FlaskClient, Path], content: str) -> None:
    client, root = tree
    before = (root / "forms/case_rating.json").read_bytes()
    reply = client.put("/api/v1/designer/files?path=forms/case_rating.json", json={"content": content},
                       headers=bearer(client, "designer"))
    assert reply.status_code == 422, reply.get_data(as_text=True)[:300]
    assert "/content" in reply.json["fields"]
    assert (root / "forms/case_rating.json").read_bytes() == before


def test_json_that_is_not_a_form_is_saved_with_its_problem(tree: tuple[FlaskClient, Path]) -> None:
    client, root = tree
    reply = client.put("/api/v1/designer/files?path=forms/case_rating.json", json={"content": "[]"},
                       headers=bearer(client, "designer"))
    assert reply.status_code == 200 and (root / "forms/case_rating.json").read_text() == "[]"
    assert any(p["file"] == "forms/case_rating.json" and p["severity"] == "error" for p in reply.json["problems"])


@pytest.mark.parametrize("path", [
    "processes/.json", "forms/.json", "processes/sample/.bpmn", "processes/x/.dmn", "forms/.hidden/x.json",
    "processes/sample/.approval.bpmn.abc.tmp.bpmn"])
def test_a_file_with_no_name_is_not_editable(tree: tuple[FlaskClient, Path], path: str) -> None:
    client, _ = tree
    reply = client.put(f"/api/v1/designer/files?path={path}", json={"content": "{}"},
                       headers=bearer(client, "designer"))
    assert reply.status_code == 404


@pytest.mark.parametrize(("method", "url"), [
    ("put", "/api/v1/designer/files?path=forms/case_rating.json"),
    ("post", "/api/v1/designer/deploy"), ("post", "/api/v1/designer/scenarios?folder=processes/sample/"),
    ("get", "/api/v1/designer/problems")])
@pytest.mark.parametrize("user", ["haiyun", "window", "dispatcher"])
def test_other_roles_may_not_save_deploy_or_run(tree: tuple[FlaskClient, Path], method: str, url: str,
                                                user: str) -> None:
    client, root = tree
    before = (root / "forms/case_rating.json").read_bytes()
    reply = getattr(client, method)(url, json={"content": "{}"}, headers=bearer(client, user))
    assert reply.status_code == 403
    assert (root / "forms/case_rating.json").read_bytes() == before
