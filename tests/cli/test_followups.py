"""`tongban cc`, `copy-read`, `urge` and `worklist`: the same operations and refusals as the API."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli.main import main
from engine.runtime.runtime import Runtime
from tests.support.shipped import SUBMIT


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> object:
    result = cli.invoke(main, [*args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout) if code == 0 else result.output


def test_copy_read_urge_and_list_from_the_command_line(cli: CliRunner, runtime: Runtime) -> None:
    view = runtime.start("sample_approval", {"title": "办公用房改造", "amount": 50_000}, runtime.actor("haiyun"))
    runtime.complete(view.open_tasks[0].id, SUBMIT, runtime.actor("haiyun"))
    [task] = runtime.instance(view.id, runtime.actor("admin")).open_tasks
    case = str(view.id)
    assert run(cli, "cc", case, "--to", "user:zhujian, inspection_office", "--reason", "请阅", "--as", "window") == {
        "copied": ["inspector", "zhujian"]}
    assert "其他企业" in run(cli, "cc", case, "--to", "user:fushan", "--as", "window", code=1)
    assert "不存在" in run(cli, "cc", case, "--to", "user:zhujian", "--as", "fushan", code=1)
    [copied] = run(cli, "worklist", "copied", "--unread", "--as", "zhujian")
    assert (copied["case"]["instance_id"], copied["by"], copied["reason"]) == (view.id, "window", "请阅")
    assert run(cli, "copy-read", case, "--as", "zhujian")["read_at"]
    assert run(cli, "worklist", "copied", "--unread", "--as", "zhujian") == []
    urged = run(cli, "urge", task.id, "--reason", "请尽快", "--as", "haiyun")
    assert urged["urges"] == 1 and urged["notified"] == 1
    assert "--reason" in run(cli, "urge", task.id, "--as", "haiyun", code=2)  # 催办 says why
    assert "/reason" in run(cli, "urge", task.id, "--reason", " ", "--as", "haiyun", code=1)
    assert "already urged" in run(cli, "urge", task.id, "--reason", "请尽快", "--as", "haiyun", code=1)
    assert "不存在" in run(cli, "urge", task.id, "--reason", "请尽快", "--as", "fushan", code=1)
    [started] = run(cli, "worklist", "started", "--as", "haiyun")
    assert started["case"]["current_steps"] == ["审批"]
