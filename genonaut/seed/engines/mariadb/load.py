"""Load fixture files into a MariaDB database in one transaction: all rows, or none.

1. Each file goes into a temporary staging table made `LIKE` its target (same types, keys,
   CHECK constraints; no foreign keys, no triggers) under a strict sql_mode, by LOAD DATA
   LOCAL INFILE when the session allows it (`session(url, local_infile=True)`, and the
   server's `local_infile` ON), else by batched parameterised INSERTs (`staging`), so a
   damaged value is named by file, line and column before any real table is touched.
2. Tables are inserted parents first with `INSERT ... SELECT ... WHERE NOT EXISTS` on the
   primary key (else a unique key, else every column): a row already present is skipped and
   counted, and counted as differing when its values are not those of the file.
3. A cycle (tables referencing each other, or a table referencing itself, whose rows InnoDB
   would check one by one) is inserted with `FOREIGN_KEY_CHECKS=0`, switched off for that
   step only. MariaDB does not re-check rows when the checks come back on, so the load counts
   the orphans of every foreign key of those tables itself and fails before COMMIT if any.
4. MariaDB cannot switch triggers off. When a loaded table has triggers, the load compares
   the loaded rows with the files column by column, and counts rows that appeared in other
   tables: the report names what a trigger rewrote or added, and `faithful` is then False.
5. After COMMIT, AUTO_INCREMENT counters are moved past the loaded values. `ALTER TABLE ...
   AUTO_INCREMENT` is DDL and would commit the load implicitly, so it cannot come earlier. If
   the process dies between the two, the rows are loaded and InnoDB has already moved each
   counter past the values inserted explicitly; only a counter that was set lower by hand is
   not moved, and running the same load again (it inserts nothing) moves it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pymysql

from genonaut.seed.core.fixture_files import FixtureFile
from genonaut.seed.core.load_plan import check_columns
from genonaut.seed.core.reports import RelationCheck
from genonaut.seed.core.schema_graph import (
    DEFAULT_SCHEMA,
    ForeignKey,
    Schema,
    TableName,
    dependency_order,
    is_cycle,
    leaf_edges,
)
from genonaut.seed.errors import LoadFailed

from .catalog import Trigger, auto_increment_column, read_triggers
from .connection import Session, column_list, ident, quote
from .staging import (
    Stage,
    create_stages,
    drop_stages,
    equal,
    message_of,
    same_key,
    same_values,
    target_table,
)
from .verify import orphans

log = logging.getLogger(__name__)

TRIGGER_HINT = (
    "MariaDB cannot switch triggers off during a load: drop or change the trigger in the test "
    "database (or make it skip rows it should not touch, e.g. IF NEW.col IS NULL), load, and "
    "re-create it; or accept the rewritten values and re-export the fixtures from a database "
    "that has them"
)


@dataclass(frozen=True)
class TableLoad:
    """One table's rows: in the file, inserted, already present (and of those, differing)."""

    table: TableName
    in_file: int
    inserted: int
    present: int = 0
    differing: int = 0


@dataclass(frozen=True)
class Rewrite:
    """Loaded rows of `table` whose `column` no longer holds the file's value (a trigger);
    column `*` counts rows of a table without key that no longer match any file row."""

    table: TableName
    column: str
    rows: int


@dataclass
class LoadReport:
    tables: list[TableLoad] = field(default_factory=list)
    triggers: list[Trigger] = field(default_factory=list)
    rewritten: list[Rewrite] = field(default_factory=list)
    # Rows that appeared in a table beyond those the load inserted into it (AFTER triggers).
    added_by_triggers: list[tuple[TableName, int]] = field(default_factory=list)
    cycle_checks: list[RelationCheck] = field(default_factory=list)
    # Each loaded table's AUTO_INCREMENT counter after the load.
    auto_increment: list[tuple[TableName, int]] = field(default_factory=list)
    statements: int = 0

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables)

    @property
    def faithful(self) -> bool:
        """The tables hold exactly the files' rows: no trigger changed or added any."""
        return not self.rewritten and not self.added_by_triggers

    def trigger_notes(self) -> list[str]:
        lines = [
            f"trigger {r.table}: {r.rows} rows no longer hold the fixture's {r.column}"
            if r.column != "*"
            else f"trigger {r.table}: {r.rows} rows of the fixture are no longer found"
            for r in self.rewritten
        ]
        lines += [
            f"trigger: {n} rows added to {t} beyond the load" for t, n in self.added_by_triggers
        ]
        return lines


def load_fixtures(
    db: Session,
    schema: Schema,
    files: Sequence[FixtureFile],
    *,
    relations: Sequence[ForeignKey] = (),
) -> LoadReport:
    """Load `files` into the target whose schema is `schema`, in one transaction, parents
    first; then move the AUTO_INCREMENT counters. `relations` adds virtual relations (their
    parents load first). Raises FixtureError, SchemaDrift or LoadFailed with nothing loaded.

    >>> files = read_fixture_files(directory, read_fixture_manifest(directory).tables)
    >>> load_fixtures(db, read_schema(db), files).inserted  # doctest: +SKIP
    15607
    """
    targets = {f.name: target_table(schema, f.name) for f in files}
    check_columns(schema, [replace(f.entry, name=targets[f.name]) for f in files])
    report = LoadReport()
    stages: list[Stage] = []
    committed = False
    db.begin()
    try:
        loaded = [targets[f.name] for f in files]
        triggers = read_triggers(db, _database_of(loaded))
        report.triggers = [tr for t in loaded for tr in triggers.get(t, ())]
        watched = _row_counts(db, schema) if report.triggers else None
        stages = create_stages(db, schema, [(f, schema.table(targets[f.name])) for f in files])
        by_target = {s.target.name: s for s in stages}
        before = {
            s.target.name: _column_differences(db, schema, s)
            for s in stages
            if s.target.name in triggers
        }
        results: dict[TableName, TableLoad] = {}
        for group in _steps(schema, loaded, relations, targets):
            step = [by_target[t] for t in group if t in by_target]
            # A group of several tables (a virtual relation may close it) or a table that
            # references itself: InnoDB checks each row as it comes, in no useful order.
            cyclic = len(group) > 1 or is_cycle(group, leaf_edges(schema, group))
            if cyclic:
                db.execute("SET SESSION FOREIGN_KEY_CHECKS = 0")
            try:
                for stage in step:
                    results[stage.target.name] = _insert(db, schema, stage)
            finally:
                if cyclic:
                    db.execute("SET SESSION FOREIGN_KEY_CHECKS = 1")
            if cyclic and step:
                _check_cycle(db, schema, group, report)
        report.tables = [
            results.get(targets[f.name], TableLoad(targets[f.name], 0, 0)) for f in files
        ]
        if watched is not None:
            _trigger_effects(db, schema, stages, before, report, watched)
        drop_stages(db, stages)
        db.commit()
        committed = True
    except pymysql.err.MySQLError as exc:
        raise LoadFailed(
            f"the load failed and nothing was loaded: {message_of(exc)}",
            hint="run again with --verbosity debug to see the statement that failed",
        ) from exc
    finally:
        if not committed and db.conn.open:
            # The error being raised matters more than one in cleaning up after it.
            with contextlib.suppress(pymysql.err.MySQLError):
                db.rollback()
                drop_stages(db, stages)
    report.auto_increment = advance_auto_increment(db, schema, loaded)
    report.statements = db.statements
    return report


def _database_of(tables: Sequence[TableName]) -> str | None:
    """The database of `tables` to read triggers from: None for the current one."""
    return tables[0].schema if tables and tables[0].schema != DEFAULT_SCHEMA else None


def _steps(
    schema: Schema,
    loaded: Sequence[TableName],
    relations: Sequence[ForeignKey],
    targets: dict[TableName, TableName],
) -> list[tuple[TableName, ...]]:
    edges = leaf_edges(schema, loaded)
    for fk in relations:
        child = targets.get(fk.table, fk.table)
        parent = targets.get(fk.referred_table, fk.referred_table)
        if child in edges:
            edges[child].add(parent)
    return dependency_order(loaded, edges)


# -- Inserting -----------------------------------------------------------------------------


def _insert(db: Session, schema: Schema, stage: Stage) -> TableLoad:
    columns = stage.file.entry.columns
    target = ident(stage.target.name)
    match = same_key(schema, stage, "t", "s")
    # Counted row by row of the file: a table without key may hold a row twice.
    (present,) = db.fetch(
        f"SELECT COUNT(*) FROM {quote(stage.name)} s "
        f"WHERE EXISTS (SELECT 1 FROM {target} t WHERE {match})"
    )[0]
    (differing,) = db.fetch(
        f"SELECT COUNT(*) FROM {quote(stage.name)} s JOIN {target} t ON {match} "
        f"WHERE NOT ({same_values(stage.target, columns, 't', 's')})"
    )[0]
    try:
        inserted = db.execute(
            f"INSERT INTO {target} ({column_list(columns)}) "
            f"SELECT {column_list(columns, 's.')} FROM {quote(stage.name)} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {target} t WHERE {match})"
        )
    except pymysql.err.MySQLError as exc:
        raise LoadFailed(
            f"{stage.target.name}: the database refused the rows of {stage.file.path}: "
            f"{message_of(exc)}; nothing was loaded",
            hint="a referenced row is missing from the fixtures and the target, or a row "
            "collides with another on a unique key: re-export the fixtures, or empty the table",
        ) from exc
    log.info("%s: %d in file, %d inserted", stage.target.name, stage.file.entry.rows, inserted)
    return TableLoad(
        stage.target.name, stage.file.entry.rows, inserted, int(present), int(differing)
    )


def _check_cycle(
    db: Session, schema: Schema, group: tuple[TableName, ...], report: LoadReport
) -> None:
    """Orphans of every declared foreign key of a cycle's tables, loaded with the checks off."""
    relations = [(fk, t) for t in group for fk in schema.relations_from(t)]
    checks = orphans(db, schema, relations)
    report.cycle_checks.extend(checks)
    bad = [c for c in checks if c.orphans]
    if bad:
        named = "; ".join(
            f"{c.orphans} rows of {c.child} through {c.relation.name} ({c.relation.describe()})"
            for c in bad
        )
        raise LoadFailed(
            f"rows loaded with FOREIGN_KEY_CHECKS=0 reference nothing: {named}; nothing was loaded",
            hint="the fixtures lack rows these reference: re-export them",
        )


# -- Triggers ------------------------------------------------------------------------------


def _row_counts(db: Session, schema: Schema) -> dict[TableName, int]:
    if not schema.tables:
        return {}
    parts = " UNION ALL ".join(
        f"SELECT {i}, COUNT(*) FROM {ident(t.name)}" for i, t in enumerate(schema.tables)
    )
    found = {int(i): int(n) for i, n in db.fetch(parts)}
    return {t.name: found[i] for i, t in enumerate(schema.tables)}


def _column_differences(db: Session, schema: Schema, stage: Stage) -> dict[str, int]:
    """Per column, staged rows whose target row holds another value; `*` counts staged rows
    with no target row at all (by key, or by every column without one). Two statements: a
    temporary table may appear only once in a MariaDB statement."""
    columns = stage.file.entry.columns
    target = ident(stage.target.name)
    (missing,) = db.fetch(
        f"SELECT COUNT(*) FROM {quote(stage.name)} s WHERE NOT EXISTS "
        f"(SELECT 1 FROM {target} t WHERE {same_key(schema, stage, 't', 's')})"
    )[0]
    sums = ", ".join(f"COALESCE(SUM(NOT ({equal(stage.target, c, 't', 's')})), 0)" for c in columns)
    row = db.fetch(
        f"SELECT {sums} FROM {quote(stage.name)} s JOIN {target} t "
        f"ON {same_key(schema, stage, 't', 's')}"
    )[0]
    return {"*": int(missing), **{c: int(n) for c, n in zip(columns, row, strict=True)}}


def _trigger_effects(
    db: Session,
    schema: Schema,
    stages: Sequence[Stage],
    before: dict[TableName, dict[str, int]],
    report: LoadReport,
    counts_before: dict[TableName, int],
) -> None:
    for stage in stages:
        if stage.target.name not in before:
            continue
        after = _column_differences(db, schema, stage)
        for column, rows in after.items():
            changed = rows - before[stage.target.name][column]
            if changed > 0:
                report.rewritten.append(Rewrite(stage.target.name, column, changed))
    inserted = {t.table: t.inserted for t in report.tables}
    for name, now in _row_counts(db, schema).items():
        extra = now - counts_before.get(name, 0) - inserted.get(name, 0)
        if extra:
            report.added_by_triggers.append((name, extra))
    if not report.faithful:
        log.warning("triggers changed the load: %s (%s)", report.trigger_notes(), TRIGGER_HINT)


# -- AUTO_INCREMENT ------------------------------------------------------------------------


def advance_auto_increment(
    db: Session, schema: Schema, tables: Sequence[TableName]
) -> list[tuple[TableName, int]]:
    """Move each table's AUTO_INCREMENT past its largest value; (table, next value) of each.
    DDL: MariaDB commits before and after it, so this runs only after the load's COMMIT."""
    moved = []
    for name in tables:
        column = auto_increment_column(schema, name)
        if column is None:
            continue
        (largest,) = db.fetch(f"SELECT MAX({quote(column)}) FROM {ident(name)}")[0]
        (current,) = db.fetch(
            "SELECT AUTO_INCREMENT FROM information_schema.TABLES "
            "WHERE TABLE_SCHEMA = COALESCE(%s, DATABASE()) AND TABLE_NAME = %s",
            (None if name.schema == DEFAULT_SCHEMA else name.schema, name.name),
        )[0]
        wanted = int(float(largest)) + 1 if largest is not None else 1
        now = int(current) if current is not None else 1
        if wanted > now:
            db.execute(f"ALTER TABLE {ident(name)} AUTO_INCREMENT = {wanted:d}")
            now = wanted
        moved.append((name, now))
    db.commit()
    return moved
