"""A row selection on SQLite, checked by SQLite itself: the chosen rows are dumped by key into
fixture files and loaded into an empty copy of the schema, whose load runs
`PRAGMA foreign_key_check`; so a reference to a row left out, or a key the dump reads
otherwise than the row source, fails the load."""

from __future__ import annotations

from pathlib import Path

from memory_rows import Row

from genonaut.seed.core.fixture_format import (
    MANIFEST,
    FixtureTable,
    Manifest,
    file_name,
    header_line,
)
from genonaut.seed.core.picks import Selection
from genonaut.seed.core.schema_graph import Schema, TableName
from genonaut.seed.engines.sqlite.catalog import Catalog
from genonaut.seed.engines.sqlite.clone import copy_schema
from genonaut.seed.engines.sqlite.connection import Session, column_list, ident
from genonaut.seed.engines.sqlite.dump import (
    column_affinities,
    declared_types,
    dump_rows,
    key_columns,
)
from genonaut.seed.engines.sqlite.load import LoadReport, import_directory
from genonaut.seed.engines.sqlite.values import Value, affinity, from_text, to_text


def chosen(selection: Selection) -> dict[str, dict[tuple[str | None, ...], str]]:
    """Each table's chosen keys and how each came in."""
    return {
        leaf.name: {key: row.origin for key, row in pick.rows.items()}
        for leaf, pick in selection.picks.items()
    }


def rows_as_text(db: Session, catalog: Catalog) -> dict[TableName, list[Row]]:
    """Every table's rows in key order, each value in the text the dump writes: what
    `MemoryRows` holds. A table without a primary key must number its rowids from 0, so that
    a row's place in the list is its rowid."""
    rows: dict[TableName, list[Row]] = {}
    for table in catalog.schema.tables:
        names = table.column_names
        kinds = column_affinities(catalog, table.name, names)
        order = column_list(catalog.order_by(table.name))
        found = db.fetch(f"SELECT {column_list(names)} FROM {ident(table.name)} ORDER BY {order}")
        rows[table.name] = [
            {n: to_text(v, k) for n, v, k in zip(names, values, kinds, strict=True)}
            for values in found
        ]
    return rows


def write_selection(db: Session, catalog: Catalog, selection: Selection, directory: Path) -> None:
    """The chosen rows of every table, dumped by key, and a manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for group in selection.order:
        for name in group:
            columns = tuple(c.name for c in catalog.table(name).stored_columns)
            keys = {_values(catalog, name, key) for key in selection.picks[name].rows}
            file = file_name(name)
            with (directory / file).open("wb") as sink:
                sink.write(header_line(columns))
                count = dump_rows(db, catalog, name, sink, keys=keys, columns=columns)
            assert count == len(keys), f"{name}: the dump found {count} of {len(keys)} keys"
            entries.append(
                FixtureTable(
                    name=name,
                    file=file,
                    rows=count,
                    columns=columns,
                    primary_key=catalog.table(name).primary_key,
                    types=declared_types(catalog, name, columns),
                )
            )
    schema: Schema = catalog.schema
    names = [e.name for e in entries]
    manifest = Manifest(
        tables=tuple(entries),
        relations=tuple(fk for fk in schema.foreign_keys if fk.table in names),
        schema_fingerprint=schema.fingerprint(names),
    )
    (directory / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")


def load_selection(
    db: Session, catalog: Catalog, selection: Selection, source: Path, work: Path
) -> LoadReport:
    """Dump the chosen rows and load them into an empty copy of `source`'s schema."""
    write_selection(db, catalog, selection, work / "fixtures")
    target = copy_schema(source, work / "target.sqlite")
    return import_directory(work / "fixtures", f"sqlite:///{target}", disable_triggers=True)


def _values(catalog: Catalog, name: TableName, key: tuple[str | None, ...]) -> tuple[Value, ...]:
    table = catalog.table(name)
    columns = key_columns(catalog, name)
    kinds = [affinity(table.column(c).type) if table.primary_key else "INTEGER" for c in columns]
    return tuple(from_text(text, kind) for text, kind in zip(key, kinds, strict=True))
