"""Everything PostgreSQL-specific: connecting, reading the catalogs, session settings, COPY.

The rest of the package speaks in `Schema` records and composed SQL; a second database would
mean a second module like this one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any

import psycopg2
import psycopg2.extensions
from psycopg2 import sql
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.errors import ConnectionFailed

log = logging.getLogger(__name__)

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

_SYSTEM_SCHEMAS = ("pg_catalog", "information_schema", "pg_toast")


def to_libpq_dsn(url: str) -> str:
    """A DSN psycopg2.connect accepts, from a SQLAlchemy-style or libpq URL.

    >>> to_libpq_dsn("postgresql+psycopg2://app:pw@db:6543/genonaut_test")
    'host=db port=6543 user=app password=pw dbname=genonaut_test'
    >>> to_libpq_dsn("postgresql://postgres:@/postgres?host=/tmp/sock")
    'host=/tmp/sock user=postgres dbname=postgres'
    """
    parsed = make_url(url)
    parts: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    for key, value in parsed.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    dsn: str = psycopg2.extensions.make_dsn(
        **{key: value for key, value in parts.items() if value not in (None, "")}
    )
    return dsn


def redact(url: str) -> str:
    """The URL with its password hidden, for messages.

    >>> redact("postgresql://app:s3cret@db/genonaut_demo")
    'postgresql://app:***@db/genonaut_demo'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except (ArgumentError, ValueError):  # not a URL (a libpq keyword string, say): show nothing
        return "<database URL>"


def first_line(exc: BaseException) -> str:
    """A driver error's message in one line (SQLAlchemy's wrapper unwrapped); its class name
    when it says nothing."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connection_failed(exc: BaseException, url: str) -> ConnectionFailed:
    """A one-line `ConnectionFailed` for a driver error, with a hint that fits its cause.

    The driver's message names the host, user and database but never the password.
    """
    first = first_line(exc)
    if "password authentication failed" in first or "no password supplied" in first:
        hint = (
            "check the password: DB_PASSWORD or DB_PASSWORD_DEMO / DB_PASSWORD_TEST in "
            "env/.env.shared, or the one in DATABASE_URL_DEMO / DATABASE_URL_TEST"
        )
    elif 'role "' in first and "does not exist" in first:
        hint = "check the user in config/local-<env>.json, or in DATABASE_URL_DEMO / _TEST"
    elif 'database "' in first and "does not exist" in first:
        hint = "create it with its schema: make init-demo / make init-test"
    elif "permission denied" in first:
        hint = "ask for the CREATEDB privilege, or create the database yourself and run again"
    else:
        hint = (
            "start the server, or point the tool elsewhere: config/local-<env>.json, "
            "DATABASE_URL_DEMO / DATABASE_URL_TEST or --database-url"
        )
    return ConnectionFailed(f"cannot connect to {redact(url)}: {first}", hint=hint)


def connect(url: str, *, read_only: bool = False, application: str = "genonaut-seed") -> Connection:
    """Open a connection with stable output settings; read-only ones see one snapshot."""
    try:
        conn = psycopg2.connect(to_libpq_dsn(url), application_name=application, connect_timeout=10)
    except psycopg2.OperationalError as exc:
        raise connection_failed(exc, url) from exc
    except Exception as exc:  # a malformed URL raises from make_url or libpq
        raise ConnectionFailed(
            f"cannot use database URL {redact(url)}: {exc}",
            hint="URLs look like postgresql://user@host:5432/dbname",
        ) from exc
    if read_only:
        conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    with conn.cursor() as cur:
        for name, value in STABLE_OUTPUT_SETTINGS.items():
            cur.execute("SELECT set_config(%s, %s, false)", (name, value))
        if read_only:
            # Every transaction of the session is READ ONLY, not only those psycopg2 begins;
            # inside one, PostgreSQL refuses to switch to read-write.
            cur.execute("SELECT set_config('default_transaction_read_only', 'on', false)")
    conn.commit()
    return conn


def render(query: sql.Composable, context: Cursor, *, for_params: bool) -> str:
    """The text of `query`. Where psycopg2 will fill in parameters, a `%` inside a quoted name
    or a literal is doubled, so that a table called `100% done` is not read as a placeholder;
    the `sql.SQL` parts are written by us and already say `%%` where they mean `%`."""
    if isinstance(query, sql.Composed):
        return "".join(render(part, context, for_params=for_params) for part in query.seq)
    text: str = query.as_string(context)
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

    def copy_in(self, table: sql.Composable, columns: Sequence[str], source: IO[bytes]) -> None:
        with self.conn.cursor() as cur:
            statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
                table, sql.SQL(", ").join(sql.Identifier(c) for c in columns)
            )
            cur.copy_expert(self._trace(cur, statement), source)


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
