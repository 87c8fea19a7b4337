"""Content-addressed storage for uploaded attachments (consent sheets, floor plans, ID scans).

Bytes are kept by a storage backend (`engine.store.storage`: the instance folder's ``blobs/`` or an S3 bucket)
under ``ab/cd/<sha256>``: the key is the hash of the content, so it says nothing about the case or the
uploader, identical uploads are kept once, and nothing here checks access — callers reach a blob
only through `engine.case.attachments`, which checks the case first. Uploads are bounded while they stream and
their type is sniffed from the content: the client's file name and declared type are never trusted.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import tempfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from engine.base.errors import NotFound, TongbanError
from engine.store.storage import Storage, StoredObject, unavailable_on

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CHUNK_BYTES = 64 * 1024
SNIFF_BYTES = 8192  # filetype never looks further than this into a file
MAX_NAME_BYTES = 255  # fits the `attachments.filename` column and common file-system limits on download

PDF = "application/pdf"
PNG = "image/png"
JPEG = "image/jpeg"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCM = "application/vnd.ms-word.document.macroEnabled.12"
XLSM = "application/vnd.ms-excel.sheet.macroEnabled.12"
OFD = "application/ofd"  # GB/T 33190; no IANA registration, this is the name Chinese readers use
ZIP = "application/zip"
EMPTY = "application/x-empty"
UNKNOWN = "application/octet-stream"

# Types a store may be told to accept, with the label users see in error messages.
LABELS = {PDF: "PDF", PNG: "PNG", JPEG: "JPEG", DOCX: "DOCX", XLSX: "XLSX", OFD: "OFD"}
EXTENSIONS = {PDF: ".pdf", PNG: ".png", JPEG: ".jpg", DOCX: ".docx", XLSX: ".xlsx", OFD: ".ofd"}
# OFD is detectable but off by default: see `_ofd_type`.
DEFAULT_ALLOWED = frozenset({PDF, PNG, JPEG, DOCX, XLSX})

_SHA256 = re.compile(r"[0-9a-f]{64}")
_KEY = re.compile(r"[0-9a-f]{2}/[0-9a-f]{2}/([0-9a-f]{64})")
_OFD_NAMESPACE = b"http://www.ofdspec.org/2016"
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')
_EXTENSION = re.compile(r"[A-Za-z0-9]{1,16}")
_CONTAINER_ERRORS = (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError, NotImplementedError,
                     zlib.error)


class UploadTooLarge(TongbanError):
    """The upload passed the store's size limit; refused while streaming, before the rest is read."""

    code = "upload_too_large"
    status = 413

    def __init__(self, limit: int) -> None:
        size = _describe_size(limit)
        super().__init__(f"上传文件超过大小上限 {size} (upload exceeds the {size} limit)")
        self.limit = limit


class UnsupportedUploadType(TongbanError):
    """The content is not of an allowed type, whatever name or type the client claimed."""

    code = "unsupported_media_type"
    status = 415

    def __init__(self, detected: str, allowed: Iterable[str]) -> None:
        accepted = set(allowed)
        labels = [label for kind, label in LABELS.items() if kind in accepted]
        super().__init__(f"不支持的文件类型 {detected}，仅接受 {'、'.join(labels)} "
                         f"(unsupported file type {detected}; allowed: {', '.join(labels)})")
        self.detected = detected
        self.allowed = labels


@dataclass(frozen=True)
class StoredBlob:
    """What was stored: the content's hash and size, its sniffed type, and a display name safe to show."""

    sha256: str
    size: int
    content_type: str
    filename: str


class BlobStore:
    """Uploads checked, then stored in `storage` under their SHA-256; the backend only keeps the bytes."""

    def __init__(self, storage: Storage, max_bytes: int = DEFAULT_MAX_BYTES,
                 allowed_types: Iterable[str] = DEFAULT_ALLOWED) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        allowed = frozenset(allowed_types)
        if not allowed <= LABELS.keys():
            raise ValueError(f"cannot sniff {sorted(allowed - LABELS.keys())}; known: {sorted(LABELS)}")
        self.storage = storage
        self.max_bytes = max_bytes
        self.allowed_types = allowed

    @contextlib.contextmanager
    def storing(self, stream: BinaryIO, declared_name: str, declared_type: str | None) -> Iterator[StoredBlob]:
        """Spool, sniff, check and store the bytes, then let the caller write the row that names them.

        Bytes first, row second: a committed row always has its bytes, and a crash in between leaves only
        unnamed bytes, which the retention job removes. Once the caller's row is written the bytes are looked
        at again and put back from the spool if an orphan sweep took them meanwhile (it saw them unnamed
        just before the row committed). The spool file is removed however it ends.
        """
        temp, sha256, size, head = self._spool(stream)
        try:
            content_type = sniff(head, temp)
            if content_type not in self.allowed_types:
                raise UnsupportedUploadType(content_type, self.allowed_types)
            key = blob_key(sha256)
            self.storage.put(key, temp, sha256)
            _note_mismatch(declared_type, content_type, sha256)
            yield StoredBlob(sha256, size, content_type, sanitise_filename(declared_name, content_type))
            if not self.storage.exists(key):
                log.warning("blob %s vanished before its row was committed; stored again", sha256)
                self.storage.put(key, temp, sha256)
        finally:
            temp.unlink(missing_ok=True)

    def put(self, stream: BinaryIO, declared_name: str, declared_type: str | None) -> StoredBlob:
        """Check and store, with no row to write; the same content twice is stored once."""
        with self.storing(stream, declared_name, declared_type) as stored:
            return stored

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes as a stream; a malformed or unknown hash is NotFound before the backend is asked."""
        key = blob_key(sha256)
        return self.storage.open(key)

    def stat(self, sha256: str) -> StoredObject | None:
        key = blob_key(sha256)
        return self.storage.stat(key)

    def delete(self, sha256: str) -> None:
        key = blob_key(sha256)
        self.storage.delete(key)

    def stored(self) -> Iterator[tuple[str, StoredObject]]:
        """(hash, object) for every blob in the backend; keys that name no blob are never reported."""
        for found in self.storage.list():
            match = _KEY.fullmatch(found.key)
            if match:
                yield match.group(1), found

    def _spool(self, stream: BinaryIO) -> tuple[Path, str, int, bytes]:
        """Copy into the backend's spool folder (beside the blobs on disk, so placing one is a link)."""
        with unavailable_on(OSError):  # a spool that cannot be written is the server's failure, not the upload's
            self.storage.spool_dir.mkdir(parents=True, exist_ok=True)
            fd, name = tempfile.mkstemp(dir=self.storage.spool_dir, prefix=".upload-", suffix=".part")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size, head = _copy_bounded(stream, out, self.max_bytes)
                with unavailable_on(OSError):
                    out.flush()
                    os.fsync(out.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp, sha256, size, head


def blob_key(sha256: str) -> str:
    """Only 64 lowercase hex digits name a blob, so no input can reach any other key (or step outside a folder)."""
    if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
        raise _missing()
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _copy_bounded(stream: BinaryIO, out: BinaryIO, limit: int) -> tuple[str, int, bytes]:
    """Hash and count while copying, never asking for more than one byte past the limit."""
    hasher = hashlib.sha256()
    size = 0
    head = bytearray()
    while chunk := stream.read(min(CHUNK_BYTES, limit + 1 - size)):
        size += len(chunk)
        if size > limit:
            raise UploadTooLarge(limit)
        hasher.update(chunk)
        with unavailable_on(OSError):  # the disk is full; a client going away fails the read above instead
            out.write(chunk)
        if len(head) < SNIFF_BYTES:
            head += chunk[:SNIFF_BYTES - len(head)]
    return hasher.hexdigest(), size, bytes(head)


def sniff(head: bytes, path: Path) -> str:
    """The content's real type: magic numbers from `filetype`, ZIP containers opened and looked into."""
    if not head:
        return EMPTY
    if head.startswith(b"PK"):
        return _container_type(path)
    kind = filetype.guess(head)
    return kind.mime if kind else UNKNOWN


def _container_type(path: Path) -> str:
    """Office files and OFD are ZIPs; only their entries tell them from any other archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            return _ooxml_type(names) or _ofd_type(archive, names) or ZIP
    except _CONTAINER_ERRORS:
        return ZIP


def _ooxml_type(names: list[str]) -> str | None:
    """DOCX/XLSX need `[Content_Types].xml` and exactly one of `word/` or `xl/`; VBA macros make them another type."""
    lowered = {name.lower() for name in names}  # OPC part names are case-insensitive
    if "[content_types].xml" not in lowered:
        return None
    word = any(name.startswith("word/") for name in lowered)
    excel = any(name.startswith("xl/") for name in lowered)
    if word == excel:
        return None
    macros = any(name.endswith("vbaproject.bin") for name in lowered)
    if word:
        return DOCM if macros else DOCX
    return XLSM if macros else XLSX


def _ofd_type(archive: zipfile.ZipFile, names: list[str]) -> str | None:
    """OFD: an `OFD.xml` entry at the root whose start names the OFD namespace.

    Checked against the structure in GB/T 33190 only, not against files from real producers, so OFD is
    not in `DEFAULT_ALLOWED`; a store has to opt in.
    """
    if "OFD.xml" not in names:
        return None
    with archive.open("OFD.xml") as entry:
        start = entry.read(4096)
    return OFD if _OFD_NAMESPACE in start else None


def sanitise_filename(name: str | None, content_type: str) -> str:
    """A display name only (never a path): no directories, control or format characters, bounded length, and
    the extension of the sniffed type (`with_extension`)."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029")
    text = re.split(r"[\\/]", text)[-1]  # both POSIX and Windows clients send paths
    text = _UNSAFE_NAME_CHARS.sub("_", " ".join(text.split())).strip(" .")
    extension = EXTENSIONS.get(content_type, ".bin")
    return with_extension(_truncate(_stem(text), MAX_NAME_BYTES - len(extension)) or "附件", content_type)


def _stem(name: str) -> str:
    """The name without the extension the client gave it (`plan.pdf.html` → `plan.pdf`: only the last one
    counts for a browser or a file manager, and it is replaced)."""
    stem, dot, extension = name.rpartition(".")
    return stem.rstrip(" .") if dot and stem and _EXTENSION.fullmatch(extension) else name


def with_extension(name: str, content_type: str) -> str:
    """`name` ending in the extension of its sniffed type: what a download is saved as and opened with is the
    type the content is, never the one the uploader's name claimed (a PDF/HTML polyglot named `.html` would
    open in a browser as a page of this site)."""
    extension = EXTENSIONS.get(content_type, ".bin")
    stem = _stem(name)
    return stem if stem.lower().endswith(extension) else stem + extension


def _truncate(name: str, limit: int) -> str:
    """Cut to `limit` UTF-8 bytes on a character boundary, keeping a short extension."""
    if len(name.encode()) <= limit:
        return name
    stem, dot, extension = name.rpartition(".")
    suffix = dot + extension if stem and len(extension.encode()) <= 16 else ""
    base = stem if suffix else name
    cut = base.encode()[:limit - len(suffix.encode())].decode("utf-8", "ignore").rstrip(" .")
    return cut + suffix if cut else ""


def _note_mismatch(declared_type: str | None, content_type: str, sha256: str) -> None:
    """The sniffed type is what is stored; a different claim from the client is only logged."""
    declared = (declared_type or "").split(";")[0].strip().lower()
    if declared and declared not in (content_type, UNKNOWN):
        log.info("upload %s declared as %s but sniffed and stored as %s", sha256, declared, content_type)


def _describe_size(size: int) -> str:
    for unit, factor in (("MiB", 1024 * 1024), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _missing() -> NotFound:
    return NotFound("附件内容不存在 (no such stored file)")
