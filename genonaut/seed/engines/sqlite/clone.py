"""Per-test copies of a SQLite database: a whole copy by the backup API, an empty copy of its
schema, and removal with the journal files beside it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from genonaut.seed.errors import ConfigError

from .connection import connect_path

# What `copy_schema` re-creates, in this order: tables before the indexes, views and
# triggers that name them.
_KINDS = ("table", "index", "view", "trigger")


def clone_database(source: Path, target: Path) -> Path:
    """A copy of `source` at `target` (which must not exist), made with SQLite's backup API,
    so a database another connection is writing to is copied consistently.

    Example: `clone_database(Path("template.db"), tmp_path / "t1.db")`.
    """
    _refuse_existing(target)
    src = connect_path(source, read_only=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    except sqlite3.Error as exc:
        drop_database(target)
        raise ConfigError(f"cannot copy {source} to {target}: {exc}") from exc
    finally:
        src.close()
    return target


def copy_schema(source: Path, target: Path) -> Path:
    """A new database at `target` with the tables, indexes, views and triggers of `source`
    and no rows: the empty target of a round trip."""
    _refuse_existing(target)
    src = connect_path(source, read_only=True)
    try:
        rows = src.execute(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL "
            "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY rowid"
        ).fetchall()
    finally:
        src.close()
    statements = [sql for kind in _KINDS for type_, _, sql in rows if type_ == kind]
    dst = sqlite3.connect(target, isolation_level=None)
    try:
        dst.execute("BEGIN")
        for statement in statements:
            dst.execute(statement)
        dst.execute("COMMIT")
    except sqlite3.Error as exc:
        dst.close()
        drop_database(target)
        raise ConfigError(f"cannot copy the schema of {source} to {target}: {exc}") from exc
    dst.close()
    return target


def drop_database(path: Path) -> None:
    """Remove a database file and its rollback journal or WAL files; no error when absent."""
    for suffix in ("", "-journal", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _refuse_existing(target: Path) -> None:
    if target.exists():
        raise ConfigError(
            f"{target} already exists", hint="name a new file, or drop the old one first"
        )
