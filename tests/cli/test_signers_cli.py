"""加签 and 委派 from the CLI: add, sign, remove, an outside signer's approval, entrust and give back."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli.main import main
from engine.definitions.catalogue import RoleCatalogue
from engine.people.accounts import add_user
from engine.runtime.runtime import Runtime
from tests.support.repo import ROLES
from tests.support.shipped import SUBMIT

APPROVED = '{"decision": "approved", "comment": "同意"}'  # the sample approval: a decision with its opinion


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    return CliRunner()


@pytest.fixture
def task(runtime: Runtime) -> str:
    with runtime.db.write() as session:
        add_user(session, RoleCatalogue.from_yaml(ROLES), "window2", "xzsp", ["window_clerk"], "李窗口")
    haiyun = runtime.actor("haiyun")
    view = runtime.start("sample_approval", {"title": "命令行加签", "amount": 50_000}, haiyun)
    runtime.complete(view.open_tasks[0].id, SUBMIT, haiyun)
    return runtime.instance(view.id, runtime.actor("admin")).open_tasks[0].id


def run(cli: CliRunner, *args: str, code: int = 0) -> str:
    result = cli.invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result.output


def test_cosigning_from_the_cli(cli: CliRunner, task: str) -> None:
    added = json.loads(run(cli, "signers", "add", task, "window2", "--reason", "请会签", "--as", "window", "--json"))
    [signer] = added["signers"]
    assert signer["state"] == "pending"
    assert "--reason" in run(cli, "signers", "add", task, "window3", "--as", "window", code=2)  # 加签 says why
    assert "zhujian" in run(cli, "signers", "add", task, "zhujian", "--reason", "请会签", "--as", "window",
                            code=1)  # outside the lane
    proposed = json.loads(run(cli, "signers", "add", task, "zhujian", "--ask-approval", "--reason", "涉及住建",
                              "--as", "window", "--json"))
    outsider = proposed["signers"][-1]
    assert outsider["state"] == "proposed"
    assert f"#{outsider['id']}" in run(cli, "signers", "proposals", "--as", "dispatcher")
    assert "reason" in run(cli, "signers", "decide", str(outsider["id"]), "--refuse", "--as", "dispatcher", code=1)
    assert "rejected" in run(cli, "signers", "decide", str(outsider["id"]), "--refuse", "--reason", "无需住建",
                             "--as", "dispatcher")
    assert "同意" in run(cli, "signers", "sign", task, "--opinion", "同意", "--as", "window2")
    assert run(cli, "signers", "sign", task, "--opinion", "再签", "--as", "window2", code=1)
    shown = json.loads(run(cli, "signers", "show", task, "--as", "window", "--json"))
    assert [(s["user"], s["state"]) for s in shown["signers"]] == [("window2", "agreed"), ("zhujian", "rejected")]
    done = json.loads(run(cli, "complete", task, "--data", APPROVED, "--as", "window", "--json"))
    assert done["status"] == "completed"


def test_removing_a_signer_from_the_cli(cli: CliRunner, task: str) -> None:
    [signer] = json.loads(run(cli, "signers", "add", task, "window2", "--reason", "请会签", "--as", "window",
                              "--json"))["signers"]
    assert "--reason" in run(cli, "signers", "remove", task, str(signer["id"]), "--as", "window", code=2)  # says why
    assert run(cli, "signers", "remove", task, str(signer["id"]), "--reason", "不需要了", "--as", "window2", code=1)
    assert "已减签" in run(cli, "signers", "remove", task, str(signer["id"]), "--reason", "不需要了", "--as", "window")
    assert run(cli, "signers", "remove", task, str(signer["id"]), "--reason", "再减", "--as", "window", code=1)
    done = json.loads(run(cli, "complete", task, "--data", APPROVED, "--as", "window", "--json"))
    assert done["status"] == "completed"


def test_a_disagreement_holds_the_task_in_the_cli(cli: CliRunner, task: str) -> None:
    run(cli, "signers", "add", task, "window2", "--reason", "请会签", "--as", "window")
    run(cli, "signers", "sign", task, "--disagree", "--opinion", "金额有误", "--as", "window2")
    assert "window2" in run(cli, "signers", "show", task, "--as", "window")
    assert "window2" in run(cli, "complete", task, "--data", APPROVED, "--as", "window", code=1)


def test_entrust_from_the_cli(cli: CliRunner, task: str) -> None:
    run(cli, "entrust", "to", task, "window2", "--reason", "请代审", "--as", "window")
    assert run(cli, "complete", task, "--data", APPROVED, "--as", "window2", code=1)
    run(cli, "entrust", "return", task, "--data", '{"decision": "rejected", "comment": "材料不全"}',
        "--opinion", "建议退回", "--as", "window2")
    shown = json.loads(run(cli, "signers", "show", task, "--as", "window", "--json"))
    assert shown["returned"] == {"decision": "rejected", "comment": "材料不全"}
    assert shown["delegations"][0]["opinion"] == "建议退回"
