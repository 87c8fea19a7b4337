"""A web process that cannot work is refused before it serves anything (issue 13, point 7): a SQLite file with a
broker (scale-out's processes run on several machines), and production without a secret key of its own."""

from __future__ import annotations

import dataclasses

import pytest

from api import create_app
from engine.base.settings import Settings, SettingsInvalid
from engine.runtime.runtime import Runtime


def test_sqlite_with_a_broker_is_refused(settings: Settings, runtime: Runtime) -> None:
    sqlite = dataclasses.replace(settings, database_url="sqlite:////tmp/tongban-refused.db", broker_url="memory://")
    with pytest.raises(SettingsInvalid, match="SQLite") as refused:
        create_app(sqlite)  # what gunicorn calls
    assert "TONGBAN_DATABASE_URL" in str(refused.value) and "TONGBAN_BROKER_URL" in str(refused.value)
    with pytest.raises(SettingsInvalid, match="SQLite"):
        create_app(sqlite, Runtime(runtime.db, sqlite))  # an embedding's runtime with the same settings


def test_postgresql_with_a_broker_is_served(settings: Settings) -> None:
    scale_out = dataclasses.replace(settings, database_url="postgresql+psycopg://tongban@127.0.0.1:1/tongban",
                                    broker_url="memory://")
    assert create_app(scale_out).name == "api"  # made without connecting; its steps would be enqueued


@pytest.mark.parametrize("key", [None, "x" * 31, " " * 32, "ab" * 40, "123456789" * 4],
                         ids=["none", "31-characters", "blank", "two-characters", "nine-distinct"])
def test_production_without_a_secret_key_is_refused(settings: Settings, key: str | None) -> None:
    production = dataclasses.replace(settings, production=True, secret_key=key)
    with pytest.raises(SettingsInvalid, match="TONGBAN_SECRET_KEY"):
        create_app(production, background=False)
    assert not (settings.instance_dir / "secret_key").exists()  # nothing generated in its place


#: 32 characters as `secrets.token_urlsafe` makes them
KEY = "k3Y9-pQ2_vX7Lm8Zr4Tn6Wb1Hc5Jd0Fs"


def test_production_with_its_key(settings: Settings) -> None:
    production = dataclasses.replace(settings, production=True, secret_key=KEY)
    app = create_app(production, background=False)
    assert app.config["SECRET_KEY"] == KEY and app.config["SESSION_COOKIE_SECURE"] is True
    assert not (settings.instance_dir / "secret_key").exists()
