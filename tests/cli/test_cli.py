"""The CLI as a script would drive it: start, tasks, complete, instances, show — all with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from engine.base.errors import Unauthorized
from engine.cli.main import main
from engine.people.auth import authenticate, login
from engine.runtime.runtime import Runtime
from tests.support.cli import run


def test_scripted_life_cycle(cli: CliRunner, tmp_path: Path) -> None:
    started = run(cli, "start", "sample_approval", "--data", '{"title": "脚本办理", "amount": 20000}',
                  "--as", "haiyun")
    case = started["case_number"]
    [task] = run(cli, "tasks", "--as", "haiyun")
    assert task["case_number"] == case and task["role"] == "applicant"
    data_file = tmp_path / "submit.json"
    data_file.write_text(json.dumps({"contact": "李四", "mobile": "13900000000", "email": "li@example.cn",
                                     "commitment": True}), encoding="utf-8")
    run(cli, "complete", task["id"], "--data", str(data_file), "--as", "haiyun")
    [approve] = run(cli, "tasks", "--as", "window")
    done = run(cli, "complete", approve["id"], "--data", '{"decision": "approved", "comment": "同意"}',
                "--as", "window")
    assert done["status"] == "completed"
    [listed] = run(cli, "instances")
    assert (listed["case_number"], listed["status"]) == (case, "completed")
    assert run(cli, "instances", "--as", "fushan") == []
    shown = run(cli, "show", case)
    assert shown["data"]["contact"] == "李四" and shown["events"][-1]["kind"] == "ended"


def test_invalid_data_prints_every_field_and_exits_1(cli: CliRunner) -> None:
    error = run(cli, "start", "sample_approval", "--data", '{"title": "x"}', "--as", "haiyun", code=1)
    assert error["error"] == "validation_failed" and set(error["fields"]) == {"/title", "/amount"}
    human = cli.invoke(main, ["start", "sample_approval", "--data", '{"title": "x"}', "--as", "haiyun"])
    assert human.exit_code == 1 and "/amount" in human.stderr


def test_admin_commands(cli: CliRunner) -> None:
    case = run(cli, "start", "sample_approval", "--data", '{"title": "挂起", "amount": 1}', "--as", "haiyun")[
        "case_number"]
    assert run(cli, "suspend", case, "--as", "window", code=1)["error"] == "forbidden"
    assert run(cli, "suspend", case, "--as", "admin")["status"] == "suspended"
    assert run(cli, "resume", case, "--as", "admin")["status"] == "running"
    assert run(cli, "terminate", case, "--as", "admin")["status"] == "terminated"


def test_unknown_user_is_a_clear_error(cli: CliRunner) -> None:
    assert run(cli, "tasks", "--as", "nobody", code=1)["error"] == "not_found"


def test_users_disable_and_passwd_revoke_tokens(cli: CliRunner, runtime: Runtime) -> None:
    assert cli.invoke(main, ["users", "passwd", "window", "--password", "新口令 long enough"]).exit_code == 0
    token, _ = login(runtime.db, "window", "新口令 long enough")
    assert authenticate(runtime.db, token).username == "window"
    assert cli.invoke(main, ["users", "passwd", "window", "--password", "short"]).exit_code == 1  # the policy
    assert cli.invoke(main, ["users", "disable", "window"]).exit_code == 0
    with pytest.raises(Unauthorized):
        authenticate(runtime.db, token)
    with pytest.raises(Unauthorized):
        login(runtime.db, "window", "新口令 long enough")
    [window] = [u for u in run(cli, "users", "list") if u["username"] == "window"]
    assert {k: window[k] for k in ("display_name", "org", "roles", "disabled", "email")} == {
        "display_name": "window", "org": "xzsp", "roles": ["window_clerk"], "disabled": True, "email": None}
    assert window["org_name"]  # the organisation by its name too (the admin pages' search)


def test_demo_is_refused_in_production(cli: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_ENV", "production")
    result = cli.invoke(main, ["demo"])
    assert result.exit_code == 1 and "production" in result.output
    assert "演示用户" not in result.output  # nothing was seeded or printed
