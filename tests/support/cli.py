"""The command line on the test's database: the `cli` fixture and `run`, which parses what a command prints."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from engine.cli.main import main
from engine.runtime.runtime import Runtime


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    return CliRunner()


def run(cli: CliRunner, *args: str, code: int = 0) -> object:
    result = cli.invoke(main, [*args, "--json"])
    assert result.exit_code == code, result.output
    return json.loads(result.stdout)

