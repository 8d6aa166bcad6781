"""Helpers for the MariaDB suite (test/mariadb/): run SQL, and a plain export of every row of
every table into a fixture directory, the way the exporter will drive the engine."""

from __future__ import annotations

from pathlib import Path

import pymysql

from genonaut.seed.core.fixture_files import FixtureFile, read_fixture_files, read_fixture_manifest
from genonaut.seed.core.fixture_format import (
    FixtureTable,
    Manifest,
    file_name,
    header_line,
)
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName
from genonaut.seed.engines.mariadb.catalog import read_schema
from genonaut.seed.engines.mariadb.connection import parse_url, session
from genonaut.seed.engines.mariadb.dump import dump_rows
from genonaut.seed.engines.mariadb.load import LoadReport, load_fixtures

# Fixture files are named for the table alone: the database's name is the schema of a
# TableName, and a copy has another.
SCHEMA = "public"


def run(url: str, *statements: str) -> list[tuple[object, ...]]:
    """Run each statement in autocommit mode (time_zone UTC); the rows of the last one,
    decoded by PyMySQL."""
    params = parse_url(url)
    conn = pymysql.connect(
        host=params.host,
        port=params.port,
        user=params.user,
        password=params.password,
        database=params.database or None,
        unix_socket=params.unix_socket,
        charset="utf8mb4",
        autocommit=True,
    )
    try:
        rows: list[tuple[object, ...]] = []
        with conn.cursor() as cur:
            cur.execute("SET SESSION time_zone = '+00:00'")
            for statement in statements:
                cur.execute(statement)
                rows = list(cur.fetchall()) if cur.description else []
        return rows
    finally:
        conn.close()


def neutral(name: TableName) -> TableName:
    return TableName(SCHEMA, name.name)


def export_all(url: str, directory: Path) -> Manifest:
    """Every row of every table into `directory` (header, then `dump_rows`), with a manifest,
    read in one snapshot."""
    directory.mkdir(parents=True, exist_ok=True)
    with session(url, read_only=True) as db:
        schema = read_schema(db)
        entries = []
        for table in schema.tables:
            columns = tuple(c.name for c in table.stored_columns)
            with (directory / file_name(neutral(table.name))).open("wb") as sink:
                sink.write(header_line(columns))
                rows = dump_rows(db, table, sink)
            entries.append(
                FixtureTable(
                    name=neutral(table.name),
                    file=file_name(neutral(table.name)),
                    rows=rows,
                    columns=columns,
                    primary_key=table.primary_key,
                    types=tuple(c.type for c in table.stored_columns),
                )
            )
    manifest = Manifest(tuple(entries), _relations(schema), schema.fingerprint([]))
    (directory / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def _relations(schema: Schema) -> tuple[ForeignKey, ...]:
    return tuple(
        ForeignKey(
            fk.name, neutral(fk.table), fk.columns, neutral(fk.referred_table), fk.referred_columns
        )
        for fk in schema.foreign_keys
    )


def fixture_files(directory: Path) -> list[FixtureFile]:
    return read_fixture_files(directory, read_fixture_manifest(directory).tables)


def load_all(url: str, directory: Path, *, load_data: bool = True) -> LoadReport:
    """Load every file of `directory`: by LOAD DATA LOCAL INFILE, or by INSERTs."""
    with session(url, local_infile=load_data) as db:
        return load_fixtures(db, read_schema(db), fixture_files(directory))


def files_of(directory: Path) -> dict[str, bytes]:
    """Every file of a fixture directory, by name."""
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}
