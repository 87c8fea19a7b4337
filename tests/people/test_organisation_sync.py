"""`tongban orgs sync`: the database's organisations follow processes/organisations.yaml — created, renamed,
never deleted, and running it twice changes nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from engine.cli.main import main
from engine.definitions.organisations import load_organisations
from engine.people import administration
from engine.runtime.runtime import SYSTEM, Runtime
from engine.store.models import Organisation
from tests.support.repo import REPO

SHIPPED = REPO / "processes" / "organisations.yaml"


def _orgs(runtime: Runtime) -> dict[str, tuple[str, str]]:
    with runtime.db.read() as session:
        return {o.code: (o.name, o.kind) for o in session.scalars(select(Organisation))}


def test_sync_creates_the_missing_corrects_names_and_kinds_and_deletes_nothing(runtime: Runtime) -> None:
    with runtime.db.write() as session:  # as a database seeded before the list: old name, wrong kind, a gap
        session.execute(update(Organisation).where(Organisation.code == "street_bdq").values(name="八大峡街道办事处"))
        session.execute(update(Organisation).where(Organisation.code == "renshe").values(kind="office"))
        session.execute(Organisation.__table__.delete().where(Organisation.code == "street_zhl"))
    listed = load_organisations(SHIPPED.read_bytes())
    done = administration.sync_organisations(runtime.db, SYSTEM, listed)
    assert (done.created, sorted(done.updated)) == (["street_zhl"], ["renshe", "street_bdq"])
    orgs = _orgs(runtime)
    assert orgs["street_bdq"] == ("八大峡街道", "office") and orgs["renshe"][1] == "department"
    assert orgs["street_zhl"] == ("珠海路街道", "office")
    assert {"ent_haiyun", "platform"} <= set(orgs)  # not in the list, kept
    again = administration.sync_organisations(runtime.db, SYSTEM, listed)
    assert (again.created, again.updated, len(again.unchanged)) == ([], [], len(list(listed)))
    assert _orgs(runtime) == orgs


@pytest.fixture
def cli(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    monkeypatch.setenv("TONGBAN_PROCESSES", str(REPO / "processes"))
    monkeypatch.setenv("TONGBAN_FORMS", str(REPO / "forms"))
    return CliRunner()


def test_the_command_syncs_the_configured_list_or_the_one_of_a_folder(cli: CliRunner, runtime: Runtime,
                                                                       tmp_path: Path) -> None:
    result = cli.invoke(main, ["orgs", "sync", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] == []  # the test database was seeded from the same list
    folder = tmp_path / "processes"
    folder.mkdir()
    (folder / "organisations.yaml").write_text(
        "organisations:\n  street_new: {zh: 新街道, en: New Subdistrict, kind: office, tags: [street]}\n",
        encoding="utf-8")
    result = cli.invoke(main, ["orgs", "sync", str(tmp_path)])
    assert result.exit_code == 0 and "新建 created 1" in result.output and "+ street_new" in result.output
    assert _orgs(runtime)["street_new"] == ("新街道", "office")
    (folder / "organisations.yaml").write_text("organisations: [x]\n", encoding="utf-8")
    broken = cli.invoke(main, ["orgs", "sync", str(tmp_path)])
    assert broken.exit_code == 1 and "organisations:" in broken.output
    (folder / "organisations.yaml").unlink()
    missing = cli.invoke(main, ["orgs", "sync", str(tmp_path)])
    assert missing.exit_code == 1 and "no organisation list" in missing.output


def test_the_command_refuses_a_non_administrator(cli: CliRunner, runtime: Runtime) -> None:
    result = cli.invoke(main, ["orgs", "sync", "--as", "window"])
    assert result.exit_code == 1 and "administrators only" in result.stderr
