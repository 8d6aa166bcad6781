"""Opening SQLite files: URLs, refusals with hints, read-only mode, foreign keys, tracing."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlite_helpers import build, url_of

from genonaut.seed.engines.sqlite.connection import database_path, session
from genonaut.seed.errors import ConfigError, ConnectionFailed


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///test/seed.db", Path("test/seed.db")),
        ("sqlite:////tmp/seed.db", Path("/tmp/seed.db")),
        ("sqlite+pysqlite:///a b/c.sqlite", Path("a b/c.sqlite")),
    ],
)
def test_urls_name_files_as_sqlalchemy_does(url: str, path: Path) -> None:
    assert database_path(url) == path


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("sqlite:///:memory:", "in-memory"),
        ("sqlite://", "names a host|in-memory"),
        ("sqlite:///", "in-memory"),
        ("sqlite://host/x.db", "names a host"),
        ("sqlite:///x.db?mode=ro", "options"),
        ("postgresql://localhost/x", "not a SQLite URL"),
    ],
)
def test_unusable_urls_are_refused_with_a_hint(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message) as caught:
        database_path(url)
    assert caught.value.hint


def test_a_missing_file_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.sqlite"
    with pytest.raises(ConnectionFailed, match="no file") as caught, session(url_of(missing)):
        pass
    assert "create the database" in caught.value.hint
    assert not missing.exists()


def test_a_file_that_is_no_database_is_named(tmp_path: Path) -> None:
    text = tmp_path / "notes.sqlite"
    text.write_text("hello, this is not a database file at all, " * 20)
    with pytest.raises(ConnectionFailed, match="not a database") as caught, session(url_of(text)):
        pass
    assert "not a SQLite 3 database" in caught.value.hint


def test_read_only_sessions_cannot_write(sample_db: Path) -> None:
    before = sample_db.read_bytes()
    with session(url_of(sample_db), read_only=True) as db:
        with pytest.raises(sqlite3.OperationalError, match=r"readonly|read-only|query_only"):
            db.execute("DELETE FROM audit")
        with pytest.raises(sqlite3.OperationalError):
            db.execute("CREATE TABLE scratch (a)")
        assert db.fetch("SELECT count(*) FROM audit") == [(3,)]
    assert sample_db.read_bytes() == before


def test_foreign_keys_are_enforced_and_transactions_are_explicit(sample_db: Path) -> None:
    traced: list[str] = []
    with session(url_of(sample_db), tracer=traced.append) as db:
        assert db.fetch("PRAGMA foreign_keys") == [(1,)]
        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            db.execute("INSERT INTO player VALUES (?, ?)", (999, 12345))
        assert not db.in_transaction
        with pytest.raises(RuntimeError), db.transaction(immediate=True):
            db.execute("DELETE FROM audit")
            raise RuntimeError("stop")
        assert db.fetch("SELECT count(*) FROM audit") == [(3,)]
        with db.transaction():
            db.execute("DELETE FROM audit WHERE id = ?", (1,))
        assert db.fetch("SELECT count(*) FROM audit") == [(2,)]
    assert "BEGIN IMMEDIATE" in traced
    assert "DELETE FROM audit WHERE id = ? -- [1]" in traced
    assert traced.count("ROLLBACK") == 1 and traced.count("COMMIT") == 1


def test_streams_are_read_in_batches(make_db: object, tmp_path: Path) -> None:

    path = build(
        tmp_path / "many.sqlite",
        "CREATE TABLE n (i INTEGER PRIMARY KEY);"
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 2500) "
        "INSERT INTO n SELECT i FROM c;",
    )
    with session(url_of(path), read_only=True) as db:
        rows = list(db.stream("SELECT i FROM n ORDER BY i", size=100))
    assert [r[0] for r in rows] == list(range(1, 2501))
