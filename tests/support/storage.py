"""Uploads under test on both storage backends: the instance folder's blobs/ and a bucket on moto's S3 server.

A module puts `settings = on_each_backend` among its fixtures (imported under that name), and every test in it
runs once per backend (the `storage_backend` fixture in tests/conftest.py).
"""

from __future__ import annotations

import dataclasses

import pytest

from engine.base.settings import Settings, StorageSettings


@pytest.fixture
def on_each_backend(settings: Settings, storage_backend: StorageSettings) -> Settings:
    return dataclasses.replace(settings, storage=storage_backend)
