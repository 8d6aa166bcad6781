"""Load fixture files into a SQLite database: one transaction, parents first, nothing twice.

1. `BEGIN IMMEDIATE` takes the write lock at once, so a concurrent writer fails the import
   before any work instead of at COMMIT.
2. `PRAGMA defer_foreign_keys = ON` lets a cycle (tables referencing each other, a table
   referencing itself) be inserted in any row order: foreign keys are checked at the end.
3. With `disable_triggers`, the loaded tables' triggers are dropped and re-created from their
   own SQL inside the transaction (SQLite's DDL is transactional; it has no switch for them).
   With `truncate_first`, the loaded tables are emptied (`DELETE`, and their `sqlite_sequence`
   counters reset), unless tables outside them hold rows referencing them.
4. Tables are inserted parents first. A row whose key (primary key, else a unique key the
   file fills) is already present is skipped and counted; if its values differ from the
   file's, the difference is reported. A table with no key compares whole rows.
5. `PRAGMA foreign_key_check` on every loaded table, naming each violation, then each
   AUTOINCREMENT table's `sqlite_sequence` counter is moved past its loaded ids, then COMMIT.
   Any error before COMMIT rolls everything back.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from genonaut.seed.core.fixture_files import (
    FixtureFile,
    choose_tables,
    read_fixture_files,
    read_fixture_manifest,
)
from genonaut.seed.core.fixture_format import FixtureTable, Manifest
from genonaut.seed.core.load_plan import Step, check_columns, plan_steps, skip_key
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.errors import ConfigError, FixtureError, LoadFailed

from .catalog import SEQUENCE_SCHEMA, Catalog, Trigger, read_catalog, rowid_name, table_name
from .connection import Session, Tracer, column_list, ident, quote, redact, session
from .values import Affinity, FieldError, Value, affinity, decode_line, same

log = logging.getLogger(__name__)

DAMAGED_HINT = "restore the fixture directory from git, or re-export the fixtures"


@dataclass(frozen=True)
class TableResult:
    table: TableName
    in_file: int
    inserted: int

    @property
    def already_there(self) -> int:
        return self.in_file - self.inserted


@dataclass(frozen=True)
class RowDifference:
    """A fixture row whose key is present in the target with other values (left as it was)."""

    table: TableName
    file: Path
    line: int
    key: tuple[Value, ...]
    columns: tuple[str, ...]

    def describe(self) -> str:
        return (
            f"{self.file}: line {self.line}: {self.table} already holds key {self.key!r} "
            f"with other values in {', '.join(self.columns)}"
        )


@dataclass
class LoadReport:
    database: str
    tables: list[TableResult] = field(default_factory=list)
    differing: list[RowDifference] = field(default_factory=list)
    sequences: list[tuple[TableName, int]] = field(default_factory=list)
    triggers_disabled: list[str] = field(default_factory=list)
    emptied: list[TableName] = field(default_factory=list)
    statements: int = 0
    seconds: float = 0.0

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables)


def import_directory(
    input_dir: Path,
    database_url: str,
    *,
    tables: Sequence[str] = (),
    disable_triggers: bool = False,
    truncate_first: bool = False,
    on_table: Callable[[TableResult], None] | None = None,
    tracer: Tracer | None = None,
) -> LoadReport:
    """Load the fixtures in `input_dir` into the SQLite file of `database_url`, all or nothing.

    Example: `import_directory(Path("fixtures"), "sqlite:///test.db")`.
    """
    started = time.perf_counter()
    manifest = read_fixture_manifest(input_dir)
    files = read_fixture_files(input_dir, choose_tables(manifest, tables))
    with session(database_url, tracer=tracer) as db:
        report = load_files(
            db,
            read_catalog(db),
            manifest,
            files,
            disable_triggers=disable_triggers,
            truncate_first=truncate_first,
            on_table=on_table,
        )
    report.database = redact(database_url)
    report.seconds = time.perf_counter() - started
    return report


def load_files(
    db: Session,
    catalog: Catalog,
    manifest: Manifest,
    files: Sequence[FixtureFile],
    *,
    disable_triggers: bool = False,
    truncate_first: bool = False,
    on_table: Callable[[TableResult], None] | None = None,
) -> LoadReport:
    """Load `files` (checked by `read_fixture_files`) in one transaction of `db`.

    Raises SchemaDrift, FixtureError (a damaged value, by file, line and column) or
    LoadFailed (a row refused, a foreign key violated); the target is then unchanged.
    """
    started = time.perf_counter()
    schema = catalog.schema
    check_columns(schema, (f.entry for f in files))
    by_name = {f.name: f for f in files}
    steps = plan_steps(schema, manifest, list(by_name))
    report = LoadReport(database="")
    first = db.statements
    try:
        with db.transaction(immediate=True):
            db.execute("PRAGMA defer_foreign_keys = ON")
            dropped = _drop_triggers(db, catalog, by_name) if disable_triggers else []
            report.triggers_disabled = [t.name for t in dropped]
            if truncate_first:
                report.emptied = _empty(db, catalog, [t for step in steps for t in step.tables])
            for step in steps:
                for result in _load_step(db, catalog, step, by_name, report.differing):
                    report.tables.append(result)
                    log.info("%s: %d in file, %d inserted", *_fields(result))
                    if on_table is not None:
                        on_table(result)
            for trigger in dropped:
                db.execute(trigger.sql)
            check_foreign_keys(db, catalog, list(by_name))
            report.sequences = advance_sequences(db, catalog, list(by_name))
    except sqlite3.Error as exc:
        raise LoadFailed(
            f"the load failed, nothing was committed: {exc}",
            hint="another connection may hold the database (close it and retry)"
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc)
            else "",
        ) from exc
    report.statements = db.statements - first
    report.seconds = time.perf_counter() - started
    return report


def _empty(db: Session, catalog: Catalog, tables: Sequence[TableName]) -> list[TableName]:
    """Delete every row of `tables`, children first, and reset their sqlite_sequence counters;
    ConfigError when a table outside them holds rows that reference them."""
    loaded = set(tables)
    outside = sorted(
        {
            fk.table
            for fk in catalog.schema.foreign_keys
            if fk.referred_table in loaded and fk.table not in loaded
        }
    )
    blocking = [t for t in outside if db.fetch(f"SELECT EXISTS (SELECT 1 FROM {ident(t)})")[0][0]]
    if blocking:
        raise ConfigError(
            f"cannot empty the loaded tables: {', '.join(map(str, blocking))} hold rows that "
            "reference them",
            hint="load those tables too (leave out --tables), or empty them first",
        )
    for name in reversed(tables):
        db.execute(f"DELETE FROM {ident(name)}")
        if name in catalog.autoincrement:
            db.execute("DELETE FROM sqlite_sequence WHERE name = ?", (name.name,))
    return list(tables)


def _fields(result: TableResult) -> tuple[TableName, int, int]:
    return result.table, result.in_file, result.inserted


def _drop_triggers(
    db: Session, catalog: Catalog, files: dict[TableName, FixtureFile]
) -> list[Trigger]:
    dropped = [t for name in files for t in catalog.triggers.get(name, ())]
    for trigger in dropped:
        db.execute(f"DROP TRIGGER {quote(trigger.name)}")
    return dropped


def _load_step(
    db: Session,
    catalog: Catalog,
    step: Step,
    files: dict[TableName, FixtureFile],
    differing: list[RowDifference],
) -> list[TableResult]:
    # Foreign keys are deferred for the whole load, so a cycle needs no special order.
    return [_load_table(db, catalog, files[name], differing) for name in step.tables]


def read_affinities(catalog: Catalog, entry: FixtureTable) -> list[Affinity]:
    """How to read each field: by the source's declared types in the manifest (the encoding
    was chosen by them), else by the target's."""
    if entry.types and len(entry.types) == len(entry.columns):
        return [affinity(t) for t in entry.types]
    table = catalog.table(entry.name)
    return [affinity(table.column(c).type) for c in entry.columns]


def _load_table(
    db: Session, catalog: Catalog, file: FixtureFile, differing: list[RowDifference]
) -> TableResult:
    entry = file.entry
    name = entry.name
    columns = entry.columns
    kinds = read_affinities(catalog, entry)
    key = skip_key(catalog.schema, entry)
    key_at = [columns.index(c) for c in key]
    insert = (
        f"INSERT INTO {ident(name)} ({column_list(columns)}) "
        f"VALUES ({', '.join('?' * len(columns))})"
    )
    # An empty table holds nothing to skip: no look-ups.
    is_empty = not db.fetch(f"SELECT 1 FROM {ident(name)} LIMIT 1")
    lookup = _lookup(name, columns, key)
    counter = _RowCounter(db, name, columns)
    inserted = 0
    for number, values in read_rows(file, kinds):
        if not is_empty:
            if key:
                present = _present_by_key(db, lookup, [values[i] for i in key_at])
                if present is not None:
                    changed = tuple(
                        c
                        for c, a, b in zip(columns, values, present, strict=True)
                        if not same(a, b)
                    )
                    if changed:
                        differing.append(
                            RowDifference(
                                name, file.path, number, tuple(values[i] for i in key_at), changed
                            )
                        )
                    continue
            elif counter.take(values):
                continue
        try:
            db.execute(insert, values)
        except sqlite3.IntegrityError as exc:
            raise LoadFailed(
                f"{file.path}: line {number}: {name} refused the row: {exc}",
                hint="the target's constraints differ from the source's, or the file was "
                "edited: check the row, or re-export the fixtures",
            ) from exc
        if not key:
            counter.added(values)
        inserted += 1
    return TableResult(name, entry.rows, inserted)


def _lookup(name: TableName, columns: Sequence[str], key: Sequence[str]) -> str:
    where = " AND ".join(f"{quote(c)} = ?" for c in key)
    return f"SELECT {column_list(columns)} FROM {ident(name)} WHERE {where} LIMIT 1"


def _present_by_key(db: Session, lookup: str, key: list[Value]) -> tuple[Value, ...] | None:
    if any(v is None for v in key):  # NULLs never match: a unique key does not hold them
        return None
    rows = db.fetch(lookup, key)
    return tuple(rows[0]) if rows else None


class _RowCounter:
    """For a table with no key: is an identical row present that no earlier line matched?

    Whole rows are compared (`IS`, so NULLs match), as a multiset: two identical lines need
    two identical rows in the target to both count as present."""

    def __init__(self, db: Session, name: TableName, columns: Sequence[str]) -> None:
        self.db = db
        where = " AND ".join(f"{quote(c)} IS ?" for c in columns)
        self.query = f"SELECT count(*) FROM {ident(name)} WHERE {where}"
        self.matched: dict[tuple[object, ...], int] = {}
        self.inserted: dict[tuple[object, ...], int] = {}

    def take(self, values: list[Value]) -> bool:
        row = row_identity(values)
        there = self.db.fetch(self.query, values)[0][0] - self.inserted.get(row, 0)
        if self.matched.get(row, 0) < there:
            self.matched[row] = self.matched.get(row, 0) + 1
            return True
        return False

    def added(self, values: list[Value]) -> None:
        row = row_identity(values)
        self.inserted[row] = self.inserted.get(row, 0) + 1


def row_identity(values: Sequence[Value]) -> tuple[object, ...]:
    # 1, 1.0 and True are equal to Python; the class keeps them apart.
    return tuple((type(v).__name__, v.hex() if isinstance(v, float) else v) for v in values)


def read_rows(file: FixtureFile, kinds: Sequence[Affinity]) -> list[tuple[int, list[Value]]]:
    """(line number, values) of each row; a damaged line is a FixtureError naming the file,
    the line and the column."""
    rows = []
    lines = file.body.split(b"\n")[:-1] if file.body else []
    for number, raw in enumerate(lines, start=2):  # line 1 is the header
        where = f"{file.path}: line {number}"
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FixtureError(
                f"{where}: byte {raw[exc.start]:#04x} at offset {exc.start} is not UTF-8",
                hint=DAMAGED_HINT,
            ) from exc
        try:
            rows.append((number, decode_line(text, kinds)))
        except FieldError as exc:
            column = file.entry.columns[exc.position - 1]
            raise FixtureError(f"{where}, column {column}: {exc}", hint=DAMAGED_HINT) from exc
        except ValueError as exc:
            raise FixtureError(f"{where}: {exc}", hint=DAMAGED_HINT) from exc
    return rows


def check_foreign_keys(db: Session, catalog: Catalog, tables: Sequence[TableName]) -> None:
    """Raise LoadFailed naming the rows of `tables` whose foreign keys find no parent: the
    table, the row's key (or rowid), the referencing columns and values, the parent table."""
    problems = []
    for name in tables:
        # table, rowid (NULL in a WITHOUT ROWID table), parent, foreign key id
        found = db.fetch(f"PRAGMA foreign_key_check({quote(name.name)})")
        if not found:
            continue
        links: dict[int, list[tuple[str, str | None]]] = {}
        for fk_id, _, _, column, referred, *_ in db.fetch(
            f"PRAGMA foreign_key_list({quote(name.name)})"
        ):
            links.setdefault(fk_id, []).append((column, referred))
        described: set[int] = set()
        for _, rowid, parent, fk_id in found:
            columns = [c for c, _ in links.get(fk_id, [])]
            if rowid is not None:
                problems.append(_violation(db, catalog, name, columns, parent, rowid))
            elif fk_id not in described:
                # A WITHOUT ROWID table's rows have no rowid to name: find them by their key.
                described.add(fk_id)
                problems.extend(_keyed_violations(db, catalog, name, links[fk_id], parent))
    if problems:
        more = f"; and {len(problems) - 5} more" if len(problems) > 5 else ""
        raise LoadFailed(
            f"{len(problems)} rows reference rows that are neither in the fixtures nor in the "
            f"target: {'; '.join(problems[:5])}{more}",
            hint="load the referenced tables too (drop --tables), or add their rows to the "
            "target first",
        )


def _violation(
    db: Session, catalog: Catalog, name: TableName, columns: list[str], parent: str, rowid: int
) -> str:
    table = catalog.table(name)
    key = table.primary_key
    values = db.fetch(
        f"SELECT {column_list([*key, *columns])} FROM {ident(name)} "
        f"WHERE {quote(rowid_name(table))} = ?",
        (rowid,),
    )[0]
    where = f"key ({', '.join(key)}) = {values[: len(key)]!r}" if key else f"rowid {rowid}"
    return (
        f"{name} row {where}: ({', '.join(columns)}) = {values[len(key) :]!r} finds no row "
        f"in {parent}"
    )


def _keyed_violations(
    db: Session,
    catalog: Catalog,
    name: TableName,
    link: list[tuple[str, str | None]],
    parent: str,
) -> list[str]:
    key = catalog.table(name).primary_key
    columns = [c for c, _ in link]
    referred = [r for _, r in link]
    if None in referred and table_name(parent) in catalog.schema:
        referred = list(catalog.table(table_name(parent)).primary_key)
    match = " AND ".join(
        f"p.{quote(str(r))} = c.{quote(c)}" for c, r in zip(columns, referred, strict=True)
    )
    set_ = " AND ".join(f"c.{quote(c)} IS NOT NULL" for c in columns)
    rows = db.fetch(
        f"SELECT {', '.join('c.' + quote(c) for c in [*key, *columns])} FROM {ident(name)} AS c "
        f"WHERE {set_} AND NOT EXISTS (SELECT 1 FROM {quote(parent)} AS p WHERE {match})"
    )
    return [
        f"{name} row key ({', '.join(key)}) = {row[: len(key)]!r}: ({', '.join(columns)}) = "
        f"{row[len(key) :]!r} finds no row in {parent}"
        for row in rows
    ]


def advance_sequences(
    db: Session, catalog: Catalog, tables: Sequence[TableName]
) -> list[tuple[TableName, int]]:
    """Move each loaded AUTOINCREMENT table's sqlite_sequence counter past its largest id;
    (sequence, value) of each."""
    moved = []
    for name in tables:
        if name not in catalog.autoincrement:
            continue
        alias = catalog.rowid_alias[name]
        largest = db.fetch(f"SELECT max({quote(alias)}) FROM {ident(name)}")[0][0]
        current = db.fetch("SELECT seq FROM sqlite_sequence WHERE name = ?", (name.name,))
        value = max(int(largest or 0), int(current[0][0]) if current else 0)
        if not current:
            db.execute("INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", (name.name, value))
        elif value != current[0][0]:
            db.execute("UPDATE sqlite_sequence SET seq = ? WHERE name = ?", (value, name.name))
        moved.append((TableName(SEQUENCE_SCHEMA, name.name), value))
    return moved
