"""The retention job, on both storage backends: expired tokens, stale drafts and orphan bytes go, each only past
its limit (one second before it stays); a case's files, documents and history never go."""

from __future__ import annotations

import hashlib
import io
import json
import os
import time
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from engine.background import jobs, retention
from engine.base import clock
from engine.base.clock import now
from engine.case import documents
from engine.case.attachments import add_attachment, add_draft
from engine.cli.main import main
from engine.people.accounts import hash_password
from engine.people.auth import authenticate, login
from engine.runtime.runtime import Runtime
from engine.store.models import ApiToken, Attachment, Event, User
from tests.support.http import PASSWORD
from tests.support.shipped import answered_with_a_file
from tests.support.storage import on_each_backend as settings  # noqa: F401 - every test runs on both backends
from tests.support.uploads import PDF, PNG

SECOND = timedelta(seconds=1)


def travel_to(at: datetime) -> None:
    clock.travel(at - now())


def draft(runtime: Runtime, data: bytes = PNG, username: str = "haiyun") -> int:
    return add_draft(runtime.db, runtime.blobs, io.BytesIO(data), "同意书.png", None, runtime.actor(username)).id


def stored(runtime: Runtime) -> set[str]:
    return {sha256 for sha256, _ in runtime.blobs.stored()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_tokens_go_once_expired_or_revoked(runtime: Runtime) -> None:
    with runtime.db.write() as session:
        session.execute(update(User).where(User.username == "haiyun").values(password_hash=hash_password(PASSWORD)))
    names = ("live", "a second left", "a second ago", "revoked")
    tokens = {name: login(runtime.db, "haiyun", PASSWORD)[0] for name in names}
    at = now() + timedelta(hours=1)  # the run's moment: the clock is moved there just before it
    lifetimes = {"live": timedelta(hours=8), "a second left": SECOND, "a second ago": -SECOND,
                 "revoked": timedelta(hours=8)}
    with runtime.db.write() as session:
        for name in names:
            digest = hashlib.sha256(tokens[name].encode()).hexdigest()
            session.execute(update(ApiToken).where(ApiToken.token_hash == digest).values(
                expires_at=at + lifetimes[name], revoked_at=at if name == "revoked" else None))
    travel_to(at)
    assert retention.run(runtime).tokens == 2
    with runtime.db.read() as session:
        left = set(session.scalars(select(ApiToken.token_hash)))
    assert left == {hashlib.sha256(tokens[name].encode()).hexdigest() for name in ("live", "a second left")}
    assert authenticate(runtime.db, tokens["live"]).username == "haiyun"  # a live token still logs in


def test_unbound_drafts_go_after_a_day_and_their_bytes_with_them(runtime: Runtime) -> None:
    old, young = draft(runtime, PNG), draft(runtime, PDF)
    case = runtime.start("sample_approval", {"title": "有附件", "amount": 1}, runtime.actor("haiyun"))
    bound = add_attachment(runtime.db, runtime.blobs, case.id, io.BytesIO(PDF + b"%bound"), "b.pdf", None,
                           runtime.actor("haiyun")).id
    at = now() + timedelta(days=3)
    limit = runtime.settings.retention.drafts
    with runtime.db.write() as session:
        session.execute(update(Attachment).where(Attachment.id == old).values(created_at=at - limit - SECOND))
        session.execute(update(Attachment).where(Attachment.id == young).values(created_at=at - limit + SECOND))
        session.execute(update(Attachment).where(Attachment.id == bound).values(created_at=at - 10 * limit))
    travel_to(at)
    removed = retention.run(runtime)
    assert removed.drafts == [old] and removed.blobs == [sha(PNG)]
    with runtime.db.read() as session:
        assert sorted(session.scalars(select(Attachment.id))) == sorted([young, bound])
    assert stored(runtime) == {sha(PDF), sha(PDF + b"%bound")}


def test_orphan_bytes_go_only_once_older_than_the_grace(runtime: Runtime) -> None:
    """Bytes no row names (here: put with no row): kept a second before the grace runs out, gone a second after."""
    orphan = runtime.blobs.put(io.BytesIO(PDF), "a.pdf", None).sha256
    modified = runtime.blobs.stat(orphan).modified
    grace = runtime.settings.retention.orphan_grace
    travel_to(modified + grace - SECOND)
    assert retention.run(runtime).blobs == [] and orphan in stored(runtime)
    travel_to(modified + grace + SECOND)
    assert retention.run(runtime).blobs == [orphan] and stored(runtime) == set()


def test_a_crash_between_bytes_and_row_leaves_bytes_the_sweep_removes(runtime: Runtime,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_write() -> object:
        raise ConnectionError("database went away")

    monkeypatch.setattr(runtime.db, "write", broken_write)
    with pytest.raises(ConnectionError):
        draft(runtime)
    monkeypatch.undo()
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Attachment)) == 0  # no row points at nothing
    assert stored(runtime) == {sha(PNG)}  # the bytes, named by nothing
    clock.travel(runtime.settings.retention.orphan_grace + 2 * SECOND)
    assert retention.run(runtime).blobs == [sha(PNG)] and stored(runtime) == set()


def test_bytes_a_row_names_stay_however_old(runtime: Runtime) -> None:
    """A case's file, its issued document and its history survive ten years of hourly runs."""
    case, file_id, code = answered_with_a_file(runtime, PDF)
    with runtime.db.read() as session:
        events = session.scalar(select(func.count()).select_from(Event).where(Event.instance_id == case))
    clock.travel(timedelta(days=3650))
    removed = retention.run(runtime)
    assert removed.blobs == [] and removed.drafts == []
    with runtime.blobs.open(sha(PDF)) as handle:
        assert handle.read() == PDF
    with runtime.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Event).where(Event.instance_id == case)) == events
        assert list(session.scalars(select(Attachment.id))) == [file_id]
    assert documents.verify(runtime.db, code, runtime.settings.timezone).case_number
    assert runtime.document(case, "qysq_answer", runtime.actor("haiyun")).pdf().startswith(b"%PDF")


def test_stale_spool_files_of_dead_uploads_go(runtime: Runtime) -> None:
    spool = runtime.blobs.storage.spool_dir
    spool.mkdir(parents=True, exist_ok=True)
    dead, live = spool / ".upload-dead.part", spool / ".upload-live.part"
    for path in (dead, live):
        path.write_bytes(b"%PDF-1.4 half an upload")
    grace = runtime.settings.retention.orphan_grace.total_seconds()
    real = datetime.now().timestamp()
    os.utime(dead, (real - grace - 1, real - grace - 1))
    os.utime(live, (real - grace + 60, real - grace + 60))
    assert retention.run(runtime).spool == [dead.name]
    assert sorted(p.name for p in spool.iterdir()) == [live.name]


def test_a_dry_run_removes_nothing_and_names_what_a_run_would(runtime: Runtime) -> None:
    stale = draft(runtime)
    orphan = runtime.blobs.put(io.BytesIO(PDF), "a.pdf", None).sha256
    clock.travel(timedelta(days=2))
    dry = retention.run(runtime, dry_run=True)
    assert (dry.dry_run, dry.drafts, sorted(dry.blobs)) == (True, [stale], sorted([sha(PNG), orphan]))
    assert stored(runtime) == {sha(PNG), orphan}
    real = retention.run(runtime)
    assert (real.drafts, real.blobs) == (dry.drafts, dry.blobs) and stored(runtime) == set()


def test_the_command_prints_what_it_removed(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TONGBAN_DATABASE_URL", runtime.db.url)
    monkeypatch.setenv("TONGBAN_INSTANCE", str(runtime.settings.instance_dir))
    monkeypatch.setenv("TONGBAN_RETENTION_ORPHAN_GRACE", "1")
    storage = runtime.settings.storage
    if storage.backend == "s3":
        for name, value in (("TONGBAN_STORAGE", "s3"), ("TONGBAN_S3_BUCKET", storage.bucket),
                            ("TONGBAN_S3_PREFIX", storage.prefix), ("TONGBAN_S3_ENDPOINT_URL", storage.endpoint_url),
                            ("TONGBAN_S3_REGION", storage.region), ("TONGBAN_S3_ADDRESSING_STYLE", "path")):
            monkeypatch.setenv(name, value)
    orphan = runtime.blobs.put(io.BytesIO(PDF), "a.pdf", None).sha256
    modified = runtime.blobs.stat(orphan).modified
    time.sleep(max(0.0, (modified + 2 * SECOND - datetime.now(UTC)).total_seconds()))  # it runs on the real clock
    cli = CliRunner()
    dry = cli.invoke(main, ["retention", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "将删除 (would remove): 1 个无主文件 (orphan blobs)" in dry.stdout and orphan in dry.stdout
    assert orphan in stored(runtime)
    done = cli.invoke(main, ["retention", "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.stdout)["blobs"] == [orphan] and stored(runtime) == set()


def test_the_beat_runs_it_hourly_on_the_services_queue(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = jobs.app.conf.beat_schedule["retention"]
    assert (entry["task"], entry["schedule"]) == (jobs.RETENTION, 3600.0)
    assert jobs.app.conf.task_routes[jobs.RETENTION] == {"queue": jobs.SERVICES_QUEUE}
    draft(runtime)
    clock.travel(timedelta(days=2))
    monkeypatch.setattr(jobs, "worker_runtime", lambda: runtime)
    assert jobs.retain.apply().get() == 2  # the draft and its bytes
