"""One archive holding what an embedded (SQLite) district needs back after a lost disk: the database, the bytes
every attachment row names, and the secret key of the instance folder.

The order keeps them consistent. Backup: the database first, as one consistent snapshot through SQLite's online
backup API (never a copy of a file in WAL mode that may be mid-write), then the bytes *the snapshot's rows* name,
read from the storage backend (folder or bucket) and checked against their hash on the way. Bytes are written
before their rows, so every row of the snapshot already has its bytes; nothing newer is taken. Restore: the bytes
first, then the key, then the database is moved into place last, so a restore that stops half-way leaves no
database naming bytes that are not there.

The archive holds personal data and the key that signs sessions: it is written readable by its owner only.
PostgreSQL districts use pg_dump/pg_restore and their bucket's or folder's own copies (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import sqlite3
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from alembic.script import ScriptDirectory
from sqlalchemy.engine import make_url

from engine.base.errors import TongbanError
from engine.base.settings import Settings
from engine.store.blobs import CHUNK_BYTES, BlobStore, blob_key
from engine.store.db import Database, alembic_config
from engine.store.storage import storage_for

FORMAT, VERSION = "tongban-backup", 1
MANIFEST, DATABASE, KEY, BLOBS = "manifest.json", "tongban.db", "secret_key", "blobs/"
_BLOB_MEMBER = re.compile(r"blobs/[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})")


class BackupRefused(TongbanError):
    """The backup or restore cannot be done as asked; the message says why and what to do instead."""

    code = "backup_refused"
    status = 409


@dataclass
class Summary:
    """What an archive holds (backup) or what was put back (restore)."""

    path: str
    created_at: str
    schema_revision: str | None
    files: int = 0
    bytes: int = 0
    secret_key: bool = False
    #: bytes a row names that the backend did not have when the backup read them
    missing: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sqlite_path(settings: Settings) -> Path:
    """The database file of the embedded default; on any other database the backup is the DBA's (pg_dump)."""
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise BackupRefused("tongban backup/restore 只用于 SQLite 数据库；PostgreSQL 请用 pg_dump/pg_restore "
                            "(tongban backup and restore are for the embedded SQLite database; on PostgreSQL use "
                            "pg_dump and pg_restore, see docs/operations.md, Backup and restore)")
    return Path(url.database)


def backup(settings: Settings, target: Path) -> Summary:
    """Write the archive to `target` (via a temporary name beside it, so a half-written archive is never there)."""
    source = sqlite_path(settings)
    if not source.is_file():
        raise BackupRefused(f"数据库文件不存在 (no database at {source}: nothing to back up)")
    blobs = BlobStore(storage_for(settings.storage, settings.instance_dir))
    key = settings.instance_dir / KEY
    _not_over_the_instance(target, source, key, settings.instance_dir / "blobs")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tongban-backup-") as work:
        snapshot = Path(work) / DATABASE
        with closing(sqlite3.connect(source)) as live, closing(sqlite3.connect(snapshot)) as copy:
            live.backup(copy)  # one consistent snapshot, whatever the server writes meanwhile
        with closing(sqlite3.connect(snapshot)) as copy:
            revision = _revision(copy)
            named = [(sha256, size) for sha256, size in
                     copy.execute("SELECT sha256, MAX(size) FROM attachments GROUP BY sha256 ORDER BY sha256")]
        summary = Summary(str(target), datetime.now(UTC).isoformat(), revision, secret_key=key.is_file())
        partial = Path(work) / "archive.tar.gz"
        descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out, tarfile.open(fileobj=out, mode="w:gz") as archive:
            archive.add(snapshot, DATABASE)
            for sha256, size in named:
                if _add_blob(archive, blobs, sha256, size):
                    summary.files += 1
                    summary.bytes += size
                else:
                    summary.missing.append(sha256)
            if summary.secret_key:
                archive.add(key, KEY)
            manifest = {"format": FORMAT, "version": VERSION, "database_sha256": _digest(snapshot),
                        **summary.to_dict()}
            _add_bytes(archive, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=2).encode())
        os.replace(partial, target)
    return summary


def _not_over_the_instance(target: Path, database: Path, key: Path, blobs: Path) -> None:
    """An archive written over the live database, its log, the key or into the file store would destroy what it
    was meant to keep."""
    resolved = target.resolve()
    kept = [Path(f"{database}{suffix}").resolve() for suffix in ("", "-wal", "-shm", "-journal")] + [key.resolve()]
    if resolved in kept or resolved.is_relative_to(blobs.resolve()):
        raise BackupRefused(f"备份文件不能写在数据库、密钥或附件目录上 (the backup cannot be written to {target}: that "
                            "is the live database, its log, the secret key or the file store; choose a path outside "
                            "them, ideally on another disk)")


def _revision(conn: sqlite3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def _add_blob(archive: tarfile.TarFile, blobs: BlobStore, sha256: str, size: int) -> bool:
    """Stream one blob into the archive, checking it is what its name says; False if the backend lacks it."""
    found = blobs.stat(sha256)
    if found is None:
        return False
    info = tarfile.TarInfo(BLOBS + blob_key(sha256))
    info.size, info.mtime, info.mode = found.size, int(found.modified.timestamp()), 0o600
    with blobs.open(sha256) as stream:
        checked = _Checked(stream)
        archive.addfile(info, checked)
    if checked.hexdigest() != sha256:
        raise BackupRefused(f"文件内容与其哈希不符 (stored file {sha256} does not match its hash: the storage is "
                            "damaged; restore that file from an earlier backup)")
    return True


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), int(datetime.now(UTC).timestamp()), 0o600
    archive.addfile(info, io.BytesIO(data))


def _digest(path: Path) -> str:
    hasher = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            hasher.update(chunk)
    return hasher.hexdigest()


class _Checked(io.RawIOBase):
    """A stream that hashes what is read through it."""

    def __init__(self, stream: BinaryIO) -> None:
        self._stream = stream
        self._hasher = hashlib.sha256()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        self._hasher.update(data)
        return data

    def hexdigest(self) -> str:
        return self._hasher.hexdigest()


def restore(settings: Settings, source: Path, replace: bool = False) -> Summary:
    """Put an archive back: its bytes into the configured storage, the key, then the database, last.

    An existing database (or key file) is kept unless `replace`; replaced, it is moved aside, never deleted.
    The server must be stopped: a running one would keep writing to the file being replaced.
    """
    target = sqlite_path(settings)
    key = settings.instance_dir / KEY
    try:
        archive = tarfile.open(source, mode="r:*")  # noqa: SIM115 - closed by the `with` below, once it is readable
    except (OSError, tarfile.TarError) as exc:
        raise BackupRefused(f"无法读取备份文件 (cannot read the backup {source}: {exc})") from None
    with archive, _damaged_as_refusal(source):
        manifest = _manifest(archive)
        _known_revision(settings, manifest.get("schema_revision"))
        present = [p for p in (target, key) if p.exists() and (p is target or KEY in archive.getnames())]
        if present and not replace:
            raise BackupRefused(f"{'、'.join(map(str, present))} 已存在；确认覆盖请加 --replace (already there; stop "
                                "the server and add --replace to move it aside and restore over it)")
        summary = Summary(str(source), manifest.get("created_at", ""), manifest.get("schema_revision"))
        blobs = BlobStore(storage_for(settings.storage, settings.instance_dir))
        settings.instance_dir.mkdir(parents=True, exist_ok=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=target.parent, prefix=".tongban-restore-") as work:
            database, new_key = Path(work) / DATABASE, Path(work) / KEY
            for member in archive:
                if (match := _BLOB_MEMBER.fullmatch(member.name)) and member.isfile():
                    summary.bytes += _restore_blob(archive, member, match.group(1), blobs)
                    summary.files += 1
                elif member.name in (DATABASE, KEY) and member.isfile():
                    _extract(archive, member, Path(work) / member.name)
            if not database.is_file() or _digest(database) != manifest.get("database_sha256"):
                raise BackupRefused("备份中的数据库缺失或已损坏 (the archive's database is missing or damaged)")
            if new_key.is_file():
                summary.secret_key = True
                _aside(key)
                os.replace(new_key, key)
            for suffix in ("", "-wal", "-shm"):
                _aside(Path(f"{target}{suffix}"))
            os.replace(database, target)
    restored = Database(settings.database_url)
    try:
        restored.upgrade()  # an archive of an older release is brought up to this one
    finally:
        restored.dispose()
    return summary


@contextmanager
def _damaged_as_refusal(source: Path) -> Iterator[None]:
    """A truncated or corrupt archive shows only while it is read: a message, not a traceback."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error) as exc:
        raise BackupRefused(f"备份文件不完整或已损坏 (the backup {source} is truncated or damaged: {exc})") from None


def _manifest(archive: tarfile.TarFile) -> dict[str, Any]:
    try:
        member = archive.getmember(MANIFEST)
        handle = archive.extractfile(member)
        manifest = json.loads(handle.read(1024 * 1024)) if handle else None
    except (KeyError, ValueError, tarfile.TarError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupRefused("不是 tongban 备份文件 (not a tongban backup: no manifest.json of format tongban-backup)")
    if manifest.get("version") != VERSION:
        raise BackupRefused(f"备份格式版本 {manifest.get('version')!r} 不受支持 (backup format version "
                            f"{manifest.get('version')!r} is not supported; this tongban reads version {VERSION})")
    fields = {"schema_revision": (str, type(None)), "database_sha256": str, "created_at": str}
    if any(not isinstance(manifest.get(name), kinds) for name, kinds in fields.items()):
        raise BackupRefused("备份清单已损坏 (the backup's manifest.json is damaged: schema_revision, database_sha256 "
                            "and created_at must be text)")
    return manifest


def _known_revision(settings: Settings, revision: Any) -> None:
    """An archive from a newer release names a schema this code cannot run on: refused before anything is touched."""
    database = Database(settings.database_url)
    try:
        known = {script.revision for script in ScriptDirectory.from_config(alembic_config(database)).walk_revisions()}
    finally:
        database.dispose()
    if revision not in known:
        raise BackupRefused(f"备份的数据库结构 {revision!r} 比本程序新 (the archive's schema {revision!r} is unknown "
                            "to this tongban: install the release that made the backup, then restore)")


def _restore_blob(archive: tarfile.TarFile, member: tarfile.TarInfo, sha256: str, blobs: BlobStore) -> int:
    """Into the storage backend, through the spool: the bytes must be what their name says."""
    blobs.storage.spool_dir.mkdir(parents=True, exist_ok=True)
    with _spooled(blobs.storage.spool_dir) as temp:
        _extract(archive, member, temp)
        if _digest(temp) != sha256:
            raise BackupRefused(f"备份中的文件 {sha256} 已损坏 (file {sha256} in the archive does not match its hash)")
        blobs.storage.put(blob_key(sha256), temp, sha256)
    return member.size


@contextmanager
def _spooled(directory: Path) -> Iterator[Path]:
    fd, name = tempfile.mkstemp(dir=directory, prefix=".restore-", suffix=".part")
    os.close(fd)
    try:
        yield Path(name)
    finally:
        Path(name).unlink(missing_ok=True)


def _extract(archive: tarfile.TarFile, member: tarfile.TarInfo, to: Path) -> Path:
    """Copy one regular member's bytes to `to` (owner-only); never `extractall`, so no name in the archive is a path."""
    source = archive.extractfile(member)
    if source is None:
        raise BackupRefused(f"备份中的 {member.name} 不是文件 (archive member {member.name} is not a file)")
    descriptor = os.open(to, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out, source:
        while chunk := source.read(CHUNK_BYTES):
            out.write(chunk)
        out.flush()
        os.fsync(out.fileno())
    return to


def _aside(path: Path) -> None:
    """Keep what a restore replaces, beside it, with the time of the restore in its name."""
    if path.exists():
        path.rename(path.with_name(f"{path.name}.before-restore-{datetime.now(UTC):%Y%m%dT%H%M%SZ}"))
