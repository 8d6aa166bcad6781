"""Everything about opening a SQLite file: the URL, the connection's settings, a traced session.

Transactions are explicit: the connection runs in autocommit mode (`isolation_level=None`) and
the callers say `BEGIN` / `BEGIN IMMEDIATE` / `COMMIT` themselves, so that no statement opens or
closes a transaction behind their back (Python's sqlite3 would otherwise commit before DDL).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from genonaut.database_url import redact as redact
from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, TableName
from genonaut.seed.errors import ConfigError, ConnectionFailed

log = logging.getLogger(__name__)

Tracer = Callable[[str], None]
Params = Sequence[Any]

SCHEMES = ("sqlite", "sqlite+pysqlite")
URL_HINT = "SQLite URLs look like sqlite:///relative/path.db or sqlite:////absolute/path.db"
# How many rows a cursor hands over at a time: enough to amortise the call, few enough that
# a large table never sits in memory.
FETCH_SIZE = 1000
# PRAGMA table_xinfo (generated columns) came in 3.26.0.
MINIMUM_VERSION = (3, 26, 0)
# Seconds to wait for another connection's lock (sqlite3's own default).
BUSY_TIMEOUT = 5.0


def database_path(url: str) -> Path:
    """The file a SQLite URL names, SQLAlchemy style (three slashes, then the path).

    >>> database_path("sqlite:///test/seed.db")
    PosixPath('test/seed.db')
    >>> database_path("sqlite:////tmp/seed.db")
    PosixPath('/tmp/seed.db')
    """
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise ConfigError(f"{url!r} is not a SQLite URL", hint=URL_HINT)
    if not rest.startswith("/"):
        raise ConfigError(
            f"{url!r} names a host; SQLite URLs have none (three slashes)", hint=URL_HINT
        )
    path, _, query = rest[1:].partition("?")
    if query:
        raise ConfigError(f"{url!r}: options after '?' are not supported for SQLite", hint=URL_HINT)
    if path in ("", ":memory:") or path.startswith("file::memory:"):
        raise ConfigError(
            f"{url!r} is an in-memory database: nothing outlives the connection, so there is "
            "nothing to export from or import into",
            hint="name a database file: " + URL_HINT,
        )
    return Path(path)


def connect(
    url: str, *, read_only: bool = False, timeout: float = BUSY_TIMEOUT
) -> sqlite3.Connection:
    """Open the existing database file of `url` with foreign keys enforced.

    `read_only` opens it with the `mode=ro` URI parameter (and `query_only`), so nothing,
    not even a journal cleanup, is written to the source of an export.
    """
    return connect_path(database_path(url), read_only=read_only, url=url, timeout=timeout)


def connect_path(
    path: Path, *, read_only: bool = False, url: str = "", timeout: float = BUSY_TIMEOUT
) -> sqlite3.Connection:
    """`connect` for a file path; the file must exist and be a SQLite database. `timeout`
    is how many seconds a statement waits for another connection's lock."""
    shown = url or str(path)
    if sqlite3.sqlite_version_info < MINIMUM_VERSION:
        raise ConnectionFailed(
            f"cannot read {shown}: this Python's SQLite is {sqlite3.sqlite_version}, and "
            "reading generated columns (PRAGMA table_xinfo) needs 3.26 or later",
            hint="use a Python built with a newer SQLite (python.org and distribution "
            "builds of Python 3.11 have one)",
        )
    if not path.is_file():
        raise ConnectionFailed(
            f"cannot open {shown}: no file {path}"
            + (
                " (relative paths start in the current directory)" if not path.is_absolute() else ""
            ),
            hint="check the path, or create the database first (the tool never creates one)",
        )
    mode = "ro" if read_only else "rw"
    # A file: URI, so that mode=ro is honoured and a missing file is not silently created.
    uri = f"{path.resolve().as_uri()}?mode={mode}"
    try:
        conn = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=timeout)
    except sqlite3.Error as exc:
        raise ConnectionFailed(
            f"cannot open {shown}: {exc}", hint="check the file's permissions"
        ) from exc
    try:
        # The first read of the header is where a file that is no database fails.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        conn.execute("PRAGMA foreign_keys = ON")
        if read_only:
            conn.execute("PRAGMA query_only = ON")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise ConnectionFailed(
            f"cannot open {shown}: {exc}",
            hint="the file is not a SQLite 3 database (or is encrypted or damaged): check the path",
        ) from exc
    return conn


class Session:
    """A connection plus a hook that sees every statement (wired to --verbosity debug)."""

    def __init__(self, conn: sqlite3.Connection, tracer: Tracer | None = None) -> None:
        self.conn = conn
        self.tracer = tracer
        self.statements = 0

    def _trace(self, query: str, params: Params) -> None:
        self.statements += 1
        if self.tracer is not None:
            self.tracer(f"{query} -- {list(params)!r}" if params else query)

    def fetch(self, query: str, params: Params = ()) -> list[tuple[Any, ...]]:
        self._trace(query, params)
        return self.conn.execute(query, params).fetchall()

    def execute(self, query: str, params: Params = ()) -> int:
        """Run one statement; the number of rows it changed (-1 for DDL and pragmas)."""
        self._trace(query, params)
        return self.conn.execute(query, params).rowcount

    def stream(
        self, query: str, params: Params = (), size: int = FETCH_SIZE
    ) -> Iterator[tuple[Any, ...]]:
        """The rows of `query`, fetched `size` at a time."""
        self._trace(query, params)
        cursor = self.conn.execute(query, params)
        try:
            while batch := cursor.fetchmany(size):
                yield from batch
        finally:
            cursor.close()

    @property
    def in_transaction(self) -> bool:
        return self.conn.in_transaction

    @contextmanager
    def transaction(self, *, immediate: bool = False) -> Iterator[Session]:
        """BEGIN (IMMEDIATE: take the write lock now) ... COMMIT, or ROLLBACK on any error."""
        self.execute("BEGIN IMMEDIATE" if immediate else "BEGIN")
        try:
            yield self
        except BaseException:
            if self.conn.in_transaction:
                self.execute("ROLLBACK")
            raise
        self.execute("COMMIT")

    @contextmanager
    def snapshot(self) -> Iterator[Session]:
        """A read transaction: every read inside sees the same state of the file."""
        self.execute("BEGIN")
        try:
            yield self
        finally:
            if self.conn.in_transaction:
                self.execute("ROLLBACK")


@contextmanager
def session(
    url: str,
    *,
    read_only: bool = False,
    tracer: Tracer | None = None,
    timeout: float = BUSY_TIMEOUT,
) -> Iterator[Session]:
    conn = connect(url, read_only=read_only, timeout=timeout)
    try:
        yield Session(conn, tracer)
    finally:
        conn.close()


def quote(name: str) -> str:
    """An identifier in double quotes, inner quotes doubled: `quote('a"b')` -> `"a""b"`."""
    return '"' + name.replace('"', '""') + '"'


def ident(table: TableName) -> str:
    """`"main"."film"`: a table name for SQL text. The records' default schema ("public")
    is SQLite's "main"."""
    schema = "main" if table.schema == DEFAULT_SCHEMA else table.schema
    return f"{quote(schema)}.{quote(table.name)}"


def column_list(columns: Sequence[str]) -> str:
    return ", ".join(quote(c) for c in columns)
