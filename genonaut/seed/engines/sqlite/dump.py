"""Rows of one table as the body of a fixture file, in a stable order, streamed.

The order is the primary key's (the columns' own collations), then the rowid; a table with
no primary key is dumped in rowid order, which a load into an empty table reproduces, so
dumping the loaded copy gives the same bytes.
"""

from __future__ import annotations

import io
import sqlite3
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import IO

from genonaut.seed.core.fixture_format import MANIFEST, FixtureTable, Manifest, header_line
from genonaut.seed.core.schema_graph import TableName, dependency_order, leaf_edges
from genonaut.seed.errors import FixtureError

from .catalog import Catalog, rowid_name
from .connection import Session, ident, quote
from .values import Affinity, Value, affinity, encode_line


def key_columns(catalog: Catalog, name: TableName) -> tuple[str, ...]:
    """What identifies a row for `dump_rows(keys=...)`: the primary key, else the rowid."""
    table = catalog.table(name)
    return table.primary_key or (rowid_name(table),)


def column_affinities(catalog: Catalog, name: TableName, columns: Sequence[str]) -> list[Affinity]:
    table = catalog.table(name)
    return [affinity(table.column(c).type) for c in columns]


def dump_rows(
    db: Session,
    catalog: Catalog,
    name: TableName,
    sink: IO[bytes],
    *,
    keys: Collection[tuple[Value, ...]] | None = None,
    columns: Sequence[str] | None = None,
) -> int:
    """Write the rows of `name` (all, or those whose `key_columns` are in `keys`) to `sink`,
    one fixture line each; the number of rows written.

    Example: `dump_rows(db, catalog, TableName("main", "album"), f, keys={(1,), (5,)})`.

    Rows are read a batch at a time. A key set is matched while the table is read in order
    (one scan, no temporary table, which a read-only connection could not create).
    """
    table = catalog.table(name)
    wanted = tuple(columns) if columns is not None else tuple(c.name for c in table.stored_columns)
    kinds = column_affinities(catalog, name, wanted)
    selected = [quote(c) for c in wanted]
    key_at: slice | None = None
    if keys is not None:
        key = key_columns(catalog, name)
        key_at = slice(len(selected), len(selected) + len(key))
        selected += [quote(c) for c in key]
    order = ", ".join(quote(c) for c in catalog.order_by(name))
    query = f"SELECT {', '.join(selected) or 'NULL'} FROM {ident(name)} ORDER BY {order}"
    count = 0
    try:
        for row in db.stream(query):
            if key_at is not None and keys is not None and tuple(row[key_at]) not in keys:
                continue
            sink.write(encode_line(row[: len(wanted)], kinds))
            count += 1
    except sqlite3.OperationalError as exc:
        if "decode to UTF-8" not in str(exc):
            raise
        # SQLite keeps whatever bytes were stored as text; fixture files hold UTF-8 only.
        raise FixtureError(
            f"table {name}: {exc} (row {count + 1} in key order): text that is not UTF-8 "
            "cannot be written to a fixture file",
            hint=f"store such values as blobs in the source (UPDATE ... SET column = "
            f"CAST(column AS BLOB)), or leave table {name} out",
        ) from exc
    return count


def dump_bytes(
    db: Session,
    catalog: Catalog,
    name: TableName,
    *,
    keys: Collection[tuple[Value, ...]] | None = None,
) -> bytes:
    """`dump_rows` into memory: for tests and small tables."""
    buffer = io.BytesIO()
    dump_rows(db, catalog, name, buffer, keys=keys)
    return buffer.getvalue()


def declared_types(catalog: Catalog, name: TableName, columns: Sequence[str]) -> tuple[str, ...]:
    """The declared type of each column, as the manifest's `types` records them; the loader
    reads the fields back by these types' affinities."""
    table = catalog.table(name)
    return tuple(table.column(c).type for c in columns)


def dump_directory(
    db: Session,
    catalog: Catalog,
    directory: Path,
    *,
    tables: Sequence[TableName] | None = None,
) -> Manifest:
    """Every row of `tables` (default: all) into `directory`, one file per table and a
    manifest listing them parents first; a whole-table export with no row selection.

    Example: `dump_directory(db, read_catalog(db), Path("fixtures"))`. The reads share one
    snapshot. `directory` is created when missing; files in it are overwritten.
    """
    schema = catalog.schema
    names = sorted(tables if tables is not None else schema.data_tables)
    edges = leaf_edges(schema, names)
    ordered = [t for group in dependency_order(names, edges) for t in group]
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    with db.snapshot():
        for name in ordered:
            columns = tuple(c.name for c in catalog.table(name).stored_columns)
            file = f"{name.name}.tsv"
            with (directory / file).open("wb") as sink:
                sink.write(header_line(columns))
                rows = dump_rows(db, catalog, name, sink, columns=columns)
            entries.append(
                FixtureTable(
                    name=name,
                    file=file,
                    rows=rows,
                    columns=columns,
                    primary_key=catalog.table(name).primary_key,
                    types=declared_types(catalog, name, columns),
                )
            )
    wanted = set(ordered)
    manifest = Manifest(
        tables=tuple(entries),
        relations=tuple(fk for fk in schema.foreign_keys if fk.table in wanted),
        schema_fingerprint=schema.fingerprint(ordered),
    )
    (directory / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest
