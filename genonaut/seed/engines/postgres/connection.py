"""Everything PostgreSQL-specific: connecting, reading the catalogs, session settings, COPY.

The rest of the package speaks in `Schema` records and composed SQL; a second database would
mean a second module like this one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

from genonaut.database_url import connection_error
from genonaut.database_url import database_of as database_of
from genonaut.database_url import first_line as first_line
from genonaut.database_url import redact as redact
from genonaut.database_url import to_libpq_dsn as to_libpq_dsn
from genonaut.database_url import with_database as with_database
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.errors import ConnectionFailed

Connection = psycopg2.extensions.connection
Cursor = psycopg2.extensions.cursor
Tracer = Callable[[str], None]

# Settings that make every value's text form, and so every fixture byte, independent of the
# server's and the client's defaults.
STABLE_OUTPUT_SETTINGS = {
    "TimeZone": "UTC",
    "DateStyle": "ISO, YMD",
    "IntervalStyle": "postgres",
    "extra_float_digits": "1",
    "bytea_output": "hex",
    # money is written in the session's locale ("1,25 €" under de_DE): the plain form for all.
    "lc_monetary": "C",
    "client_encoding": "UTF8",
    # A large generated statement can spend seconds in JIT compilation for a few ms of work.
    "jit": "off",
    # A backslash in '...' is an ordinary character, as core.sql_fragment reads conditions.
    "standard_conforming_strings": "on",
}


def connect_plain(url: str) -> Connection:
    """A psycopg2 connection as an application opens it: none of the tool's session settings
    (a test on a seeded database sees the server's own time zone and styles)."""
    return psycopg2.connect(to_libpq_dsn(url))


def connect(url: str, *, read_only: bool = False, application: str = "genonaut-seed") -> Connection:
    """Open a connection with stable output settings; read-only ones see one snapshot."""
    try:
        conn = psycopg2.connect(to_libpq_dsn(url), application_name=application, connect_timeout=10)
    except psycopg2.OperationalError as exc:
        message, hint = connection_error(exc, url)
        raise ConnectionFailed(message, hint=hint) from exc
    except Exception as exc:  # libpq refuses a malformed URL
        raise ConnectionFailed(
            f"cannot use database URL {redact(url)}: {exc}",
            hint="URLs look like postgresql://user@host:5432/dbname",
        ) from exc
    # All settings in one round trip, outside a transaction (they hold for the session).
    settings = dict(STABLE_OUTPUT_SETTINGS)
    if read_only:
        # Every transaction of the session is READ ONLY, not only those psycopg2 begins;
        # inside one, PostgreSQL refuses to switch to read-write.
        settings["default_transaction_read_only"] = "on"
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(
            "SELECT set_config(name, value, false) "
            "FROM unnest(%s::text[], %s::text[]) AS s(name, value)",
            (list(settings), list(settings.values())),
        )
    conn.autocommit = False
    if read_only:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    return conn


def render(query: sql.Composable, context: Cursor, *, for_params: bool) -> str:
    """The text of `query`. Where psycopg2 will fill in parameters, a `%` inside a quoted name
    or a literal is doubled, so that a table called `100% done` is not read as a placeholder;
    the `sql.SQL` parts are written by us and already say `%%` where they mean `%`."""
    if isinstance(query, sql.Composed):
        return "".join(render(part, context, for_params=for_params) for part in query.seq)
    if isinstance(query, sql.SQL):
        return query.string
    # Quoted here as libpq quotes an identifier (PQescapeIdentifier): a statement of the
    # selection names the same columns thousands of times, each a call into libpq otherwise.
    text: str = (
        ".".join('"' + part.replace('"', '""') + '"' for part in query.strings)
        if isinstance(query, sql.Identifier)
        else query.as_string(context)
    )
    if for_params and isinstance(query, (sql.Identifier, sql.Literal)):
        return text.replace("%", "%%")
    return text


class Session:
    """A connection plus a hook that sees every statement (wired to --verbosity debug)."""

    def __init__(self, conn: Connection, tracer: Tracer | None = None) -> None:
        self.conn = conn
        self.tracer = tracer
        self.statements = 0

    def _trace(self, cur: Cursor, query: sql.Composable | str, params: Any = None) -> str:
        text = (
            query if isinstance(query, str) else render(query, cur, for_params=params is not None)
        )
        self.statements += 1
        if self.tracer is not None:
            rendered = cur.mogrify(text, params).decode() if params is not None else text
            self.tracer(rendered)
        return text

    def fetch(self, query: sql.Composable | str, params: Any = None) -> list[tuple[Any, ...]]:
        with self.conn.cursor() as cur:
            cur.execute(self._trace(cur, query, params), params)
            return cur.fetchall() if cur.description else []

    def execute(self, query: sql.Composable | str, params: Any = None) -> int:
        with self.conn.cursor() as cur:
            cur.execute(self._trace(cur, query, params), params)
            return int(cur.rowcount)

    def copy_out(self, query: sql.Composable, params: Any, sink: IO[bytes]) -> None:
        """`COPY (query) TO STDOUT`: PostgreSQL writes every value in its own text form."""
        with self.conn.cursor() as cur:
            inner = cur.mogrify(render(query, cur, for_params=True), params).decode()
            statement = f"COPY ({inner}) TO STDOUT"
            self._trace(cur, statement)
            cur.copy_expert(statement, sink)

    def copy_in(self, table: sql.Composable, columns: Sequence[str], source: IO[bytes]) -> int:
        """`COPY table (columns) FROM STDIN`; the number of rows it wrote."""
        with self.conn.cursor() as cur:
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                table, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            )
            cur.copy_expert(self._trace(cur, statement), source)
            return int(cur.rowcount)


@contextmanager
def session(
    url: str, *, read_only: bool = False, tracer: Tracer | None = None
) -> Iterator[Session]:
    conn = connect(url, read_only=read_only)
    try:
        yield Session(conn, tracer)
    finally:
        conn.close()


def ident(name: TableName) -> sql.Composable:
    return sql.Identifier(name.schema, name.name)
