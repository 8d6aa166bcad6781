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

from .errors import ConnectionFailed
from .schema_graph import Column, ForeignKey, Schema, Table, TableName
from .schema_graph import Sequence as SequenceRecord

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


def user_schemas(db: Session) -> list[str]:
    rows = db.fetch(
        "SELECT nspname FROM pg_namespace WHERE nspname <> ALL(%s) "
        "AND nspname NOT LIKE 'pg\\_temp\\_%%' AND nspname NOT LIKE 'pg\\_toast\\_temp\\_%%' "
        "ORDER BY nspname",
        (list(_SYSTEM_SCHEMAS),),
    )
    return [r[0] for r in rows]


# One round trip for the whole schema: the catalogs answer in milliseconds where reflecting
# table by table costs a query each.
_CATALOG_QUERY = """
WITH rels AS (
    SELECT c.oid, n.nspname, c.relname, c.relkind, c.relispartition, c.reltuples, c.relhasrules
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p') AND n.nspname = ANY(%(schemas)s)
)
SELECT json_build_object(
  'tables', (SELECT coalesce(json_agg(json_build_object(
      'schema', r.nspname, 'name', r.relname, 'partitioned', r.relkind = 'p',
      'estimate', greatest(r.reltuples, 0)::bigint,
      'parent', (SELECT json_build_array(pn.nspname, pc.relname)
                 FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
                 JOIN pg_namespace pn ON pn.oid = pc.relnamespace
                 WHERE i.inhrelid = r.oid AND r.relispartition),
      'columns', (SELECT json_agg(json_build_array(
                      a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull,
                      a.attgenerated <> '', a.attidentity, a.attcollation <> 0, a.atthasdef,
                      -- Sortable as it is: json, xml, point and arrays are sorted as text.
                      ty.typcategory <> 'A' AND EXISTS (
                          SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
                          WHERE am.amname = 'btree' AND oc.opcdefault AND oc.opcintype IN (
                              ty.oid, ty.typbasetype,
                              CASE ty.typtype WHEN 'e' THEN 'anyenum'::regtype
                                              WHEN 'r' THEN 'anyrange'::regtype END)))
                    ORDER BY a.attnum)
                  FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
                  WHERE a.attrelid = r.oid AND a.attnum > 0 AND NOT a.attisdropped),
      'primary_key', (SELECT json_agg(a.attname ORDER BY k.ord)
                      FROM pg_constraint con,
                           unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord),
                           pg_attribute a
                      WHERE con.conrelid = r.oid AND con.contype = 'p'
                        AND a.attrelid = r.oid AND a.attnum = k.attnum),
      'has_rules', r.relhasrules,
      'key_deferrable', EXISTS (SELECT 1 FROM pg_constraint con
                                WHERE con.conrelid = r.oid AND con.contype = 'p'
                                  AND con.condeferrable),
      'unique_keys', (SELECT json_agg(cols ORDER BY cols::text) FROM (
                        SELECT (SELECT json_agg(a.attname ORDER BY k.ord)
                                FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                                JOIN pg_attribute a
                                  ON a.attrelid = r.oid AND a.attnum = k.attnum) AS cols
                        FROM pg_index ix
                        WHERE ix.indrelid = r.oid AND ix.indisunique AND ix.indpred IS NULL
                          AND NOT (0 = ANY(ix.indkey::int2[]))) u),
      -- Plain b-tree indexes on columns, by name: an order the planner can walk.
      'indexes', (SELECT json_agg(cols ORDER BY name) FROM (
                    SELECT ic.relname AS name,
                           (SELECT json_agg(a.attname ORDER BY k.ord)
                            FROM unnest(ix.indkey) WITH ORDINALITY AS k(attnum, ord)
                            JOIN pg_attribute a
                              ON a.attrelid = r.oid AND a.attnum = k.attnum) AS cols
                    FROM pg_index ix JOIN pg_class ic ON ic.oid = ix.indexrelid
                    JOIN pg_am am ON am.oid = ic.relam
                    WHERE ix.indrelid = r.oid AND am.amname = 'btree' AND ix.indpred IS NULL
                      AND NOT (0 = ANY(ix.indkey::int2[]))) i)
    ) ORDER BY r.nspname, r.relname), '[]'::json) FROM rels r),
  'foreign_keys', (SELECT coalesce(json_agg(json_build_object(
      'name', con.conname, 'schema', r.nspname, 'table', r.relname,
      'ref_schema', fn.nspname, 'ref_table', fc.relname,
      'deferrable', con.condeferrable,
      'columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                  FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
                  JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum),
      'ref_columns', (SELECT json_agg(a.attname ORDER BY k.ord)
                      FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
                      JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum)
    ) ORDER BY r.nspname, r.relname, con.conname), '[]'::json)
    FROM pg_constraint con
    JOIN rels r ON r.oid = con.conrelid
    JOIN pg_class fc ON fc.oid = con.confrelid
    JOIN pg_namespace fn ON fn.oid = fc.relnamespace
    -- Partitions carry clones of their parent's constraints (conparentid <> 0): count each once.
    WHERE con.contype = 'f' AND con.conparentid = 0),
  'sequences', (SELECT coalesce(json_agg(json_build_object(
      'schema', s.seq_schema, 'name', s.seq_name, 'feeds', s.feeds)
      ORDER BY s.seq_schema, s.seq_name), '[]'::json)
    FROM (SELECT sn.nspname AS seq_schema, sc.relname AS seq_name,
                 json_agg(DISTINCT jsonb_build_array(r.nspname, r.relname, a.attname)) AS feeds
          FROM (
            -- A column default nextval('seq'): the default depends on the sequence, whether
            -- or not the sequence is OWNED BY the column.
            SELECT ad.adrelid AS relid, ad.adnum AS attnum, d.refobjid AS seqid
            FROM pg_attrdef ad
            JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
                            AND d.refclassid = 'pg_class'::regclass
            UNION
            -- Identity columns own their sequence.
            SELECT d.refobjid, d.refobjsubid, d.objid
            FROM pg_depend d
            WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
              AND d.deptype = 'i' AND d.refobjsubid > 0
          ) uses
          JOIN pg_class sc ON sc.oid = uses.seqid AND sc.relkind = 'S'
          JOIN pg_namespace sn ON sn.oid = sc.relnamespace
          JOIN rels r ON r.oid = uses.relid
          JOIN pg_attribute a ON a.attrelid = uses.relid AND a.attnum = uses.attnum
          GROUP BY sn.nspname, sc.relname) s)
)
"""


def read_schema(db: Session, schemas: Sequence[str] | None = None) -> Schema:
    """The tables, keys, foreign keys and sequences of `schemas` (default: all user schemas)."""
    names = list(schemas) if schemas else user_schemas(db)
    # format_type() leaves out the schemas on the search_path: with only pg_catalog there,
    # type names are qualified the same way for every client.
    (saved,) = db.fetch("SELECT current_setting('search_path')")[0]
    db.fetch("SELECT set_config('search_path', 'pg_catalog', true)")
    (raw,) = db.fetch(_CATALOG_QUERY, {"schemas": names})[0]
    db.fetch("SELECT set_config('search_path', %s, true)", (saved,))
    tables = tuple(
        Table(
            name=TableName(t["schema"], t["name"]),
            columns=tuple(
                Column(
                    name=c[0],
                    type=c[1],
                    is_nullable=c[2],
                    is_generated=c[3],
                    identity=c[4],
                    is_collatable=c[5],
                    is_sortable=c[7],
                    has_default=c[6],
                )
                for c in t["columns"] or ()
            ),
            primary_key=tuple(t["primary_key"] or ()),
            unique_keys=tuple(tuple(k) for k in t["unique_keys"] or ()),
            indexes=tuple(tuple(k) for k in t["indexes"] or ()),
            is_key_deferrable=t["key_deferrable"],
            has_rules=t["has_rules"],
            is_partitioned=t["partitioned"],
            partition_of=TableName(*t["parent"]) if t["parent"] else None,
            estimated_rows=int(t["estimate"]),
        )
        for t in raw["tables"]
    )
    known = {t.name for t in tables}
    foreign_keys = tuple(
        ForeignKey(
            name=f["name"],
            table=TableName(f["schema"], f["table"]),
            columns=tuple(f["columns"]),
            referred_table=TableName(f["ref_schema"], f["ref_table"]),
            referred_columns=tuple(f["ref_columns"]),
            is_deferrable=f["deferrable"],
        )
        for f in raw["foreign_keys"]
    )
    outside = sorted({fk.referred_table for fk in foreign_keys} - known)
    if outside:
        # Tables in other schemas that ours reference: read them too, so nothing dangles.
        extra = read_schema(db, sorted(set(names) | {t.schema for t in outside}))
        return extra
    sequences = tuple(
        SequenceRecord(
            name=TableName(s["schema"], s["name"]),
            feeds=tuple(sorted((TableName(f[0], f[1]), f[2]) for f in s["feeds"])),
        )
        for s in raw["sequences"]
    )
    return Schema(tables, foreign_keys, sequences)
