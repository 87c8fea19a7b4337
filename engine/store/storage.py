"""Where the bytes of uploads live: a folder on the local disk (the default) or an S3-compatible bucket.

A backend only stores and fetches bytes by key. What a key names, which bytes are acceptable and who may read
them is decided above it (`engine.store.blobs`, `engine.case.attachments`). Keys are relative paths such as
``ab/cd/<sha256>``: a folder under the instance folder, or object names under the bucket's prefix, laid out
alike so that `aws s3 sync instance/blobs s3://bucket/prefix` moves a district from one to the other.

Any failure of the backend itself (disk full, bucket unreachable, credentials refused) is `StorageUnavailable`,
a 503 with a message, logged with its cause; an absent key is `NotFound`.
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import os
import shutil
import tempfile
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from engine.base.errors import NotFound, TongbanError
from engine.base.settings import StorageSettings

log = logging.getLogger(__name__)

READ_BUFFER = 64 * 1024  # what one read of a download asks the backend for


class StorageUnavailable(TongbanError):
    """The backend failed (not the caller): nothing was stored, or the bytes cannot be read now."""

    code = "storage_unavailable"
    status = 503

    def __init__(self) -> None:
        super().__init__("文件存储暂不可用，请稍后重试 (file storage is unavailable; try again later)")


@dataclass(frozen=True)
class StoredObject:
    """One stored key: its size and when its bytes were last written (or refreshed by an identical put)."""

    key: str
    size: int
    modified: datetime


class Storage(ABC):
    """Bytes by key. `put` takes a finished local file (spooled in `spool_dir`) and never consumes it."""

    #: where uploads are spooled while they are checked; a crash can leave files here (the retention sweep's)
    spool_dir: Path

    @abstractmethod
    def put(self, key: str, source: Path, sha256: str) -> None:
        """Store the file's bytes under `key`; if the key holds them already, mark them as written now."""

    @abstractmethod
    def open(self, key: str) -> BinaryIO:
        """The bytes as a stream read piece by piece, never whole; NotFound if absent."""

    @abstractmethod
    def stat(self, key: str) -> StoredObject | None:
        """The key's size and modification time, None if absent."""

    @abstractmethod
    def delete(self, key: str) -> None:
        """Remove the key; an absent key is no error."""

    @abstractmethod
    def list(self) -> Iterator[StoredObject]:
        """Every stored key (never the spool), in no particular order: for the orphan sweep and backups."""

    def exists(self, key: str) -> bool:
        return self.stat(key) is not None


def storage_for(settings: StorageSettings, instance_dir: Path) -> Storage:
    """The backend the settings name: the instance folder's ``blobs/``, or the bucket."""
    if settings.backend == "s3":
        return S3Storage(settings, spool_dir=instance_dir / "spool")
    return LocalStorage(instance_dir / "blobs")


@contextlib.contextmanager
def unavailable_on(*errors: type[BaseException]) -> Iterator[None]:
    """The backend's own failures (not the caller's) become StorageUnavailable, logged with their cause."""
    try:
        yield
    except errors as exc:
        log.error("file storage failed: %s", exc, exc_info=True)
        raise StorageUnavailable() from exc


class LocalStorage(Storage):
    """Files under `root`; the spool is ``root/.spool`` so a finished upload is hard-linked into place, atomically."""

    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)
        self.spool_dir = self.root / ".spool"

    def _path(self, key: str) -> Path:
        return self.root / key

    def put(self, key: str, source: Path, sha256: str) -> None:
        target = self._path(key)
        with unavailable_on(OSError):
            target.parent.mkdir(parents=True, exist_ok=True)
            if not _refresh(target):
                _place(source, target)
            _fsync_dir(target.parent)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except (FileNotFoundError, NotADirectoryError):
            raise NotFound("附件内容不存在 (no such stored file)") from None

    def stat(self, key: str) -> StoredObject | None:
        try:
            info = self._path(key).stat()
        except (FileNotFoundError, NotADirectoryError):
            return None
        return StoredObject(key, info.st_size, datetime.fromtimestamp(info.st_mtime, UTC))

    def delete(self, key: str) -> None:
        with unavailable_on(OSError):
            self._path(key).unlink(missing_ok=True)

    def list(self) -> Iterator[StoredObject]:
        if not self.root.is_dir():
            return
        for directory, folders, files in os.walk(self.root):
            folders[:] = [f for f in folders if not f.startswith(".")]  # the spool and any hidden folder
            for name in files:
                if name.startswith("."):
                    continue
                path = Path(directory, name)
                found = self.stat(path.relative_to(self.root).as_posix())
                if found is not None:  # removed while we walked
                    yield found


def _refresh(target: Path) -> bool:
    """The content is already stored (its name is its hash): touch it, so an orphan sweep sees it as new."""
    try:
        os.utime(target)
        return True
    except FileNotFoundError:
        return False


def _place(source: Path, target: Path) -> None:
    """A hard link appears whole or not at all; where links are not supported, a copy renamed into place."""
    try:
        os.link(source, target)
        return
    except FileExistsError:  # an identical upload got there first
        return
    except OSError as exc:
        log.debug("hard link into %s failed (%s); copying", target.parent, exc)
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=".put-")
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, READ_BUFFER)
            out.flush()
            os.fsync(out.fileno())
        os.replace(name, target)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise


def _fsync_dir(directory: Path) -> None:
    """Make the new name itself durable; skipped where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


class S3Storage(Storage):
    """Objects ``<prefix><key>`` in one bucket of S3 or any S3-compatible server (MinIO, Ceph, the clouds' OSS).

    Credentials come from boto3's usual chain (environment, shared files, instance or pod role): never from
    tongban's own settings, so they are not printed with them. Each upload carries its SHA-256, which S3
    verifies before it accepts the object.
    """

    def __init__(self, settings: StorageSettings, spool_dir: Path) -> None:
        from botocore.exceptions import BotoCoreError, ClientError  # boto3 loads only when S3 is used

        self.settings = settings
        self.bucket = settings.bucket or ""
        self.prefix = settings.prefix
        self.spool_dir = spool_dir
        self._errors = (BotoCoreError, ClientError)
        self._client_error = ClientError
        self._clients: dict[int, Any] = {}

    @property
    def client(self) -> Any:
        """One client per process: a connection pool must not cross a fork (gunicorn forks after create_app)."""
        pid = os.getpid()
        if pid not in self._clients:
            import boto3
            from botocore.config import Config

            config = Config(s3={"addressing_style": self.settings.addressing_style}, connect_timeout=5,
                            read_timeout=30, retries={"mode": "standard", "max_attempts": 3})
            self._clients = {pid: boto3.session.Session().client(
                "s3", endpoint_url=self.settings.endpoint_url, region_name=self.settings.region, config=config)}
        return self._clients[pid]

    def _name(self, key: str) -> str:
        return self.prefix + key

    def _absent(self, exc: Exception) -> bool:
        code = exc.response.get("Error", {}).get("Code") if isinstance(exc, self._client_error) else None
        return code in ("404", "NoSuchKey", "NotFound")

    def put(self, key: str, source: Path, sha256: str) -> None:
        with unavailable_on(*self._errors, OSError), source.open("rb") as body:
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=body,
                                   ContentLength=source.stat().st_size,
                                   ChecksumSHA256=base64.b64encode(bytes.fromhex(sha256)).decode("ascii"))

    def open(self, key: str) -> BinaryIO:
        try:
            reply = self.client.get_object(Bucket=self.bucket, Key=self._name(key))
        except self._errors as exc:
            if self._absent(exc):
                raise NotFound("附件内容不存在 (no such stored file)") from None
            log.error("file storage failed: %s", exc, exc_info=True)
            raise StorageUnavailable() from exc
        return io.BufferedReader(_Body(reply["Body"]), READ_BUFFER)  # type: ignore[return-value]

    def stat(self, key: str) -> StoredObject | None:
        try:
            reply = self.client.head_object(Bucket=self.bucket, Key=self._name(key))
        except self._errors as exc:
            if self._absent(exc):
                return None
            log.error("file storage failed: %s", exc, exc_info=True)
            raise StorageUnavailable() from exc
        return StoredObject(key, reply["ContentLength"], reply["LastModified"])

    def delete(self, key: str) -> None:
        with unavailable_on(*self._errors):
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))

    def list(self) -> Iterator[StoredObject]:
        with unavailable_on(*self._errors):
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", []):
                    yield StoredObject(item["Key"][len(self.prefix):], item["Size"], item["LastModified"])


class _Body(io.RawIOBase):
    """boto3's streaming body as a raw file, so downloads read it in pieces straight off the connection."""

    def __init__(self, body: Any) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self._body.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._body.close()
        super().close()

