"""`tongban migrate`: --dry-run lists what would happen per case, a refusal exits 1 with each case's reasons, and
--map moves a case waiting at a renamed element."""

from __future__ import annotations

import json

from click.testing import CliRunner

from engine.cli.main import main
from engine.runtime.runtime import Runtime
from tests.support.migration import KEY, deploy
from tests.support.steps import begin


def test_dry_run_refusal_and_move(cli: CliRunner,
                                   runtime: Runtime) -> None:
    deploy(runtime)
    case = begin(runtime, KEY, {"unit": "A"}).case_number
    deploy(runtime, accept="intake")

    dry = cli.invoke(main, ["migrate", KEY, "--from", "1", "--dry-run", "--as", "admin"])
    assert dry.exit_code == 1 and f"{case}  不能迁移 (refused)" in dry.output and "map it" in dry.output
    refused = cli.invoke(main, ["migrate", KEY, "--from", "1", "--as", "admin"])
    assert refused.exit_code == 1 and f"/cases/{case}" in refused.output and "none was moved" in refused.output
    planned = cli.invoke(main, ["migrate", KEY, "--from", "1", "--map", "accept=intake", "--dry-run", "--as", "admin"])
    assert planned.exit_code == 0 and "accept → intake  (UserTask, ready)" in planned.output
    assert "将迁移 (would move)" in planned.output

    moved = cli.invoke(main, ["migrate", KEY, "--from", "1", "--to", "2", "--map", "accept=intake", "--case", case,
                              "--as", "admin", "--json"])
    assert moved.exit_code == 0, moved.output
    assert json.loads(moved.stdout)["cases"][0]["outcome"] == "moved"
    assert runtime.instance(case, runtime.actor("admin")).version == 2


def test_refusals_from_the_command_line(cli: CliRunner,
                                        runtime: Runtime) -> None:
    deploy(runtime)
    deploy(runtime, check=True)
    bad_map = cli.invoke(main, ["migrate", KEY, "--from", "1", "--map", "accept", "--as", "admin"])
    assert bad_map.exit_code == 2 and "OLD=NEW" in bad_map.output
    not_admin = cli.invoke(main, ["migrate", KEY, "--from", "1", "--as", "window"])
    assert not_admin.exit_code == 1 and "administrators only" in not_admin.output
    kind = cli.invoke(main, ["migrate", KEY, "--from", "1", "--map", "accept=wait", "--as", "admin"])
    assert kind.exit_code == 1 and "/mapping/accept" in kind.output
