"""PostgreSQL as a `core.engine.Engine`: the export's snapshot (catalog, `PostgresRows`,
`COPY (SELECT ...) TO STDOUT`), the importer, verify, and database copies for tests."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING

import psycopg2
from psycopg2 import sql

from genonaut.database_url import first_line
from genonaut.seed.errors import ConfigError, export_refused

from .catalog import read_schema
from .connection import Session, connect, database_of, ident, session, with_database

if TYPE_CHECKING:
    from genonaut.seed.core.engine import Engine, LoadedTable, LoadOptions, Tracer
    from genonaut.seed.core.row_source import Key, Projection, RowSource
    from genonaut.seed.core.schema_graph import Schema, Table

    from .loader import ImportReport, TableResult
    from .verify import VerifyReport


class PostgresSnapshot:
    """The export's session: one REPEATABLE READ READ ONLY transaction."""

    def __init__(self, db: Session) -> None:
        self.db = db

    @property
    def statements(self) -> int:
        return self.db.statements

    def read_schema(self) -> Schema:
        return read_schema(self.db)

    def rows(self, schema: Schema) -> RowSource:
        # The export's alone, like `dump`: an import loads none of the selection's queries.
        from .row_source import PostgresRows

        return PostgresRows(self.db, schema)

    def dump(self, projection: Projection, keys: Collection[Key], sink: IO[bytes]) -> int:
        """One `COPY` of the chosen rows, in file order; PostgreSQL writes each value in its
        own text form."""
        if not keys:
            return 0
        from .row_queries import key_filter

        table = projection.table
        columns = tuple(c.name for c in table.stored_columns)
        clause, params = key_filter(projection, projection.identity, keys)
        query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(
            sql.SQL(", ").join(sql.Identifier(c) for c in columns),
            ident(table.name),
            clause,
            file_order(table),
        )
        self.db.copy_out(query, params, sink)
        return len(keys)


def file_order(table: Table) -> sql.Composable:
    """Primary-key order (all columns without one), text in the "C" collation, so that files
    do not depend on the server's locale."""
    columns = table.primary_key or tuple(c.name for c in table.stored_columns)
    parts: list[sql.Composable] = []
    for name in columns:
        column = table.column(name)
        if not column.is_sortable:
            parts.append(sql.SQL('{}::text COLLATE "C"').format(sql.Identifier(name)))
        elif column.is_collatable:
            parts.append(sql.SQL('{} COLLATE "C"').format(sql.Identifier(name)))
        else:
            parts.append(sql.Identifier(name))
    return sql.SQL(", ").join(parts)


class PostgresEngine:
    name = "postgresql"
    schemes = ("postgresql", "postgres", "postgresql+psycopg2")

    @contextmanager
    def snapshot(self, url: str, *, tracer: Tracer | None = None) -> Iterator[PostgresSnapshot]:
        with session(url, read_only=True, tracer=tracer) as db:
            try:
                yield PostgresSnapshot(db)
            except psycopg2.Error as exc:
                raise export_refused(first_line(exc)) from exc
            db.conn.rollback()

    def load(
        self,
        input_dir: Path,
        url: str,
        options: LoadOptions,
        *,
        on_table: Callable[[LoadedTable], None] | None = None,
        tracer: Tracer | None = None,
    ) -> ImportReport:
        from .loader import import_seed  # the export needs none of the loader

        progress: Callable[[TableResult], None] | None = on_table
        return import_seed(
            input_dir,
            url,
            tables=options.tables,
            truncate_first=options.truncate_first,
            cascade=options.cascade,
            disable_triggers=options.disable_triggers,
            on_table=progress,
            tracer=tracer,
        )

    def verify(
        self,
        input_dir: Path,
        url: str,
        *,
        tables: Sequence[str] = (),
        tracer: Tracer | None = None,
        condition_timeout: float | None = None,
    ) -> VerifyReport:
        from .verify import verify_seed

        if condition_timeout is None:
            return verify_seed(input_dir, url, tables=tables, tracer=tracer)
        return verify_seed(
            input_dir, url, tables=tables, tracer=tracer, condition_timeout=condition_timeout
        )

    def copy_database(self, url: str, name: str) -> str:
        """`CREATE DATABASE name TEMPLATE <url's database>`: a copy with its rows (nobody may
        be connected to the source meanwhile)."""
        source = database_of(url)
        if not source:
            raise ConfigError(f"{url} names no database to copy", hint="add /dbname to the URL")
        self._admin(
            url,
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(source)
            ),
        )
        return with_database(url, name)

    def drop_database(self, url: str) -> None:
        name = database_of(url)
        self._admin(url, sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))

    def _admin(self, url: str, statement: sql.Composable) -> None:
        conn = connect(with_database(url, "postgres"))
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(statement)
        except psycopg2.Error as exc:
            hint = "the role needs the CREATEDB privilege"
            raise ConfigError(str(exc).strip(), hint=hint) from exc
        finally:
            conn.close()


ENGINE: Engine = PostgresEngine()
