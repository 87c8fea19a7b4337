"""Versioned deploys: content-addressed, idempotent, running instances stay on their version."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from engine.base.errors import DefinitionInvalid
from engine.cli.main import main
from engine.definitions.registry import deploy
from engine.runtime.runtime import Runtime
from engine.store.models import ProcessVersion
from tests.support.repo import REPO, repo_files, sample_files

START = {"title": "版本测试", "amount": 50_000}
SUBMIT = {"contact": "张三", "mobile": "13800000000", "email": "zhang@example.cn", "commitment": True}


def renamed(files: dict[str, bytes], old: str, new: str) -> dict[str, bytes]:
    path = "processes/sample/approval.bpmn"
    return {**files, path: files[path].replace(old.encode(), new.encode())}


def test_same_content_creates_nothing_changed_content_creates_next_version(runtime: Runtime) -> None:
    files = sample_files()
    [again] = deploy(runtime.db, files)
    assert (again.version, again.created) == (1, False)
    [v2] = deploy(runtime.db, renamed(files, 'name="审批"', 'name="复核审批"'))
    assert (v2.version, v2.created) == (2, True)
    with runtime.db.read() as s:
        versions = select(func.count(ProcessVersion.id)).where(ProcessVersion.process_key == "sample_approval")
        assert s.scalar(versions) == 2


def test_a_change_to_a_form_alone_is_a_new_version(runtime: Runtime) -> None:
    files = sample_files()
    schema = json.loads(files["forms/sample_approve.json"])
    schema["properties"]["comment"]["maxLength"] = 200
    [v2] = deploy(runtime.db, {**files, "forms/sample_approve.json": json.dumps(schema).encode()})
    assert v2.created and v2.version == 2


def test_a_form_no_process_uses_changes_nothing(runtime: Runtime) -> None:
    [same] = deploy(runtime.db, {**sample_files(), "forms/unused.json": b'{"type": "object"}'})
    assert not same.created


def test_reverting_to_older_content_is_a_new_version(runtime: Runtime) -> None:
    files = sample_files()
    deploy(runtime.db, renamed(files, 'name="审批"', 'name="复核审批"'))
    [v3] = deploy(runtime.db, files)
    assert (v3.version, v3.created) == (3, True)


def test_running_instances_stay_on_their_version(runtime: Runtime) -> None:
    haiyun, window = runtime.actor("haiyun"), runtime.actor("window")
    old = runtime.start("sample_approval", START, haiyun)
    deploy(runtime.db, renamed(sample_files(), 'name="审批"', 'name="复核审批"'))
    new = runtime.start("sample_approval", START, haiyun)
    assert (old.version, new.version) == (1, 2)
    for view in (old, new):
        runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
    names = {t.case_number: t.name for t in runtime.tasks(window)}
    assert names == {old.case_number: "审批", new.case_number: "复核审批"}
    for task in runtime.tasks(window):
        assert runtime.complete(task.id, {"decision": "approved", "comment": "同意"}, window).status == "completed"


def test_invalid_files_deploy_nothing(runtime: Runtime) -> None:
    files = renamed(sample_files(), 'name="窗口人员"', 'name="无此角色"')
    with pytest.raises(DefinitionInvalid) as err:
        deploy(runtime.db, files)
    assert err.value.problems[0].element_id == "approve"
    with runtime.db.read() as s:
        before = s.scalar(select(func.count(ProcessVersion.id)))
        assert before == len(deploy(runtime.db, repo_files()))  # one version per process, nothing new


def test_cli_deploy_and_processes(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    cli = CliRunner()
    result = cli.invoke(main, ["deploy", str(REPO), "--json"])
    assert result.exit_code == 0, result.output
    deployed = {r["key"]: r for r in json.loads(result.output)}
    assert deployed["sample_approval"] | {"content_hash": None} == {
        "key": "sample_approval", "version": 1, "created": False, "content_hash": None}
    assert not any(r["created"] for r in deployed.values())  # the fixture deployed the same tree
    listed = cli.invoke(main, ["processes", "--json"])
    assert sorted((p["process_key"], p["version"]) for p in json.loads(listed.output)) == sorted(
        (key, 1) for key in deployed)
