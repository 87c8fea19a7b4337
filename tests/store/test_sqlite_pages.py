"""SQLite page size: 1 KB for a new database (a step's commit writes whole pages); an older file keeps its own."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from engine.store.db import SQLITE_PAGE_SIZE, Database


def page_size(db: Database) -> int:
    with db.reading() as conn:
        return conn.exec_driver_sql("PRAGMA page_size").scalar()


def test_a_new_database_has_small_pages(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path}/new.db")
    try:
        db.upgrade()
        assert SQLITE_PAGE_SIZE == 1024
        assert page_size(db) == 1024
        with db.reading() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        db.dispose()


def test_a_database_made_with_other_pages_keeps_them_and_its_data(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    made = sqlite3.connect(path)
    made.execute("PRAGMA page_size=4096")
    made.execute("PRAGMA journal_mode=WAL")
    made.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
    made.execute("INSERT INTO t (v) VALUES ('before')")
    made.commit()
    made.close()
    db = Database(f"sqlite:///{path}")
    try:
        assert page_size(db) == 4096  # SQLite ignores the pragma once a table exists: nothing is rewritten
        with db.writing() as conn:
            conn.execute(text("INSERT INTO t (v) VALUES ('after')"))
        with db.reading() as conn:
            assert [v for (v,) in conn.execute(text("SELECT v FROM t ORDER BY id"))] == ["before", "after"]
    finally:
        db.dispose()
