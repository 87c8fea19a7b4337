"""Content-addressed storage for uploaded attachments (consent sheets, floor plans, ID scans).

Bytes live under ``blobs/ab/cd/<sha256>``: the path is the hash of the content, so it says nothing about the
case or the uploader, identical uploads are kept once, and nothing here checks access — callers reach a blob
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
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import filetype

from engine.base.errors import NotFound, TongbanError

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
_OFD_NAMESPACE = b"http://www.ofdspec.org/2016"
_UNSAFE_NAME_CHARS = re.compile(r'[<>:"|?*]')
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
    """Files under `root` (the instance folder's ``blobs/``), named by the SHA-256 of their content."""

    def __init__(self, root: Path | str, max_bytes: int = DEFAULT_MAX_BYTES,
                 allowed_types: Iterable[str] = DEFAULT_ALLOWED) -> None:
        if max_bytes <= 0:
            raise ValueError("max_bytes must be positive")
        allowed = frozenset(allowed_types)
        if not allowed <= LABELS.keys():
            raise ValueError(f"cannot sniff {sorted(allowed - LABELS.keys())}; known: {sorted(LABELS)}")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.allowed_types = allowed

    def put(self, stream: BinaryIO, declared_name: str, declared_type: str | None) -> StoredBlob:
        """Stream to a temp file, sniff, check, then rename into place; the same content twice is stored once."""
        temp, sha256, size, head = self._spool(stream)
        try:
            content_type = sniff(head, temp)
            if content_type not in self.allowed_types:
                raise UnsupportedUploadType(content_type, self.allowed_types)
            self._commit(temp, sha256)
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        _note_mismatch(declared_type, content_type, sha256)
        return StoredBlob(sha256, size, content_type, sanitise_filename(declared_name, content_type))

    def open(self, sha256: str) -> BinaryIO:
        """The stored bytes; a malformed or unknown hash is NotFound before any file is touched."""
        try:
            return self._location(sha256).open("rb")
        except FileNotFoundError:
            raise _missing() from None

    def path(self, sha256: str) -> Path:
        """Where the blob lives on disk (for sending it with the server's file helpers); NotFound if absent."""
        location = self._location(sha256)
        if not location.is_file():
            raise _missing()
        return location

    def _location(self, sha256: str) -> Path:
        """Only 64 lowercase hex digits name a blob, so no input can step outside `root`."""
        if not isinstance(sha256, str) or not _SHA256.fullmatch(sha256):
            raise _missing()
        return self.root / sha256[:2] / sha256[2:4] / sha256

    def _spool(self, stream: BinaryIO) -> tuple[Path, str, int, bytes]:
        """Copy into a temp file beside the blobs (so the final rename is atomic); removed on any failure."""
        self.root.mkdir(parents=True, exist_ok=True)
        fd, name = tempfile.mkstemp(dir=self.root, prefix=".upload-", suffix=".part")
        temp = Path(name)
        try:
            with os.fdopen(fd, "wb") as out:
                sha256, size, head = _copy_bounded(stream, out, self.max_bytes)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            temp.unlink(missing_ok=True)
            raise
        return temp, sha256, size, head

    def _commit(self, temp: Path, sha256: str) -> None:
        """Rename into place; if the content is already stored, the copy just made is dropped."""
        target = self._location(sha256)
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            temp.unlink()
            return
        os.replace(temp, target)
        _fsync_dir(target.parent)


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
    """A display name only (never a path): no directories, control or format characters, bounded length."""
    text = unicodedata.normalize("NFC", name or "")
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C" and ch not in "\u2028\u2029")
    text = re.split(r"[\\/]", text)[-1]  # both POSIX and Windows clients send paths
    text = _UNSAFE_NAME_CHARS.sub("_", " ".join(text.split())).strip(" .")
    return _truncate(text, MAX_NAME_BYTES) or "附件" + EXTENSIONS.get(content_type, "")


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


def _fsync_dir(directory: Path) -> None:
    """Make the rename itself durable; skipped where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def _missing() -> NotFound:
    return NotFound("附件内容不存在 (no such stored file)")
