"""TONGBAN_STORAGE and the bucket's settings: read as given, refused with a message naming the variable."""

from __future__ import annotations

import pytest

from engine.base.settings import Settings, SettingsInvalid, StorageSettings


def test_s3_settings_are_read_from_the_environment() -> None:
    env = {"TONGBAN_STORAGE": "s3", "TONGBAN_S3_BUCKET": "shinan-tongban", "TONGBAN_S3_PREFIX": "/prod/blobs/",
           "TONGBAN_S3_ENDPOINT_URL": "https://minio.internal:9000", "TONGBAN_S3_REGION": "cn-north-1",
           "TONGBAN_S3_ADDRESSING_STYLE": "path"}
    assert StorageSettings.from_env(env) == StorageSettings("s3", "shinan-tongban", "prod/blobs/",
                                                            "https://minio.internal:9000", "cn-north-1", "path")
    assert StorageSettings.from_env({"TONGBAN_STORAGE": "s3", "TONGBAN_S3_BUCKET": "b1x"}).prefix == ""


def test_the_local_folder_is_the_default() -> None:
    assert Settings.from_env({}).storage == StorageSettings() and StorageSettings().backend == "local"
    assert StorageSettings.from_env({"TONGBAN_STORAGE": "local", "TONGBAN_S3_BUCKET": "ignored"}) == StorageSettings()


@pytest.mark.parametrize(("env", "named"), [
    ({"TONGBAN_STORAGE": "S3"}, "TONGBAN_STORAGE"),
    ({"TONGBAN_STORAGE": "minio"}, "TONGBAN_STORAGE"),
    ({"TONGBAN_STORAGE": "s3"}, "TONGBAN_S3_BUCKET"),
    ({"TONGBAN_STORAGE": "s3", "TONGBAN_S3_BUCKET": "  "}, "TONGBAN_S3_BUCKET"),
    ({"TONGBAN_STORAGE": "s3", "TONGBAN_S3_BUCKET": "b1x", "TONGBAN_S3_ENDPOINT_URL": "minio:9000"},
     "TONGBAN_S3_ENDPOINT_URL"),
    ({"TONGBAN_STORAGE": "s3", "TONGBAN_S3_BUCKET": "b1x", "TONGBAN_S3_ADDRESSING_STYLE": "dns"},
     "TONGBAN_S3_ADDRESSING_STYLE"),
    ({"TONGBAN_RETENTION_DRAFTS": "0"}, "TONGBAN_RETENTION_DRAFTS"),
    ({"TONGBAN_RETENTION_ORPHAN_GRACE": "an hour"}, "TONGBAN_RETENTION_ORPHAN_GRACE"),
])
def test_unusable_values_are_refused_naming_the_variable(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsInvalid, match=named):
        Settings.from_env(env)
