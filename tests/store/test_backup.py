"""Backup and restore, tried once as the guide says (docs/operations.md): a case with a file and an issued document
is backed up, the instance wiped, restored, and the case, its file's bytes and its document verify again.

SQLite (the embedded default): `tongban backup` / `tongban restore`, on both storage backends. PostgreSQL (run
with TONGBAN_TEST_DATABASE_URL): pg_dump -Fc / pg_restore and a copy of the blobs, the procedure the guide gives.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text
from sqlalchemy.engine import make_url

from engine.base.settings import Settings
from engine.case import documents
from engine.case.attachments import open_attachment
from engine.cli.main import main
from engine.runtime.runtime import Runtime
from engine.store.db import Database
from tests.conftest import PG_URL
from tests.support.shipped import answered_with_a_file
from tests.support.storage import on_each_backend as settings  # noqa: F401 - every test runs on both backends
from tests.support.uploads import PDF

SCAN = PDF + b"% the applicant's signed consent sheet\n"

on_sqlite = pytest.mark.skipif(bool(PG_URL), reason="tongban backup is for SQLite; the PostgreSQL run tests pg_dump")
on_postgresql = pytest.mark.skipif(not PG_URL, reason="needs TONGBAN_TEST_DATABASE_URL (pg_dump/pg_restore)")


def a_case(runtime: Runtime) -> tuple[int, int, str]:
    """A 135 request answered at intake, with the applicant's file: (case, file, the notice's code)."""
    return answered_with_a_file(runtime, SCAN)


def backed_up(runtime: Runtime, to: Path) -> Path:
    """A case, its archive at `to`, and the runtime's connections closed as the stopped server's would be."""
    a_case(runtime)
    tongban(runtime.settings, "backup", str(to))
    runtime.db.dispose()
    return to


def still_there(config: Settings, case: int, file_id: int, code: str) -> None:
    """The restored case opens, its file has the same bytes and its document verifies by its printed code."""
    runtime = Runtime(Database(config.database_url), config)
    try:
        with runtime.context.entered():
            view = runtime.instance(case, runtime.actor("haiyun"), detail=True)
            assert view.status == "completed" and view.events
            _, stream = open_attachment(runtime.db, runtime.blobs, case, file_id, runtime.actor("haiyun"))
            with stream:
                assert stream.read() == SCAN
            assert documents.verify(runtime.db, code, config.timezone).case_number == view.case_number
            assert runtime.document(case, "qysq_answer", runtime.actor("haiyun")).pdf().startswith(b"%PDF")
    finally:
        runtime.db.dispose()


def environment(config: Settings) -> dict[str, str]:
    env = {"TONGBAN_DATABASE_URL": config.database_url, "TONGBAN_INSTANCE": str(config.instance_dir)}
    storage = config.storage
    if storage.backend == "s3":
        env |= {"TONGBAN_STORAGE": "s3", "TONGBAN_S3_BUCKET": storage.bucket or "", "TONGBAN_S3_PREFIX": storage.prefix,
                "TONGBAN_S3_ENDPOINT_URL": storage.endpoint_url or "", "TONGBAN_S3_REGION": storage.region or "",
                "TONGBAN_S3_ADDRESSING_STYLE": storage.addressing_style}
    return env


def tongban(config: Settings, *args: str, code: int = 0) -> Result:
    result = CliRunner().invoke(main, list(args), env=environment(config))
    assert result.exit_code == code, result.output
    return result


@pytest.fixture
def backups(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where archives go: not the instance folder (the test's tmp_path), which the wipe removes."""
    return tmp_path_factory.mktemp("backups")


def wipe(runtime: Runtime) -> None:
    """The lost disk: the instance folder (database, blobs, key) and every object of the bucket."""
    runtime.db.dispose()
    for _, found in list(runtime.blobs.stored()):
        runtime.blobs.storage.delete(found.key)
    shutil.rmtree(runtime.settings.instance_dir)
    assert list(runtime.blobs.stored()) == []


@on_sqlite
def test_backup_wipe_restore_and_the_case_verifies_again(runtime: Runtime, backups: Path) -> None:
    case, file_id, code = a_case(runtime)
    config = runtime.settings
    (config.instance_dir / "secret_key").write_text("the key that signs sessions")
    archive = backups / "tongban-2026-12-01.tar.gz"
    made = json.loads(tongban(config, "backup", str(archive), "--json").stdout)
    assert (made["files"], made["bytes"], made["secret_key"], made["missing"]) == (1, len(SCAN), True, [])
    assert stat.S_IMODE(archive.stat().st_mode) == 0o600  # personal data and the key: the owner's only
    wipe(runtime)
    restored = tongban(config, "restore", str(archive))
    assert "已恢复 (restored) 1 个文件" in restored.stdout
    assert (config.instance_dir / "secret_key").read_text() == "the key that signs sessions"
    assert stat.S_IMODE((config.instance_dir / "secret_key").stat().st_mode) == 0o600
    still_there(config, case, file_id, code)


@on_sqlite
def test_a_restore_keeps_what_it_would_replace(runtime: Runtime, backups: Path) -> None:
    archive = backed_up(runtime, backups / "b.tar.gz")
    config = runtime.settings
    refused = tongban(config, "restore", str(archive), code=1)
    assert "--replace" in refused.stderr and "Traceback" not in refused.output
    database = Path(make_url(config.database_url).database)
    tongban(config, "restore", str(archive), "--replace")
    kept = [p.name for p in database.parent.iterdir() if p.name.startswith(f"{database.name}.before-restore-")]
    assert len(kept) == 1  # moved aside, never deleted


@on_sqlite
def test_archives_that_are_not_ours_or_damaged_are_refused_with_a_message(runtime: Runtime, tmp_path: Path) -> None:
    good = backed_up(runtime, tmp_path / "good.tar.gz")
    config = runtime.settings
    stranger = tmp_path / "stranger.tar.gz"
    with tarfile.open(stranger, "w:gz") as archive:
        archive.add(good, "../../etc/cron.d/evil")
    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    tampered = tmp_path / "tampered.tar.gz"
    with tarfile.open(good) as source, tarfile.open(tampered, "w:gz") as out:
        for member in source:
            data = source.extractfile(member).read()
            if member.name.startswith("blobs/"):
                data = data.replace(b"consent", b"CONSENT")
            out.addfile(member, io.BytesIO(data))
    for bad, says in ((stranger, "not a tongban backup"), (truncated, "truncated or damaged"),
                      (tampered, "does not match its hash"), (tmp_path / "plain.txt", "cannot read the backup")):
        if bad.suffix == ".txt":
            bad.write_text("hello")
        result = tongban(config, "restore", str(bad), "--replace", code=1)
        assert says in result.stderr and "Traceback" not in result.output, result.output
    assert not (tmp_path / "etc").exists() and not Path("/etc/cron.d/evil").exists()


@on_sqlite
def test_a_backup_that_cannot_be_written_is_a_message(runtime: Runtime, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a folder")
    result = tongban(runtime.settings, "backup", str(tmp_path / "a-file" / "b.tar.gz"), code=1)
    assert "cannot read or write" in result.stderr and "Traceback" not in result.output


@on_sqlite
def test_a_backup_over_the_live_instance_is_refused_and_changes_nothing(runtime: Runtime) -> None:
    config = runtime.settings
    database = Path(make_url(config.database_url).database)
    before = database.read_bytes()
    for target in (database, Path(f"{database}-wal"), config.instance_dir / "secret_key",
                   config.instance_dir / "blobs" / "x.tar.gz"):
        result = tongban(config, "backup", str(target), code=1)
        assert "cannot be written to" in result.stderr and "Traceback" not in result.output, result.output
    assert database.read_bytes() == before
    assert not (config.instance_dir / "blobs" / "x.tar.gz").exists()


@on_sqlite
def test_a_manifest_with_values_of_the_wrong_kind_is_refused(runtime: Runtime, tmp_path: Path) -> None:
    good = backed_up(runtime, tmp_path / "good.tar.gz")
    for field, value in (("schema_revision", ["x"]), ("database_sha256", 7), ("created_at", {"a": 1})):
        bad = tmp_path / f"bad-{field}.tar.gz"
        with tarfile.open(good) as source, tarfile.open(bad, "w:gz") as out:
            for member in source:
                data = source.extractfile(member).read()
                if member.name == "manifest.json":
                    data = json.dumps({**json.loads(data), field: value}).encode()
                    member.size = len(data)
                out.addfile(member, io.BytesIO(data))
        result = tongban(runtime.settings, "restore", str(bad), "--replace", code=1)
        assert "manifest.json is damaged" in result.stderr and "Traceback" not in result.output, result.output


def test_backup_on_postgresql_points_to_pg_dump(tmp_path: Path) -> None:
    config = Settings.from_env({"TONGBAN_DATABASE_URL": "postgresql+psycopg://tongban@db.internal/tongban",
                                  "TONGBAN_INSTANCE": str(tmp_path)})
    result = tongban(config, "backup", str(tmp_path / "x.tar.gz"), code=1)
    assert "pg_dump" in result.stderr and not (tmp_path / "x.tar.gz").exists()


@on_postgresql
def test_pg_dump_restore_and_the_blobs_copy_bring_the_case_back(runtime: Runtime, backups: Path) -> None:
    """The guide's order: pg_dump first, then the blobs (every row of the dump already has its bytes)."""
    assert shutil.which("pg_dump") and shutil.which("pg_restore"), "PostgreSQL's client tools are needed"
    case, file_id, code = a_case(runtime)
    url = make_url(runtime.settings.database_url).set(drivername="postgresql")
    libpq = url.render_as_string(hide_password=False)
    dump = backups / "tongban.dump"
    subprocess.run(["pg_dump", "--format=custom", "--file", str(dump), libpq], check=True)
    copy = backups / "blobs"
    for sha256, found in runtime.blobs.stored():  # `aws s3 sync` or `rsync -a` in the guide; by the interface here
        (copy / found.key).parent.mkdir(parents=True, exist_ok=True)
        with runtime.blobs.open(sha256) as stream:
            (copy / found.key).write_bytes(stream.read())
    wipe(runtime)
    with Database(runtime.settings.database_url).engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    subprocess.run(["pg_restore", "--no-owner", "--dbname", libpq, str(dump)], check=True)
    for path in copy.rglob("*"):
        if path.is_file():
            runtime.blobs.storage.put(path.relative_to(copy).as_posix(), path, path.name)
    still_there(runtime.settings, case, file_id, code)
