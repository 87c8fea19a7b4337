"""SQLite's write-ahead log checkpointed by a thread of its own (`tongban serve`), not inside commits."""

from __future__ import annotations

import threading
from pathlib import Path

from sqlalchemy import text

from engine.store.db import SQLITE_PAGE_SIZE, Database


def frames(db: Database) -> tuple[int, int]:
    """(frames in the log, frames of it already copied into the database) — a PASSIVE checkpoint's answer."""
    with db.reading() as conn:
        _, log, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
    return log, copied


def fill(db: Database, rows: int) -> None:
    with db.writing() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, v TEXT)"))
    for _ in range(rows):
        with db.writing() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES (:v)"), {"v": "x" * 3000})


def test_commits_leave_the_log_to_the_checkpoint_thread(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/c.db")
    db.background_checkpoints(interval=3600)  # started; its first run is over before the writes below
    try:
        with db.reading() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 0
        fill(db, 1500)  # ~4,500 pages: past SQLite's 1,000-page automatic checkpoint
        with db.reading() as conn:  # what a commit-time checkpoint would have copied is still only in the log
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        assert (tmp_path / "c.db").stat().st_size < pages * SQLITE_PAGE_SIZE / 2
    finally:
        db.dispose()  # stops the thread and checkpoints what is left
    assert (tmp_path / "c.db").stat().st_size >= pages * SQLITE_PAGE_SIZE


def test_the_thread_checkpoints_while_the_server_runs(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/c.db")
    db.background_checkpoints(interval=0.05)
    try:
        fill(db, 200)
        for _ in range(100):
            log, copied = frames(db)
            if log > 0 and copied == log:  # -1: no answer this time (the thread was checkpointing)
                break
            threading.Event().wait(0.05)
        assert log > 0 and copied == log
    finally:
        db.dispose()


def test_without_it_sqlite_checkpoints_in_commits(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/c.db")
    try:
        with db.reading() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == 1000
        fill(db, 1500)
        with db.reading() as conn:
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
        assert (tmp_path / "c.db").stat().st_size >= pages * SQLITE_PAGE_SIZE / 2  # commits copied the log over
    finally:
        db.dispose()
