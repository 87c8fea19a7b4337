"""A case's files on each storage backend (the instance folder, a bucket on moto's S3 server), over HTTP:
the same headers and bytes either way, bytes before rows, downloads streamed."""

from __future__ import annotations

import io
import os
import time
import tracemalloc

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select

from engine.base.settings import StorageSettings
from engine.runtime.runtime import Runtime
from engine.store.models import Attachment
from tests.support.http import bearer
from tests.support.storage import on_each_backend as settings  # noqa: F401 - every test runs on both backends
from tests.support.uploads import PDF

START = {"title": "附件存储", "amount": 50_000}


def new_case(client: FlaskClient, headers: dict[str, str]) -> int:
    reply = client.post("/api/v1/processes/sample_approval/instances", headers=headers, json={"data": START})
    assert reply.status_code == 201, reply.json
    return reply.json["id"]


def rows(runtime: Runtime) -> int:
    with runtime.db.read() as session:
        return session.scalar(select(func.count()).select_from(Attachment))


def test_upload_list_and_download_keep_their_headers(client: FlaskClient, runtime: Runtime) -> None:
    haiyun = bearer(client, "haiyun")
    case = new_case(client, haiyun)
    stored = client.post(f"/api/v1/instances/{case}/attachments", headers=haiyun,
                         data={"file": (io.BytesIO(PDF), "同意书.pdf", "application/pdf")})
    assert stored.status_code == 201, stored.json
    listed = client.get(f"/api/v1/instances/{case}/attachments", headers=haiyun).json
    assert [a["sha256"] for a in listed] == [stored.json["sha256"]]
    download = client.get(f"/api/v1/instances/{case}/attachments/{stored.json['id']}", headers=haiyun)
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Length"] == str(len(PDF))
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E5%90%8C%E6%84%8F%E4%B9%A6.pdf" in download.headers["Content-Disposition"]
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert download.headers["Cache-Control"] == "private, no-store"
    assert runtime.blobs.stat(stored.json["sha256"]).size == len(PDF)
    other = bearer(client, "fushan")
    assert client.get(f"/api/v1/instances/{case}/attachments/{stored.json['id']}", headers=other).status_code == 404


def test_a_row_whose_bytes_are_missing_is_a_404_not_a_500(client: FlaskClient, runtime: Runtime) -> None:
    haiyun = bearer(client, "haiyun")
    case = new_case(client, haiyun)
    stored = client.post(f"/api/v1/instances/{case}/attachments", headers=haiyun,
                         data={"file": (io.BytesIO(PDF), "a.pdf")}).json
    runtime.blobs.delete(stored["sha256"])  # an operator's mistake, a restore without the blobs
    reply = client.get(f"/api/v1/instances/{case}/attachments/{stored['id']}", headers=haiyun)
    assert reply.status_code == 404 and reply.json["error"] == "not_found"


def test_a_failed_put_writes_no_row(client: FlaskClient, runtime: Runtime, storage_backend: StorageSettings,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The backend itself fails (a bucket that is not there; a blobs folder that is a file): 503, and no row."""
    haiyun = bearer(client, "haiyun")
    case = new_case(client, haiyun)
    if storage_backend.backend == "s3":
        monkeypatch.setattr(runtime.blobs.storage, "bucket", "tongban-no-such-bucket")
    else:  # neither the spool nor the blobs can be written
        (runtime.settings.instance_dir / "blobs").write_text("not a folder")
    for url in (f"/api/v1/instances/{case}/attachments", "/api/v1/uploads"):
        reply = client.post(url, headers=haiyun, data={"file": (io.BytesIO(PDF), "a.pdf")})
        assert reply.status_code == 503, reply.json
        assert reply.json["error"] == "storage_unavailable" and "(file storage is unavailable" in reply.json["message"]
    assert rows(runtime) == 0
    spool = runtime.blobs.storage.spool_dir
    assert not spool.is_dir() or list(spool.iterdir()) == []


def test_downloads_stream_instead_of_holding_the_file(client: FlaskClient, runtime: Runtime) -> None:
    """A 15 MB file goes out piece by piece: the server never holds more than a few of its 64 KiB reads."""
    big = PDF + b"0" * (15 * 1024 * 1024)
    haiyun = bearer(client, "haiyun")
    case = new_case(client, haiyun)
    stored = client.post(f"/api/v1/instances/{case}/attachments", headers=haiyun,
                         data={"file": (io.BytesIO(big), "big.pdf")}).json
    tracemalloc.start()
    try:
        reply = client.get(f"/api/v1/instances/{case}/attachments/{stored['id']}", headers=haiyun, buffered=False)
        received = sum(len(piece) for piece in reply.response)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        reply.close()
    assert received == len(big) == int(reply.headers["Content-Length"])
    assert peak < 2 * 1024 * 1024, f"peak {peak} bytes while sending {len(big)}"


def test_bytes_an_orphan_sweep_took_before_the_row_committed_are_stored_again(runtime: Runtime) -> None:
    """The sweep saw the bytes unnamed (the row not yet committed) and removed them: the upload puts them back."""
    blobs = runtime.blobs
    with blobs.storing(io.BytesIO(PDF), "a.pdf", None) as stored:
        blobs.delete(stored.sha256)  # the sweep, between the put and the row
    with blobs.open(stored.sha256) as handle:
        assert handle.read() == PDF


def test_the_same_bytes_uploaded_again_are_marked_new(runtime: Runtime) -> None:
    """Identical content is stored once; uploading it again refreshes its time, so an orphan sweep that listed it
    as old sees it as new when it looks again before deleting."""
    first = runtime.blobs.put(io.BytesIO(PDF), "a.pdf", None)
    before = runtime.blobs.stat(first.sha256).modified
    storage = runtime.blobs.storage
    if hasattr(storage, "root"):  # a file's time can be set back; a bucket's cannot, so it waits a second
        path = storage.root / f"{first.sha256[:2]}/{first.sha256[2:4]}/{first.sha256}"
        os.utime(path, (before.timestamp() - 7200, before.timestamp() - 7200))
        before = runtime.blobs.stat(first.sha256).modified
    else:
        time.sleep(1.1)
    runtime.blobs.put(io.BytesIO(PDF), "b.pdf", None)
    assert runtime.blobs.stat(first.sha256).modified > before
    assert [sha for sha, _ in runtime.blobs.stored()] == [first.sha256]
