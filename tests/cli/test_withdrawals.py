"""`tongban withdraw`, `withdrawal-decide`, `return-targets` and `return`, as a script drives them (--json)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli.main import main
from engine.runtime.runtime import Runtime
from tests.support.cli import run


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    return CliRunner()

SUBMIT = json.dumps({"contact": "李四", "mobile": "13900000000", "email": "li@example.cn", "commitment": True})


def _at_approval(cli: CliRunner) -> tuple[str, str]:
    case = run(cli, "start", "sample_approval", "--data", '{"title": "退回", "amount": 20000}', "--as", "haiyun")
    [task] = run(cli, "tasks", "--as", "haiyun")
    run(cli, "complete", task["id"], "--data", SUBMIT, "--as", "haiyun")
    [approve] = run(cli, "tasks", "--as", "window")
    return case["case_number"], approve["id"]


def test_return_and_withdraw(cli: CliRunner) -> None:
    case, approve = _at_approval(cli)
    assert run(cli, "return-targets", approve, "--as", "window") == [
        {"element_id": "submit", "name": "填写申请", "role": "applicant"},
        {"element_id": "start", "name": "提交申请", "role": "applicant"}]
    error = run(cli, "return", approve, "--to", "auto_approve", "--reason", "退回", "--as", "window", code=1)
    assert error["fields"] == {"/target": ["not a return target of this task"]}
    back = run(cli, "return", approve, "--to", "submit", "--reason", "请补充材料", "--as", "window")
    assert [t["element_id"] for t in back["open_tasks"]] == []  # the window does not see the applicant's task
    [again] = run(cli, "tasks", "--as", "haiyun")
    assert again["element_id"] == "submit"
    assert run(cli, "withdraw", case, "--reason", " ", "--as", "haiyun", code=1)["fields"] == {
        "/reason": ["required, 1..500 characters"]}
    assert run(cli, "withdraw", case, "--reason", "撤回", "--as", "fushan", code=1)["error"] == "not_found"
    done = run(cli, "withdraw", case, "--reason", "不再办理", "--as", "haiyun")
    assert done["withdrawn"] is True and done["instance"]["outcome"] == "withdrawn"
    human = cli.invoke(main, ["withdrawal-decide", case, "--grant", "--as", "window"])
    assert human.exit_code == 1 and "撤回" in human.stderr
