"""Connecting to MariaDB (or MySQL) through PyMySQL: URLs, session settings for byte-stable
text, the export's consistent snapshot, and a `Session` whose hook sees every statement.

Values come back as the server's own text: the connection has no decoders, so PyMySQL hands
over each field as the server wrote it (str, or bytes for a binary column) and nothing is
rounded on the way through Python.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pymysql
import pymysql.converters
import pymysql.cursors
from pymysql.constants import ER

from genonaut.database_url import redact as redact
from genonaut.database_url import with_database as with_database
from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, TableName
from genonaut.seed.errors import ConnectionFailed

log = logging.getLogger(__name__)

Tracer = Callable[[str], None]

SCHEMES = ("mysql", "mariadb", "mysql+pymysql", "mariadb+pymysql")

# The session's settings. sql_mode: strict for every table (a bad value is an error, never a
# silent zero), NO_AUTO_VALUE_ON_ZERO so that a loaded 0 in an AUTO_INCREMENT column stays 0,
# and none of the modes that change how values or quotes are written (PAD_CHAR_TO_FULL_LENGTH,
# ANSI_QUOTES, NO_BACKSLASH_ESCAPES, which PyMySQL's escaping relies on).
SQL_MODE = (
    "STRICT_ALL_TABLES,ERROR_FOR_DIVISION_BY_ZERO,NO_AUTO_VALUE_ON_ZERO,NO_ENGINE_SUBSTITUTION"
)
STABLE_SETTINGS = (
    # TIMESTAMP values are written and read in UTC, whatever the server's zone.
    ("time_zone", "'+00:00'"),
    ("sql_mode", f"'{SQL_MODE}'"),
    # ORDER BY on a TEXT or BLOB column compares only max_sort_length bytes (1024 by
    # default): the largest value makes the order of long values total.
    ("max_sort_length", "8388608"),
)


@dataclass(frozen=True)
class ConnectParams:
    """What PyMySQL needs from a URL; `password` is never shown (see `redact`)."""

    host: str
    port: int
    user: str
    password: str
    database: str
    unix_socket: str | None = None


def parse_url(url: str) -> ConnectParams:
    """The connection parameters of a `mysql://`, `mariadb://` (or `+pymysql`) URL.

    >>> parse_url("mariadb://app:pw@db:3307/shop?unix_socket=/run/mysqld.sock").unix_socket
    '/run/mysqld.sock'
    >>> parse_url("mysql://root@127.0.0.1/").database
    ''
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise ConnectionFailed(
            f"cannot use database URL {redact(url)}: not a URL", hint=_URL_HINT
        ) from exc
    if parts.scheme not in SCHEMES:
        raise ConnectionFailed(
            f"{redact(url)} is not a MariaDB URL (scheme {parts.scheme!r})", hint=_URL_HINT
        )
    query = parse_qs(parts.query, keep_blank_values=True)
    unknown = sorted(set(query) - {"unix_socket"})
    if unknown:
        raise ConnectionFailed(
            f"{redact(url)}: unknown URL option {', '.join(unknown)}", hint=_URL_HINT
        )
    socket = query.get("unix_socket")
    return ConnectParams(
        host=unquote(parts.hostname or "") or "localhost",
        port=port or 3306,
        user=unquote(parts.username or "") or "root",
        password=unquote(parts.password or ""),
        database=unquote(parts.path.lstrip("/")),
        unix_socket=socket[-1] if socket else None,
    )


_URL_HINT = "URLs look like mysql://user:password@host:3306/dbname (or mariadb://, ?unix_socket=)"


def connection_failed(exc: pymysql.err.MySQLError, url: str) -> ConnectionFailed:
    """A one-line `ConnectionFailed` for a driver error, with a hint that fits its cause. The
    server's message names the user and host, never the password."""
    code = exc.args[0] if exc.args and isinstance(exc.args[0], int) else 0
    text = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if code in (ER.ACCESS_DENIED_ERROR, ER.DBACCESS_DENIED_ERROR):
        hint = "check the user and password in the URL, and that the user may log in from here"
    elif code == ER.BAD_DB_ERROR:
        hint = "create the database first (CREATE DATABASE ... CHARACTER SET utf8mb4)"
    else:
        hint = "start the MariaDB server, or check the host, port or unix_socket in the URL"
    return ConnectionFailed(f"cannot connect to {redact(url)}: {text}", hint=hint)


# PyMySQL splits `conv` into encoders (keyed by Python type) and decoders (keyed by field type).
_ENCODERS_ONLY: dict[Any, Any] = dict(pymysql.converters.encoders)


def connect(url: str, *, local_infile: bool = False) -> pymysql.connections.Connection[Any]:
    """A connection in autocommit off, utf8mb4, stable settings, values as the server's text."""
    params = parse_url(url)
    try:
        conn = pymysql.connect(
            host=params.host,
            port=params.port,
            user=params.user,
            password=params.password,
            database=params.database or None,
            unix_socket=params.unix_socket,
            charset="utf8mb4",
            # Encoders only: with no decoders every value arrives as the server's text.
            conv=_ENCODERS_ONLY,
            autocommit=False,
            local_infile=local_infile,
            connect_timeout=10,
            program_name="genonaut-seed",
        )
    except pymysql.err.MySQLError as exc:
        raise connection_failed(exc, url) from exc
    with conn.cursor() as cur:
        cur.execute(
            "SET " + ", ".join(f"SESSION {name} = {value}" for name, value in STABLE_SETTINGS)
        )
    return conn


def quote(name: str) -> str:
    """A quoted identifier: backticks, a backtick inside doubled.

    >>> quote("odd`name")
    '`odd``name`'
    """
    return "`" + name.replace("`", "``") + "`"


def ident(name: TableName) -> str:
    """`db`.`table` for a table whose schema is its database; `table` alone for the
    current database's, whose schema the records call `DEFAULT_SCHEMA`."""
    if name.schema == DEFAULT_SCHEMA:
        return quote(name.name)
    return f"{quote(name.schema)}.{quote(name.name)}"


def column_list(names: Sequence[str], prefix: str = "") -> str:
    return ", ".join(f"{prefix}{quote(n)}" for n in names)


class Session:
    """A connection plus a hook that sees every statement (wired to --verbosity debug)."""

    def __init__(self, conn: pymysql.connections.Connection[Any], tracer: Tracer | None = None):
        self.conn = conn
        self.tracer = tracer
        self.statements = 0

    @property
    def database(self) -> str:
        (row,) = self.fetch("SELECT DATABASE()")
        return str(row[0] or "")

    def _trace(self, cur: pymysql.cursors.Cursor, query: str, params: Any) -> None:
        self.statements += 1
        if self.tracer is not None:
            self.tracer(cur.mogrify(query, params) if params is not None else query)

    def fetch(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        """The rows of `query`; every value is the server's text (str, bytes when binary)."""
        with self.conn.cursor() as cur:
            self._trace(cur, query, params)
            cur.execute(query, params)
            return list(cur.fetchall())

    def execute(self, query: str, params: Any = None) -> int:
        with self.conn.cursor() as cur:
            self._trace(cur, query, params)
            return int(cur.execute(query, params))

    def stream(
        self, query: str, params: Any = None, *, batch: int = 2000
    ) -> Iterator[list[tuple[Any, ...]]]:
        """The rows of `query` in batches, read from the server as they are consumed (an
        unbuffered cursor: memory holds one batch, and nothing else may use the connection
        until the last batch is read)."""
        with self.conn.cursor(pymysql.cursors.SSCursor) as cur:
            self._trace(cur, query, params)
            cur.execute(query, params)
            while rows := cur.fetchmany(batch):
                yield list(rows)

    def begin_snapshot(self) -> None:
        """One consistent, read-only view for a whole export (REPEATABLE READ)."""
        self.execute("SET SESSION TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        self.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY")

    def begin(self) -> None:
        self.execute("START TRANSACTION")

    def commit(self) -> None:
        self.statements += 1
        if self.tracer is not None:
            self.tracer("COMMIT")
        self.conn.commit()

    def rollback(self) -> None:
        self.statements += 1
        if self.tracer is not None:
            self.tracer("ROLLBACK")
        self.conn.rollback()


@contextmanager
def session(
    url: str, *, read_only: bool = False, local_infile: bool = False, tracer: Tracer | None = None
) -> Iterator[Session]:
    """A Session; `read_only` opens the export's snapshot at once; `local_infile` lets a
    load send its files with LOAD DATA LOCAL INFILE (the server may then ask for a file: give
    it only to servers you trust). Rolled back and closed on the way out unless committed.

    >>> with session("mysql://root@127.0.0.1/shop", read_only=True) as db:  # doctest: +SKIP
    ...     db.fetch("SELECT 1")
    [('1',)]
    """
    conn = connect(url, local_infile=local_infile)
    db = Session(conn, tracer)
    try:
        if read_only:
            db.begin_snapshot()
        yield db
    finally:
        try:
            if conn.open:
                conn.rollback()
        finally:
            conn.close()
