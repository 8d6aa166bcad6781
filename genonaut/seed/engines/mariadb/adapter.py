"""MariaDB as a `core.engine.Engine`: the export's consistent read-only snapshot (catalog,
`MariaDBRows`, `dump_rows`), the staged load, verify, and database copies for tests."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pymysql

from genonaut.seed.core.engine import Engine, LoadedTable, LoadOptions, Tracer
from genonaut.seed.core.fixture_files import (
    choose_tables,
    read_fixture_files,
    read_fixture_manifest,
)
from genonaut.seed.core.reports import LoadSummary, TableLoad, VerifySummary
from genonaut.seed.core.row_source import Key, Projection
from genonaut.seed.core.schema_graph import Schema
from genonaut.seed.errors import ConfigError, export_refused

from .catalog import read_schema
from .clone import clone_database
from .clone import drop_database as drop_named
from .connection import Session, parse_url, redact, session, with_database
from .dump import dump_positions, dump_rows
from .load import load_fixtures
from .row_queries import CTID
from .row_source import MariaDBRows
from .staging import message_of
from .verify import check_rows, orphans, relations_of

UNSUPPORTED = {
    "truncate_first": ("--truncate-first", "load into an empty copy of the schema instead"),
    "cascade": ("--cascade", "load into an empty copy of the schema instead"),
    "disable_triggers": (
        "--disable-triggers",
        "MariaDB cannot switch triggers off: drop them in the test database before the load "
        "and re-create them after (the load reports what they changed)",
    ),
}


class MariaDBSnapshot:
    """The export's session: START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY."""

    def __init__(self, db: Session) -> None:
        self.db = db

    @property
    def statements(self) -> int:
        return self.db.statements

    def read_schema(self) -> Schema:
        return read_schema(self.db)

    def rows(self, schema: Schema) -> MariaDBRows:
        return MariaDBRows(self.db, schema)

    def dump(self, projection: Projection, keys: Collection[Key], sink: IO[bytes]) -> int:
        """The rows of `keys` in primary-key order (every column without one, whose rows the
        selection names by their place in that order)."""
        if not keys:
            return 0
        table = projection.table
        if projection.identity == (CTID,):
            return dump_positions(self.db, table, sink, {int(str(k[0])) for k in keys})
        return dump_rows(self.db, table, sink, keys, key_columns=projection.identity)


class MariaDBEngine:
    name = "mariadb"
    schemes = ("mysql", "mariadb", "mysql+pymysql", "mariadb+pymysql")

    @contextmanager
    def snapshot(self, url: str, *, tracer: Tracer | None = None) -> Iterator[MariaDBSnapshot]:
        with session(url, read_only=True, tracer=tracer) as db:
            try:
                yield MariaDBSnapshot(db)
            except pymysql.err.MySQLError as exc:
                raise export_refused(message_of(exc)) from exc

    def load(
        self,
        input_dir: Path,
        url: str,
        options: LoadOptions,
        *,
        on_table: Callable[[LoadedTable], None] | None = None,
        tracer: Tracer | None = None,
    ) -> LoadSummary:
        for option, (flag, hint) in UNSUPPORTED.items():
            if getattr(options, option):
                raise ConfigError(f"{flag} is not supported for MariaDB", hint=hint)
        started = time.perf_counter()
        manifest = read_fixture_manifest(input_dir)
        files = read_fixture_files(input_dir, choose_tables(manifest, options.tables))
        virtual = [fk for fk in manifest.relations if fk.is_virtual]
        summary = LoadSummary(redact(url))
        with session(url, local_infile=True, tracer=tracer) as db:
            report = load_fixtures(db, read_schema(db), files, relations=virtual)
        for t in report.tables:
            summary.tables.append(TableLoad(t.table, t.in_file, t.inserted))
            if on_table is not None:
                on_table(summary.tables[-1])
        summary.counters = list(report.auto_increment)
        summary.remarks = report.trigger_notes()
        if not report.faithful:
            summary.remarks.append(
                "triggers changed loaded rows: the tables do not hold exactly the fixtures "
                "(docs/fixture-format.md says what to do)"
            )
        summary.statements = report.statements
        summary.seconds = time.perf_counter() - started
        return summary

    def verify(
        self,
        input_dir: Path,
        url: str,
        *,
        tables: Sequence[str] = (),
        tracer: Tracer | None = None,
        condition_timeout: float | None = None,
    ) -> VerifySummary:
        """`condition_timeout` is not applied on MariaDB: a relation's condition runs to the
        end."""
        started = time.perf_counter()
        manifest = read_fixture_manifest(input_dir)
        files = read_fixture_files(input_dir, choose_tables(manifest, tables))
        virtual = [fk for fk in manifest.relations if fk.is_virtual]
        summary = VerifySummary(redact(url))
        with session(url, tracer=tracer) as db:
            schema = read_schema(db)
            summary.tables = list(check_rows(db, schema, files))
            checked = [c.table for c in summary.tables]
            summary.relations = list(orphans(db, schema, relations_of(schema, checked, virtual)))
            summary.statements = db.statements
        summary.seconds = time.perf_counter() - started
        return summary

    def copy_database(self, url: str, name: str) -> str:
        """A copy of the URL's database (tables, rows, keys, triggers) named `name`."""
        with session(url) as db:
            clone_database(db, parse_url(url).database, name)
        return with_database(url, name)

    def drop_database(self, url: str) -> None:
        with session(with_database(url, "")) as db:
            drop_named(db, parse_url(url).database)


ENGINE: Engine = MariaDBEngine()
