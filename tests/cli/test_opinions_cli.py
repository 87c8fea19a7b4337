"""`tongban opinions` and `tongban phrases`: the trail as a user may read it, a user's own capped phrases."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli.main import main
from engine.people.phrases import MAX_PHRASES
from engine.runtime.runtime import Runtime
from tests.support.opinions import decided, deploy_two_decisions


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    return CliRunner()


def test_the_trail_is_scoped_by_the_user_it_runs_as(cli: CliRunner, runtime: Runtime) -> None:
    deploy_two_decisions(runtime)
    case = decided(runtime)
    staff = json.loads(cli.invoke(main, ["opinions", case.case_number, "--as", "window", "--json"]).stdout)
    assert [o["opinion"] for o in staff] == ["现场与申报一致，楼道狭窄", "材料齐全，同意备案"]
    own = cli.invoke(main, ["opinions", case.case_number, "--as", "haiyun"])
    assert own.exit_code == 0 and "材料齐全，同意备案" in own.stdout and "楼道狭窄" not in own.stdout
    other = cli.invoke(main, ["opinions", case.case_number, "--as", "fushan"])
    assert other.exit_code == 1 and "办件不存在" in other.output


def test_phrases_are_added_listed_capped_and_removed_by_their_owner_only(cli: CliRunner) -> None:
    for i in range(MAX_PHRASES):
        assert cli.invoke(main, ["phrases", "add", f"同意 {i}", "--as", "window"]).exit_code == 0
    refused = cli.invoke(main, ["phrases", "add", "第十一条", "--as", "window"])
    assert refused.exit_code == 1 and "最多" in refused.output
    listed = json.loads(cli.invoke(main, ["phrases", "list", "--as", "window", "--json"]).stdout)
    assert [p["text"] for p in listed] == [f"同意 {i}" for i in range(MAX_PHRASES)]
    first = str(listed[0]["id"])
    stranger = cli.invoke(main, ["phrases", "remove", first, "--as", "street"])
    assert stranger.exit_code == 1 and "不存在" in stranger.output
    assert cli.invoke(main, ["phrases", "remove", first, "--as", "window"]).exit_code == 0
    assert len(json.loads(cli.invoke(main, ["phrases", "list", "--as", "window", "--json"]).stdout)) == MAX_PHRASES - 1
