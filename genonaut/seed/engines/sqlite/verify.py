"""Checks on a SQLite database: every fixture row is there unchanged, no relation dangles.

Both read only: the target is opened with `mode=ro` and read in one snapshot.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path

from genonaut.seed.core.fixture_files import (
    FixtureFile,
    choose_tables,
    read_fixture_files,
    read_fixture_manifest,
)
from genonaut.seed.core.load_plan import check_columns, skip_key
from genonaut.seed.core.reports import (
    SAMPLE,
    RelationCheck,
    TableCheck,
    VerifySummary,
    differs_line,
    key_text,
    missing_line,
)
from genonaut.seed.core.reports import rows as rows_text
from genonaut.seed.core.schema_graph import ForeignKey

from .catalog import Catalog, read_catalog
from .connection import Session, Tracer, column_list, ident, quote, redact, session
from .load import read_affinities, read_rows, row_identity
from .values import Value, same, to_text


def verify_directory(
    input_dir: Path,
    database_url: str,
    *,
    tables: Sequence[str] = (),
    tracer: Tracer | None = None,
) -> VerifySummary:
    """Check the SQLite file of `database_url` against the fixtures in `input_dir`: their
    rows (by key) and, for every declared foreign key and the manifest's virtual relations,
    rows that reference nothing.

    Example: `verify_directory(Path("fixtures"), "sqlite:///test.db").ok`.
    """
    started = time.perf_counter()
    manifest = read_fixture_manifest(input_dir)
    files = read_fixture_files(input_dir, choose_tables(manifest, tables))
    report = VerifySummary(redact(database_url))
    with session(database_url, read_only=True, tracer=tracer) as db, db.snapshot():
        catalog = read_catalog(db)
        check_columns(catalog.schema, (f.entry for f in files))
        report.tables = list(check_rows(db, catalog, files))
        virtual = [fk for fk in manifest.relations if fk.is_virtual]
        report.relations = list(find_orphans(db, catalog, [*catalog.schema.foreign_keys, *virtual]))
        report.statements = db.statements
    report.seconds = time.perf_counter() - started
    return report


def check_rows(db: Session, catalog: Catalog, files: Iterable[FixtureFile]) -> list[TableCheck]:
    """For each file, how many of its rows the target lacks or holds with other values.

    Rows are matched by the primary key (else a unique key the file fills); a table with no
    key is compared as a multiset of whole rows (only `missing` can then be non-zero). The
    first SAMPLE missing rows and differing ones, in file order, are named in `details`, values
    in the fixture's text form."""
    return [_check_file(db, catalog, file) for file in files]


def _check_file(db: Session, catalog: Catalog, file: FixtureFile) -> TableCheck:
    entry = file.entry
    columns = entry.columns
    kinds = read_affinities(catalog, entry)
    rows = read_rows(file, kinds)
    key = skip_key(catalog.schema, entry)
    missing = differing = 0
    shown: list[str] = []
    shown_missing: list[str] = []

    def texts(values: Sequence[Value]) -> list[str | None]:
        return [to_text(v, kind) for v, kind in zip(values, kinds, strict=True)]

    if key:
        at = [columns.index(c) for c in key]
        where = " AND ".join(f"{quote(c)} = ?" for c in key)
        query = f"SELECT {column_list(columns)} FROM {ident(entry.name)} WHERE {where} LIMIT 1"
        for _, values in rows:
            found = db.fetch(query, [values[i] for i in at])
            if not found:
                missing += 1
                if len(shown_missing) < SAMPLE:
                    line = missing_line(entry.name, key_text(key, columns, texts(values)))
                    shown_missing.append(line)
            elif not all(same(a, b) for a, b in zip(values, found[0], strict=True)):
                differing += 1
                if len(shown) < SAMPLE:
                    fixture = texts(values)
                    where_key = key_text(key, columns, fixture)
                    database = texts(found[0])
                    shown.append(differs_line(entry.name, where_key, columns, fixture, database))
    else:
        wanted = Counter(row_identity(values) for _, values in rows)
        example = {row_identity(values): values for _, values in rows}
        where = " AND ".join(f"{quote(c)} IS ?" for c in columns)
        query = f"SELECT count(*) FROM {ident(entry.name)} WHERE {where}"
        for row, count in wanted.items():
            there = db.fetch(query, example[row])[0][0]
            missing += max(0, count - there)
        if missing:  # without a key, a row is there or not: no values to compare
            shown_missing.append(f"missing: {entry.name}: {rows_text(missing)} (no key)")
    return TableCheck(
        entry.name, entry.rows, missing, differing, details=tuple([*shown_missing, *shown])
    )


def find_orphans(
    db: Session, catalog: Catalog, relations: Iterable[ForeignKey]
) -> list[RelationCheck]:
    """For each relation, the rows of its table whose reference (all columns set, and the
    relation's condition true) finds no row of the referenced table.

    A virtual relation's `condition` is an SQL predicate on the child row, written with the
    child's column names (`kind = 'album'`)."""
    checks = []
    for fk in relations:
        if fk.table not in catalog.schema or fk.referred_table not in catalog.schema:
            continue
        tests = [f"c.{quote(col)} IS NOT NULL" for col in fk.columns]
        if fk.condition:
            tests.append(f"({fk.condition})")
        match = " AND ".join(
            f"p.{quote(r)} = c.{quote(col)}"
            for col, r in zip(fk.columns, fk.referred_columns, strict=True)
        )
        query = (
            f"SELECT count(*) FROM {ident(fk.table)} AS c WHERE {' AND '.join(tests)} "
            f"AND NOT EXISTS (SELECT 1 FROM {ident(fk.referred_table)} AS p WHERE {match})"
        )
        checks.append(RelationCheck(fk, fk.table, int(db.fetch(query)[0][0])))
    return checks
