"""The blob store: size and type limits checked on the content, content addressing, safe names and ids."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.base.errors import NotFound, TongbanError
from engine.base.settings import StorageSettings
from engine.store.blobs import (
    DEFAULT_MAX_BYTES,
    DOCX,
    JPEG,
    MAX_NAME_BYTES,
    OFD,
    PDF,
    PNG,
    XLSX,
    BlobStore,
    UnsupportedUploadType,
    UploadTooLarge,
    sanitise_filename,
)
from engine.store.storage import LocalStorage, Storage, storage_for

# --- real small files, built here -------------------------------------------------------------------------


def pdf_bytes(text: str = "hello") -> bytes:
    """A minimal but well-formed PDF: header, three objects, a correct xref table and trailer."""
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>",
               b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Title ({text}) >>".encode()]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def png_bytes() -> bytes:
    """A valid 1×1 greyscale PNG."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    """SOI, a JFIF APP0 segment and EOI: the header every JPEG from a scanner starts with."""
    return b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"


def zip_bytes(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


CONTENT_TYPES = '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>'


def docx_bytes() -> bytes:
    return zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": "<Relationships/>",
                      "word/document.xml": "<w:document/>"})


def xlsx_bytes() -> bytes:
    return zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "_rels/.rels": "<Relationships/>",
                      "xl/workbook.xml": "<workbook/>"})


def ofd_bytes() -> bytes:
    return zip_bytes({"OFD.xml": '<?xml version="1.0"?><ofd:OFD xmlns:ofd="http://www.ofdspec.org/2016" '
                                 'Version="1.0"><ofd:DocBody/></ofd:OFD>',
                      "Doc_0/Document.xml": "<ofd:Document/>"})


HTML = b"<!DOCTYPE html><html><body><script>fetch('/api/me')</script></body></html>"
SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b"<script>alert(document.cookie)</script></svg>")
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
WINDOWS_EXE = b"MZ\x90\x00" + b"\x00" * 60


# --- helpers ----------------------------------------------------------------------------------------------


class CountingStream(io.RawIOBase):
    """A stream fed by a generator, counting what it pulled from the generator and what it handed out."""

    def __init__(self, pieces: Iterator[bytes]) -> None:
        self._pieces = pieces
        self._buffer = b""
        self.produced = 0
        self.handed_out = 0

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while size != 0 and len(self._buffer) < max(size, 1):
            piece = next(self._pieces, None)
            if piece is None:
                break
            self.produced += len(piece)
            self._buffer += piece
        taken = self._buffer if size < 0 else self._buffer[:size]
        self._buffer = self._buffer[len(taken):]
        self.handed_out += len(taken)
        return taken


def endless(piece_size: int = 1000, total: int = 50 * 1024 * 1024) -> Iterator[bytes]:
    """A PDF header followed by far more data than any test limit: the store must stop early."""
    yield b"%PDF-1.4\n"
    for _ in range(total // piece_size):
        yield b"0" * piece_size


def contents(store: BlobStore) -> list[str]:
    """Every key the backend holds, and every file left in the spool (named `spool/…`)."""
    spool = store.storage.spool_dir
    spooled = [f"spool/{p.name}" for p in spool.iterdir()] if spool.exists() else []
    return sorted([found.key for found in store.storage.list()] + spooled)


def key(data: bytes) -> str:
    digest = hashlib.sha256(data).hexdigest()
    return f"{digest[:2]}/{digest[2:4]}/{digest}"


@pytest.fixture
def storage(storage_backend: StorageSettings, tmp_path: Path) -> Storage:
    """Every test here runs on the instance folder's blobs/ and on a bucket of moto's S3 server."""
    return storage_for(storage_backend, tmp_path / "instance")


@pytest.fixture
def store(storage: Storage) -> BlobStore:
    return BlobStore(storage)


def put(store: BlobStore, data: bytes, name: str = "file.pdf", declared: str | None = "application/pdf"):
    return store.put(io.BytesIO(data), name, declared)


# --- types: accepted by content ---------------------------------------------------------------------------


@pytest.mark.parametrize(("data", "name", "declared", "expected"), [
    (pdf_bytes(), "同意书.pdf", "application/pdf", PDF),
    (png_bytes(), "平面图.png", "image/png", PNG),
    (jpeg_bytes(), "身份证.jpg", "image/jpeg", JPEG),
    (docx_bytes(), "申请书.docx", DOCX, DOCX),
    (xlsx_bytes(), "人员名单.xlsx", XLSX, XLSX),
    (docx_bytes(), "no-extension.docx", None, DOCX),
], ids=["pdf", "png", "jpeg", "docx", "xlsx", "docx-undeclared"])
def test_allowed_content_is_stored_under_its_hash(store: BlobStore, data: bytes, name: str,
                                                  declared: str | None, expected: str) -> None:
    stored = put(store, data, name, declared)
    digest = hashlib.sha256(data).hexdigest()
    assert (stored.sha256, stored.size, stored.content_type, stored.filename) == (digest, len(data), expected, name)
    assert contents(store) == [key(data)]  # the spool is empty again
    with store.open(digest) as handle:
        assert handle.read() == data
    assert store.stat(digest).size == len(data)


def test_the_local_folder_keeps_its_layout(tmp_path: Path) -> None:
    """blobs/ab/cd/<sha256>, as before the backends: existing instances keep their files, and the same keys under
    a bucket's prefix are what `aws s3 sync instance/blobs s3://bucket/prefix` makes of the folder."""
    data = pdf_bytes()
    stored = put(BlobStore(LocalStorage(tmp_path / "blobs")), data)
    on_disk = [p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()]
    assert on_disk == [f"blobs/{key(data)}"] and stored.sha256 in on_disk[0]


def test_sniffed_type_wins_over_declared_type(store: BlobStore) -> None:
    """A PNG sent as 'scan.pdf' with application/pdf is accepted, but stored as what it is."""
    stored = put(store, png_bytes(), "scan.pdf", "application/pdf")
    assert stored.content_type == PNG


def test_declared_type_may_be_missing_or_generic(store: BlobStore) -> None:
    assert put(store, jpeg_bytes(), "a.jpg", "application/octet-stream").content_type == JPEG
    assert put(store, pdf_bytes("x"), "a.pdf", None).content_type == PDF


# --- types: refused by content, whatever the client claims ------------------------------------------------


@pytest.mark.parametrize(("data", "name", "declared", "detected"), [
    (HTML, "同意书.pdf", "application/pdf", "application/octet-stream"),
    (SVG, "logo.svg", "image/svg+xml", "application/octet-stream"),
    (SVG, "logo.png", "image/png", "application/octet-stream"),
    (ELF, "scan.pdf", "application/pdf", "application/x-executable"),
    (WINDOWS_EXE, "申请书.docx", DOCX, "application/x-msdownload"),
    (b"", "empty.pdf", "application/pdf", "application/x-empty"),
    (zip_bytes({"a.txt": "plain archive"}), "材料.docx", DOCX, "application/zip"),
    (zip_bytes({"word/document.xml": "<w/>"}), "no-content-types.docx", DOCX, "application/zip"),
    (zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": "<w/>", "xl/workbook.xml": "<x/>"}),
     "both.docx", DOCX, "application/zip"),
    (zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "ppt/presentation.xml": "<p/>"}), "deck.pptx", None,
     "application/zip"),
    (zip_bytes({"[Content_Types].xml": CONTENT_TYPES, "word/document.xml": "<w/>", "word/vbaProject.bin": "x"}),
     "macro.docx", DOCX, "application/vnd.ms-word.document.macroEnabled.12"),
    (b"PK\x03\x04 not really a zip", "broken.docx", DOCX, "application/zip"),
    (ofd_bytes(), "电子证照.ofd", "application/ofd", OFD),
], ids=["html-as-pdf", "svg", "svg-as-png", "elf-as-pdf", "exe-as-docx", "empty", "plain-zip", "zip-word-only",
        "word-and-excel", "pptx", "docm", "broken-zip", "ofd-by-default"])
def test_refused_content_leaves_nothing_behind(store: BlobStore, data: bytes, name: str,
                                               declared: str | None, detected: str) -> None:
    with pytest.raises(UnsupportedUploadType) as refused:
        put(store, data, name, declared)
    error = refused.value
    assert isinstance(error, TongbanError)
    assert (error.status, error.code, error.detected) == (415, "unsupported_media_type", detected)
    assert detected in error.message and "PDF、PNG、JPEG、DOCX、XLSX" in error.message
    assert "allowed: PDF, PNG, JPEG, DOCX, XLSX" in error.message
    assert contents(store) == []


def test_ofd_only_when_the_store_opts_in(storage: Storage) -> None:
    store = BlobStore(storage, allowed_types={PDF, OFD})
    assert put(store, ofd_bytes(), "电子证照.ofd", None).content_type == OFD
    with pytest.raises(UnsupportedUploadType):  # a ZIP with OFD.xml but not the OFD namespace is not OFD
        put(store, zip_bytes({"OFD.xml": "<html/>"}), "fake.ofd", None)
    with pytest.raises(UnsupportedUploadType):
        put(store, png_bytes(), "scan.png", None)


def test_store_refuses_types_it_cannot_sniff(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot sniff"):
        BlobStore(LocalStorage(tmp_path), allowed_types={PDF, "text/html"})
    with pytest.raises(ValueError):
        BlobStore(LocalStorage(tmp_path), max_bytes=0)


# --- size ---------------------------------------------------------------------------------------------------


def test_default_limit_is_20_mib(store: BlobStore) -> None:
    assert store.max_bytes == DEFAULT_MAX_BYTES == 20 * 1024 * 1024


def test_oversize_upload_is_refused_without_reading_the_stream(store: BlobStore) -> None:
    limit = 100 * 1024
    stream = CountingStream(endless())
    with pytest.raises(UploadTooLarge) as refused:
        BlobStore(store.storage, max_bytes=limit).put(stream, "大文件.pdf", "application/pdf")  # type: ignore[arg-type]
    assert stream.handed_out == limit + 1  # one byte past the limit proves it, and no more is asked for
    assert stream.produced <= limit + 1000  # the generator was not drained: at most one piece past the limit
    error = refused.value
    assert (error.status, error.code, error.limit) == (413, "upload_too_large", limit)
    assert error.message == "上传文件超过大小上限 100 KiB (upload exceeds the 100 KiB limit)"
    assert contents(store) == []


def test_default_limit_message_names_20_mib(store: BlobStore) -> None:
    stream = CountingStream(endless(piece_size=64 * 1024, total=30 * 1024 * 1024))
    with pytest.raises(UploadTooLarge, match="20 MiB"):
        store.put(stream, "big.pdf", None)  # type: ignore[arg-type]
    assert stream.produced <= DEFAULT_MAX_BYTES + 64 * 1024


def test_exactly_the_limit_is_accepted(storage: Storage) -> None:
    data = pdf_bytes()
    assert BlobStore(storage, max_bytes=len(data)).put(io.BytesIO(data), "a.pdf", None).size == len(data)
    with pytest.raises(UploadTooLarge, match=f"{len(data) - 1} bytes"):
        BlobStore(storage, max_bytes=len(data) - 1).put(io.BytesIO(data), "a.pdf", None)


def test_short_reads_are_fine(store: BlobStore) -> None:
    """Network streams hand out a few bytes at a time; content and hash must not depend on it."""
    data = pdf_bytes() + b"0" * 200_000
    stream = CountingStream(iter([data[i:i + 7] for i in range(0, len(data), 7)]))
    stored = store.put(stream, "a.pdf", None)  # type: ignore[arg-type]
    assert (stored.sha256, stored.size) == (hashlib.sha256(data).hexdigest(), len(data))


def test_stream_failure_midway_leaves_nothing_behind(store: BlobStore) -> None:
    def broken() -> Iterator[bytes]:
        yield b"%PDF-1.4\n" + b"0" * 100_000
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        store.put(CountingStream(broken()), "a.pdf", None)  # type: ignore[arg-type]
    assert contents(store) == []


# --- content addressing -----------------------------------------------------------------------------------


def test_same_content_twice_is_stored_once(store: BlobStore) -> None:
    data = pdf_bytes()
    first = put(store, data, "同意书.pdf")
    second = put(store, data, "copy of 同意书.pdf", None)
    assert first.sha256 == second.sha256
    assert (first.filename, second.filename) == ("同意书.pdf", "copy of 同意书.pdf")
    assert contents(store) == [key(data)]


def test_different_content_gets_its_own_file(store: BlobStore) -> None:
    one, two = put(store, pdf_bytes("one")), put(store, pdf_bytes("two"))
    assert one.sha256 != two.sha256
    assert contents(store) == sorted([key(pdf_bytes("one")), key(pdf_bytes("two"))])


# --- display names ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("name", "expected"), [
    ("同意书.pdf", "同意书.pdf"),
    ("../../etc/passwd", "passwd.pdf"),  # the extension is always the sniffed type's
    ("C:\\Users\\张三\\Desktop\\营业执照.pdf", "营业执照.pdf"),
    ("/var/www/html/index.pdf", "index.pdf"),
    ("evil\x00.pdf", "evil.pdf"),
    ("line\r\nbreak.pdf", "linebreak.pdf"),
    ("invoice\u202efdp.exe", "invoicefdp.pdf"),  # right-to-left override would show 'invoiceexe.pdf'
    ("  spaced\t  out  .pdf ", "spaced out.pdf"),
    ('a<b>:c"d|e?f*.pdf', "a_b__c_d_e_f_.pdf"),
    (".hidden.pdf", "hidden.pdf"),
    ("..", "附件.pdf"),
    ("", "附件.pdf"),
    ("\x00\x01", "附件.pdf"),
], ids=["chinese", "traversal", "windows-path", "absolute", "nul", "crlf", "rtl-override", "whitespace",
        "windows-reserved", "leading-dot", "dotdot", "empty", "only-controls"])
def test_display_names_are_sanitised(store: BlobStore, name: str, expected: str) -> None:
    assert put(store, pdf_bytes(), name).filename == expected


def test_long_names_are_cut_keeping_the_extension(store: BlobStore) -> None:
    long_ascii = put(store, pdf_bytes(), "a" * 500 + ".pdf").filename
    assert long_ascii == "a" * (MAX_NAME_BYTES - 4) + ".pdf"
    long_chinese = put(store, pdf_bytes(), "同意书" * 200 + ".pdf").filename
    assert long_chinese.endswith(".pdf") and long_chinese.startswith("同意书")
    assert len(long_chinese.encode()) <= MAX_NAME_BYTES  # cut on a character boundary, never mid-character
    assert len(sanitise_filename("x" * 600, PDF)) == MAX_NAME_BYTES


def test_empty_name_falls_back_to_the_sniffed_extension() -> None:
    assert sanitise_filename(None, PNG) == "附件.png"
    assert sanitise_filename("../", DOCX) == "附件.docx"


# --- reading back: ids are validated before anything is touched -------------------------------------------


BAD_IDS = ["../x", "../" + "a" * 61, "A" * 64, "a" * 63, "a" * 65, "a" * 64 + "\n", "", "g" * 64,
           "/etc/passwd", "../../etc/passwd", "ab/cd/" + "a" * 58, "ＡＢ" * 32, None, 12]


class Untouchable:
    """A backend that fails any test that reaches it."""

    def __getattr__(self, name: str) -> object:
        raise AssertionError(f"the backend was asked ({name}) for a malformed id")


@pytest.mark.parametrize("bad", BAD_IDS)
def test_malformed_ids_are_not_found_without_touching_the_backend(store: BlobStore, monkeypatch: pytest.MonkeyPatch,
                                                                  bad: object) -> None:
    monkeypatch.setattr(store, "storage", Untouchable())
    for method in (store.open, store.stat, store.delete):
        with pytest.raises(NotFound):
            method(bad)  # type: ignore[arg-type]


def test_unknown_but_well_formed_id_is_not_found(store: BlobStore) -> None:
    missing = hashlib.sha256(b"never stored").hexdigest()
    with pytest.raises(NotFound) as not_found:
        store.open(missing)
    assert not_found.value.status == 404 and missing not in not_found.value.message
    assert store.stat(missing) is None
    store.delete(missing)  # deleting what is not there is no error


@pytest.mark.parametrize(("name", "expected"), [
    ("consent.html", "consent.pdf"), ("consent.pdf.html", "consent.pdf"), ("plan.PDF", "plan.pdf"),
    ("report", "report.pdf"), ("申请书.htm", "申请书.pdf"), ("a.svg", "a.pdf"), ("v1.2 final", "v1.2 final.pdf")])
def test_the_stored_extension_is_the_sniffed_types(store: BlobStore, name: str, expected: str) -> None:
    polyglot = pdf_bytes() + b"<html><script>alert(1)</script></html>"
    assert put(store, polyglot, name).filename == expected


def test_a_download_name_gets_the_sniffed_extension_whatever_was_stored() -> None:
    from engine.store.blobs import with_extension

    assert with_extension("old upload.html", PDF) == "old upload.pdf"
    assert with_extension("scan.jpeg", PNG) == "scan.png"
