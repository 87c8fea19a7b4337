"""Commands run the way a stranger would run them — in an empty folder, on a database that is not there, with
settings misspelt — answer with a message (or the JSON error object) and exit 1, never a traceback (issue 13,
point 3); and the processes that cannot work are refused (point 7)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from click.testing import CliRunner, Result

from api.cli import main
from engine.store.db import Database, alembic_config
from tests.support.repo import REPO


@pytest.fixture
def stranger(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """An empty folder and no TONGBAN_* settings at all: the defaults (instance/tongban.db beside it)."""
    for name in list(os.environ):
        if name.startswith("TONGBAN_") and not name.startswith("TONGBAN_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return CliRunner()


def fails(cli: CliRunner, *args: str) -> Result:
    """The command exits 1 with a message of ours: no exception escaped to click (no traceback)."""
    result = cli.invoke(main, list(args))
    assert result.exit_code == 1, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # a handled exit, not a crash
    assert "Traceback" not in result.output
    return result


def error_of(cli: CliRunner, *args: str) -> dict[str, object]:
    return json.loads(fails(cli, *args, "--json").stdout)


def test_version(stranger: CliRunner) -> None:
    result = stranger.invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("tongban 0.")


def test_an_empty_folder_says_to_migrate_first(stranger: CliRunner) -> None:
    for args in (["processes"], ["instances"], ["tasks", "--as", "haiyun"], ["users", "list"], ["show", "1"]):
        human = fails(stranger, *args)
        assert "tongban db upgrade" in human.stderr and "no such table" not in human.output, args
    error = error_of(stranger, "instances")
    assert error["error"] == "schema_outdated" and "tongban demo" in str(error["message"])


def test_an_older_schema_says_to_migrate(stranger: CliRunner, tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'instance' / 'tongban.db'}")
    command.upgrade(alembic_config(db), "0013")  # before 0014, which added the cases' outcome column
    db.dispose()
    assert error_of(stranger, "instances")["error"] == "schema_outdated"
    assert stranger.invoke(main, ["db", "upgrade"]).exit_code == 0
    assert stranger.invoke(main, ["instances", "--json"]).stdout.strip() == "[]"


def test_an_unreachable_database_is_named_without_its_password(stranger: CliRunner,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as closed:  # a port nothing listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("TONGBAN_DATABASE_URL", f"postgresql+psycopg://tongban:s3cret@127.0.0.1:{port}/tongban")
    error = error_of(stranger, "processes")
    assert error["error"] == "database_unreachable"
    assert f"127.0.0.1:{port}" in str(error["message"]) and "s3cret" not in str(error["message"])
    assert "TONGBAN_DATABASE_URL" in fails(stranger, "db", "upgrade").stderr


@pytest.mark.parametrize("url", ["not a url", "mysql://u@db/tongban"])
def test_a_database_url_tongban_cannot_use(stranger: CliRunner, monkeypatch: pytest.MonkeyPatch, url: str) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", url)
    error = error_of(stranger, "processes")
    assert error["error"] == "settings_invalid" and "TONGBAN_DATABASE_URL" in str(error["message"])


@pytest.mark.parametrize(("name", "value"), [("TONGBAN_TIMER_LEASE", "two minutes"), ("TONGBAN_ENV", "prod"),
                                             ("TONGBAN_SERVICE_ENDPOINTS", "licences"),
                                             ("TONGBAN_SCRIPT_MEMORY_MB", "8")])
def test_a_bad_setting_stops_every_command_with_its_name(stranger: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                                         name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    for args in (["processes"], ["serve"], ["worker"]):
        assert name in fails(stranger, *args).stderr
    assert error_of(stranger, "processes")["error"] == "settings_invalid"


def test_a_bad_setting_is_a_message_from_the_installed_command_too(tmp_path: Path) -> None:
    """The settings were once read while importing the Celery app, before any command could catch it."""
    env = {**os.environ, "PYTHONPATH": str(REPO), "TONGBAN_TIMER_LEASE": "abc"}
    run = subprocess.run([str(Path(sys.executable).with_name("tongban")), "processes"], env=env, cwd=tmp_path,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    assert "TONGBAN_TIMER_LEASE" in run.stderr


def test_a_missing_file_is_named(stranger: CliRunner, tmp_path: Path) -> None:
    error = error_of(stranger, "roles")
    assert error["error"] == "os_error" and str(tmp_path / "processes" / "roles.yaml") in str(error["message"])


def test_serve_on_a_port_in_use_says_so(stranger: CliRunner) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        human = fails(stranger, "serve", "--port", str(taken.getsockname()[1]))
    assert "Address already in use" in human.stderr


def test_serve_refuses_sqlite_with_a_broker(stranger: CliRunner, monkeypatch: pytest.MonkeyPatch,
                                            tmp_path: Path) -> None:
    monkeypatch.setenv("TONGBAN_BROKER_URL", "redis://127.0.0.1:6379/1")
    for args in (["serve"], ["worker"], ["beat"]):
        message = fails(stranger, *args).stderr
        assert "SQLite" in message and "TONGBAN_DATABASE_URL" in message, args
    assert not (tmp_path / "instance" / "tongban.db").exists()  # refused before anything was migrated


def test_serve_on_an_address_it_cannot_listen_on_says_so(stranger: CliRunner) -> None:
    for host in ("999.1.1.1", "nonexistent.invalid"):
        assert f"cannot listen on {host}:5000" in fails(stranger, "serve", "--host", host).stderr


def test_production_needs_a_secret_key(stranger: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_ENV", "production")
    assert "TONGBAN_SECRET_KEY" in fails(stranger, "serve").stderr
    monkeypatch.setenv("TONGBAN_SECRET_KEY", "x" * 31)  # one short of the minimum
    assert "TONGBAN_SECRET_KEY" in fails(stranger, "serve").stderr
