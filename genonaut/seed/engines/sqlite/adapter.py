"""SQLite as a `core.engine.Engine`: the export's read transaction (catalog, `SQLiteRows`,
`dump_rows`), the load, verify, and database copies (the backup API) for tests."""

from __future__ import annotations

import dataclasses
import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from genonaut.seed.core.engine import Engine, LoadedTable, LoadOptions, Tracer
from genonaut.seed.core.reports import LoadSummary, VerifySummary
from genonaut.seed.core.row_source import Key, Projection
from genonaut.seed.core.schema_graph import Schema, TableName
from genonaut.seed.errors import ConfigError, export_refused

from .catalog import Catalog, read_catalog
from .clone import clone_database
from .clone import drop_database as drop_file
from .connection import Session, database_path, session
from .dump import dump_rows
from .load import RowDifference, import_directory
from .row_source import SQLiteRows
from .values import Affinity, affinity, from_text
from .verify import verify_directory

# The core names a row of a table without a primary key `ctid`; SQLite's is the rowid.
CTID = "ctid"


class SQLiteSnapshot:
    """The export's connection (read-only, `mode=ro`) inside one read transaction."""

    def __init__(self, db: Session) -> None:
        self.db = db
        self.catalog: Catalog | None = None

    @property
    def statements(self) -> int:
        return self.db.statements

    def read_schema(self) -> Schema:
        self.catalog = read_catalog(self.db)
        return self.catalog.schema

    def rows(self, schema: Schema) -> SQLiteRows:
        """`SQLiteRows` over the catalog with `schema`'s relations (virtual ones included)."""
        return SQLiteRows(self.db, dataclasses.replace(self._catalog(), schema=schema))

    def dump(self, projection: Projection, keys: Collection[Key], sink: IO[bytes]) -> int:
        """The rows whose identity (primary key, or rowid for `ctid`) is among `keys`, in
        primary-key order (then rowid)."""
        if not keys:
            return 0
        catalog = self._catalog()
        table = catalog.table(projection.table.name)
        kinds: list[Affinity] = [
            "INTEGER" if c == CTID else affinity(table.column(c).type) for c in projection.identity
        ]
        wanted = {tuple(from_text(v, k) for v, k in zip(key, kinds, strict=True)) for key in keys}
        return dump_rows(self.db, catalog, table.name, sink, keys=wanted)

    def _catalog(self) -> Catalog:
        if self.catalog is None:
            self.read_schema()
        assert self.catalog is not None
        return self.catalog


class SQLiteEngine:
    name = "sqlite"
    schemes = ("sqlite",)

    @contextmanager
    def snapshot(self, url: str, *, tracer: Tracer | None = None) -> Iterator[SQLiteSnapshot]:
        with session(url, read_only=True, tracer=tracer) as db, db.snapshot():
            try:
                yield SQLiteSnapshot(db)
            except sqlite3.Error as exc:
                raise export_refused(str(exc)) from exc

    def load(
        self,
        input_dir: Path,
        url: str,
        options: LoadOptions,
        *,
        on_table: Callable[[LoadedTable], None] | None = None,
        tracer: Tracer | None = None,
    ) -> LoadSummary:
        if options.cascade:
            raise ConfigError(
                "--cascade is not supported for SQLite",
                hint="load the referencing tables too (leave out --tables), or empty them first",
            )
        report = import_directory(
            input_dir,
            url,
            tables=options.tables,
            disable_triggers=options.disable_triggers,
            truncate_first=options.truncate_first,
            on_table=on_table,
            tracer=tracer,
        )
        remarks = _differing(report.differing)
        if report.emptied:
            remarks.append(f"emptied first: {', '.join(map(str, report.emptied))}")
        if report.triggers_disabled:
            n = len(report.triggers_disabled)
            remarks.append(f"{n} trigger{'s' if n != 1 else ''} dropped for the load, re-created")
        return LoadSummary(
            report.database,
            list(report.tables),
            counters=list(report.sequences),
            remarks=remarks,
            statements=report.statements,
            seconds=report.seconds,
        )

    def verify(
        self,
        input_dir: Path,
        url: str,
        *,
        tables: Sequence[str] = (),
        tracer: Tracer | None = None,
        condition_timeout: float | None = None,
    ) -> VerifySummary:
        """`condition_timeout` has no SQLite counterpart: a relation's condition runs to the
        end."""
        return verify_directory(input_dir, url, tables=tables, tracer=tracer)

    def copy_database(self, url: str, name: str) -> str:
        """A copy of the file (backup API) at path `name`; its URL."""
        target = clone_database(database_path(url), Path(name))
        return f"sqlite:///{target}"

    def drop_database(self, url: str) -> None:
        drop_file(database_path(url))


def _differing(rows: Sequence[RowDifference]) -> list[str]:
    """Per table: rows already there with other values than the fixture's, kept as they were."""
    by_table: dict[TableName, list[RowDifference]] = {}
    for row in rows:
        by_table.setdefault(row.table, []).append(row)
    return [
        f"{table}: {len(found)} row{'s' if len(found) != 1 else ''} already there differ from "
        f"the fixture's (first: {found[0].describe()}) and were kept as they were"
        for table, found in by_table.items()
    ]


ENGINE: Engine = SQLiteEngine()
