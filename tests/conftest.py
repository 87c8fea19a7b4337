"""Fixtures: a migrated database (SQLite file by default, PostgreSQL when TONGBAN_TEST_DATABASE_URL is
set — unreachable means failure, never a skip), demo organisations and users, the sample deployed."""

from __future__ import annotations

import dataclasses
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text, update

from api import create_app
from engine.base import clock
from engine.base.settings import Settings, StorageSettings
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.registry import deploy_analysed
from engine.design.demo import DEMO_ORGS, DEMO_USERS
from engine.people.accounts import add_user, ensure_org, hash_password
from engine.runtime.runtime import Runtime
from engine.store.db import Database
from engine.store.models import Base, User
from tests.support.cli import cli  # noqa: F401 - the fixture: the CLI on the test's database
from tests.support.http import PASSWORD
from tests.support.repo import REPO, ROLES, analysed_repo
from tests.support.supervision import qysq_cases

PG_URL = os.environ.get("TONGBAN_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """Migrate once per session: a template SQLite file, or the PostgreSQL test database."""
    if PG_URL:
        db = Database(PG_URL)
        with db.engine.begin() as conn:  # a clean slate, whatever an earlier run left
            conn.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        db.upgrade()
        db.dispose()
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.db"
    db = Database(f"sqlite:///{path}")
    db.upgrade()
    db.dispose()
    return str(path)


@pytest.fixture
def db(_template: str, tmp_path: Path) -> Iterator[Database]:
    if PG_URL:
        database = Database(PG_URL)
        tables = ", ".join(t.name for t in reversed(Base.metadata.sorted_tables))
        with database.engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    else:
        path = tmp_path / "tongban.db"
        shutil.copy(_template, path)
        database = Database(f"sqlite:///{path}")
    yield database
    database.dispose()


@pytest.fixture
def settings(db: Database, tmp_path: Path) -> Settings:
    return Settings(instance_dir=tmp_path, database_url=db.url, processes_dir=tmp_path, forms_dir=tmp_path,
                    district="370202", timezone=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def seeded(db: Database) -> Database:
    """Demo organisations and one user per role (no passwords: hashing is not under test here)."""
    catalogue = RoleCatalogue.from_yaml(ROLES)
    with db.write() as session:
        for code, name, kind, credit in DEMO_ORGS:
            ensure_org(session, code, name, kind, credit)
        for username, org, roles in DEMO_USERS:
            add_user(session, catalogue, username, org, roles)
    return db


@pytest.fixture(autouse=True)
def _own_clock() -> Iterator[None]:
    """Each test has a clock of its own to travel (a runtime's context, when the test has one, sits on top)."""
    with clock.using(clock.Clock()):
        yield


@pytest.fixture
def runtime(seeded: Database, settings: Settings) -> Iterator[Runtime]:
    """The test runs in this runtime's context: `clock.travel` moves its clock, `workdays` reads its calendar."""
    deploy_analysed(seeded, analysed_repo(), by="tests")
    rt = Runtime(seeded, settings)
    with rt.context.entered():
        yield rt


@pytest.fixture
def client(runtime: Runtime) -> FlaskClient:
    """The whole web app (API and pages) over the runtime; every user's password is PASSWORD."""
    with runtime.db.write() as session:
        session.execute(update(User).values(password_hash=hash_password(PASSWORD)))
    return create_app(runtime.settings, runtime).test_client()


@pytest.fixture
def admin_client(client: FlaskClient, runtime: Runtime) -> FlaskClient:
    """The app with the repository's role catalogue (the admin pages read processes/roles.yaml)."""
    settings = dataclasses.replace(runtime.settings, processes_dir=REPO / "processes", forms_dir=REPO / "forms")
    return create_app(settings, Runtime(runtime.db, settings)).test_client()


@pytest.fixture
def cases(runtime: Runtime) -> dict[str, int]:
    """QYSQ cases with their facts, as the supervision dashboard counts them (runtime and browser tests)."""
    return qysq_cases(runtime)


@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server (`python -m moto.server`, what moto[server]'s ThreadedMotoServer runs) in a process of its
    own on a free local port: a real HTTP endpoint, spoken to by boto3 as any S3 would be, whose memory is not
    the test's."""
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{url}/moto-api/", timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise RuntimeError("moto's S3 server did not start") from None
            time.sleep(0.1)
    yield url
    server.terminate()
    server.wait(10)


@pytest.fixture
def s3_storage(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> StorageSettings:
    """A fresh bucket of its own; the credentials reach boto3 through the environment, its usual chain."""
    import boto3

    for name, value in (("AWS_ACCESS_KEY_ID", "tongban-test"), ("AWS_SECRET_ACCESS_KEY", "tongban-test"),
                        ("AWS_EC2_METADATA_DISABLED", "true")):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    bucket = f"tongban-{uuid.uuid4().hex[:16]}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(Bucket=bucket)
    return StorageSettings(backend="s3", bucket=bucket, prefix="district/blobs/", endpoint_url=s3_endpoint,
                           region="us-east-1", addressing_style="path")


@pytest.fixture(params=["local", "s3"])
def storage_backend(request: pytest.FixtureRequest) -> StorageSettings:
    """Each backend in turn, for the tests of uploads: override `settings` with it (tests/support/storage.py)."""
    return StorageSettings() if request.param == "local" else request.getfixturevalue("s3_storage")
