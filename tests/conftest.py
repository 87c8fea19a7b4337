"""Fixtures: a migrated database (SQLite file by default, PostgreSQL when TONGBAN_TEST_DATABASE_URL is
set — unreachable means failure, never a skip), demo organisations and users, the sample deployed."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text, update

from api import create_app
from engine.base import clock
from engine.base.settings import Settings
from engine.definitions.catalogue import RoleCatalogue
from engine.definitions.registry import deploy
from engine.design.demo import DEMO_ORGS, DEMO_USERS
from engine.people.accounts import add_user, ensure_org, hash_password
from engine.runtime.runtime import Runtime
from engine.store.db import Database
from engine.store.models import Base, User
from tests.support.http import PASSWORD
from tests.support.repo import REPO, ROLES, repo_files
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
    deploy(seeded, repo_files(), by="tests")
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
