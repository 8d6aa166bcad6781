"""Load a fixture directory into a database: staged COPY, ordered inserts, cycles, sequences.

The whole import is one transaction: it commits completely or leaves the target as it was.

1. Every file is checked on disk (header, row count, final newline) and against the target's
   columns (schema drift) before anything is written.
2. One statement asks which of the tables are empty. A file whose table is empty (and is
   loaded alone: no cycle of several tables, no rules) is copied straight into it, parents
   first: one COPY per file, the least work there is. Should any of those fail (a bad value, a
   missing parent, fewer rows than the manifest names), the transaction is rolled back and the
   whole import runs again through staging, so that every error reads as staging reports it.
3. The other files are copied into temporary staging tables with the target's column types,
   so a malformed value is reported with its file, line and column before any real table is
   touched, and inserted parents first, `INSERT ... SELECT ... ON CONFLICT (primary key) DO
   NOTHING` (else `WHERE NOT EXISTS` on a key): rows already present are skipped, so a second
   import inserts nothing.
4. Deferred constraints are checked (`SET CONSTRAINTS ALL IMMEDIATE`) while an error can still
   be reported cleanly, then sequences feeding the loaded columns are moved past the values now
   in their tables, last before COMMIT, once every check (privileges on every sequence
   included) has passed: inside the transaction for sequences the role owns (ALTER SEQUENCE
   ... RESTART, then setval), by `setval` alone, which no rollback undoes, for the others.

Cycles need no superuser rights and no deferrable constraints: PostgreSQL checks a
non-deferrable foreign key at the end of each *statement*, and all data-modifying CTEs of a
statement belong to that statement. A self-referencing table is therefore loaded by one
`INSERT ... SELECT` whatever the row order, and a cycle of several tables by one statement
`WITH a AS (INSERT INTO t1 ... RETURNING 1), b AS (INSERT INTO t2 ... RETURNING 1) SELECT ...`,
even when every foreign key of the cycle is NOT NULL and not deferrable.
"""

from __future__ import annotations

import dataclasses
import io
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import psycopg2.errors
from psycopg2 import sql

from genonaut.seed.core.fixture_files import (
    FixtureFile,
    choose_tables,
    read_fixture_files,
    read_fixture_manifest,
)
from genonaut.seed.core.load_plan import (
    Step,
    check_columns,
    plan_steps,
    sequences_not_moved,
    skip_key,
    truncation_blockers,
)
from genonaut.seed.core.reports import load_result_line, load_table, rows
from genonaut.seed.core.schema_graph import (
    Schema,
    TableName,
    dependency_order,
)
from genonaut.seed.engines.postgres.catalog import read_schema
from genonaut.seed.engines.postgres.connection import (
    Session,
    Tracer,
    ident,
    redact,
    session,
)
from genonaut.seed.engines.postgres.load_errors import (
    MISSING_ROW_HINT,
    RESET_HINT,
    database_error,
    failed,
    rejected,
    unbreakable,
)
from genonaut.seed.engines.postgres.sequences import advance_sequences
from genonaut.seed.engines.postgres.staging import Stage, column_list, stage_files
from genonaut.seed.errors import ConfigError, LoadFailed, SeedError

log = logging.getLogger(__name__)

# -- Loading -------------------------------------------------------------------------------


@dataclass(frozen=True)
class TableResult:
    table: TableName
    in_file: int
    inserted: int
    # Rows skipped as already there whose values differ from the fixture's, and the key of one.
    differing: int = 0
    first_differing: str = ""

    @property
    def already_there(self) -> int:
        return self.in_file - self.inserted


@dataclass
class ImportReport:
    input_dir: Path
    database: str
    tables: list[TableResult] = field(default_factory=list)
    truncated: list[TableName] = field(default_factory=list)
    sequences: list[tuple[TableName, int]] = field(default_factory=list)
    # Sequences feeding a loaded column through an expression ('INV-' || nextval(...)).
    sequences_left: list[tuple[TableName, str]] = field(default_factory=list)
    statements: int = 0
    seconds: float = 0.0

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables)

    def as_table(self) -> str:
        lines = load_table(self.tables)
        if self.truncated:
            lines.append(f"emptied first: {', '.join(map(str, self.truncated))}")
        lines += [f"sequence {name} set to {value}" for name, value in self.sequences]
        lines += [
            f"sequence {name} left as it was: it feeds {column}, which is not a number"
            for name, column in self.sequences_left
        ]
        lines += self.notes()
        lines.append(self.result_line())
        return "\n".join(lines)

    def result_line(self) -> str:
        return load_result_line(self.tables, self.seconds, self.statements, self.database)

    def notes(self) -> list[str]:
        """Rows kept as the target had them although they differ from the fixture's."""
        return [
            f"note: {t.table}: {t.differing} of the {rows(t.already_there)} already there "
            f"differ from the fixture's (first: {t.first_differing}) and were kept as they were; "
            "to load the fixture's rows, import with --truncate-first"
            for t in self.tables
            if t.differing
        ]


def import_seed(
    input_dir: Path,
    database_url: str,
    *,
    tables: Sequence[str] = (),
    truncate_first: bool = False,
    cascade: bool = False,
    disable_triggers: bool = False,
    on_table: Callable[[TableResult], None] | None = None,
    tracer: Tracer | None = None,
) -> ImportReport:
    """Load the fixtures in `input_dir` into the database at `database_url`, in one transaction.

    Example: `import_seed(Path("test/db/input/rdbms_init_from_demo"), "postgresql://localhost/t")`.

    `tables` loads only those tables (partitioned ones stand for their partitions); rows they
    reference must then already be in the target, or the import fails naming the constraint.
    `truncate_first` empties the loaded tables first (RESTART IDENTITY); tables outside them
    that reference them make it fail unless `cascade` lets TRUNCATE empty those too.
    `disable_triggers` keeps the loaded tables' own triggers (not their foreign-key checks)
    from firing during the load, so that the tables hold exactly the fixture's rows; it needs
    ownership of the tables.
    Raises a SeedError subclass on any problem; the target is then unchanged.
    """
    started = time.perf_counter()
    manifest = read_fixture_manifest(input_dir)
    files = read_fixture_files(input_dir, choose_tables(manifest, tables))
    report = ImportReport(input_dir, redact(database_url))
    load = _Load(files, truncate_first, cascade, disable_triggers)
    with session(database_url, tracer=tracer) as db:
        try:
            schema = read_schema(db)
            check_columns(schema, (f.entry for f in files))
            steps = plan_steps(schema, manifest, [f.name for f in files])
            reported: set[TableName] = set()

            def notify(result: TableResult) -> None:
                # A table loaded before a direct load fell back is not reported twice.
                if on_table is not None and result.table not in reported:
                    reported.add(result.table)
                    on_table(result)

            try:
                loaded = _load(db, schema, steps, load, report, notify, direct=True)
            except (psycopg2.Error, SeedError, _DirectRefused) as exc:
                if db.conn.closed:
                    raise
                # Some file or row did not go straight in: load everything again through
                # staging tables, which name the file, line and column of what went wrong.
                log.debug("loading through staging tables: %s", exc)
                db.conn.rollback()
                report = ImportReport(input_dir, redact(database_url))
                loaded = _load(db, schema, steps, load, report, notify, direct=False)
            report.sequences_left = sequences_not_moved(schema, loaded)
            # RESTART IDENTITY reset the sequences of emptied tables, loaded or not. Last
            # before COMMIT: a sequence the role does not own moves outside the transaction.
            report.sequences = advance_sequences(db, schema, [*loaded, *report.truncated])
            db.conn.commit()
        except psycopg2.Error as exc:
            raise database_error(exc) from exc
        except LoadFailed as exc:
            blamed = _after_keptrows(exc, report)
            if blamed is None:
                _point_at_reset(exc, report)
                raise
            raise blamed from exc
        finally:
            # A failure anywhere leaves the target exactly as it was.
            if not db.conn.closed and db.conn.status != psycopg2.extensions.STATUS_READY:
                db.conn.rollback()
        report.statements = db.statements
    report.seconds = time.perf_counter() - started
    return report


@dataclass(frozen=True)
class _Load:
    """What `import_seed` was asked to load, and how."""

    files: list[FixtureFile]
    truncate_first: bool
    cascade: bool
    disable_triggers: bool


class _DirectRefused(Exception):
    """A file went straight into its table with fewer rows than the manifest names (an
    end-of-data marker, a trigger that skipped rows): staging tables tell which."""


def _load(
    db: Session,
    schema: Schema,
    steps: list[Step],
    load: _Load,
    report: ImportReport,
    on_table: Callable[[TableResult], None],
    *,
    direct: bool,
) -> list[TableName]:
    """Insert every file's rows, parents first, into the open transaction; the tables loaded.

    With `direct`, a file whose table is empty (and loaded alone, without rules) is copied
    straight into it: the least work there is. The rest go through staging tables
    (`stage_files`), whose rows are inserted skipping those already there. A failure in direct
    mode is retried by the caller with `direct=False`, so every error is reported as staging
    reports it.
    """
    names = [f.name for f in load.files]
    if load.truncate_first:
        report.truncated = truncate(db, schema, names, cascade=load.cascade)
    # Empty files need no staging table, no COPY and no INSERT.
    by_name = {f.name: f for f in load.files}
    with_rows = [f.name for f in load.files if f.entry.rows]
    straight = _straight_in(db, schema, steps, with_rows) if direct else set()
    stages = stage_files(db, schema, [by_name[n] for n in with_rows if n not in straight])
    if load.disable_triggers:
        switch_triggers(db, with_rows, enabled=False)
    for step in steps:
        if step.tables[0] in straight:
            (name,) = step.tables
            results = [_copy_straight(db, by_name[name])]
        else:
            results = _insert(db, schema, step, by_name, stages)
        for result in results:
            if result.already_there and result.table in stages:
                result = kept_rows_that_differ(db, schema, stages[result.table], result)
            report.tables.append(result)
            log.info("%s: %d in file, %d inserted", result.table, result.in_file, result.inserted)
            on_table(result)
    if load.disable_triggers:
        switch_triggers(db, with_rows, enabled=True)
    check_deferred(db, by_name)
    return with_rows


def _straight_in(
    db: Session, schema: Schema, steps: list[Step], tables: Sequence[TableName]
) -> set[TableName]:
    """The tables a file can be copied straight into: loaded alone (a cycle of several
    tables needs one statement for all of them; a table referencing itself is checked at the
    end of its COPY), without rules (COPY runs none) and empty, which one statement asks of
    all of them."""
    alone = {s.tables[0] for s in steps if len(s.tables) == 1}
    candidates = [t for t in tables if t in alone and not schema.table(t).has_rules]
    if not candidates:
        return set()
    query = sql.SQL("SELECT ARRAY[{}]").format(
        sql.SQL(", ").join(sql.SQL("EXISTS (SELECT FROM {})").format(ident(t)) for t in candidates)
    )
    flags = db.fetch(query)[0][0]
    return {t for t, has_rows in zip(candidates, flags, strict=True) if not has_rows}


def _copy_straight(db: Session, file: FixtureFile) -> TableResult:
    copied = db.copy_in(ident(file.name), file.entry.columns, io.BytesIO(file.body))
    if copied != file.entry.rows:
        raise _DirectRefused(f"{file.path}: {copied} rows copied, {file.entry.rows} in the file")
    return TableResult(file.name, file.entry.rows, copied)


def kept_rows_that_differ(
    db: Session, schema: Schema, stage: Stage, result: TableResult
) -> TableResult:
    """Count the rows skipped as already there whose values differ from the fixture's, and
    name the first by its key. Rows this transaction wrote (xmin) are left out: a trigger or
    default may have changed those, and `--verify` reports them."""
    entry = stage.file.entry
    key = skip_key(schema, entry)
    if not key:  # without a key, a row is skipped only when equal on every column
        return result
    same_key = sql.SQL(" AND ").join(
        sql.SQL("t.{0} IS NOT DISTINCT FROM s.{0}").format(sql.Identifier(c)) for c in key
    )
    query = sql.SQL(
        "SELECT count(*) OVER (), {} FROM {} s JOIN {} t ON {} "
        "WHERE ROW({})::text <> ROW({})::text "
        "AND t.xmin::text::bigint <> txid_current() % 4294967296 ORDER BY {} LIMIT 1"
    ).format(
        sql.SQL(", ").join(sql.SQL("s.{}::text").format(sql.Identifier(c)) for c in key),
        stage.ident,
        ident(entry.name),
        same_key,
        column_list(entry.columns, "s"),
        column_list(entry.columns, "t"),
        column_list(key, "s"),
    )
    rows = db.fetch(query)
    if not rows:
        return result
    count, *values = rows[0]
    first = ", ".join(f"{c}={v}" for c, v in zip(key, values, strict=True))
    return dataclasses.replace(result, differing=int(count), first_differing=first)


def check_deferred(db: Session, files: dict[TableName, FixtureFile]) -> None:
    """Check the constraints declared DEFERRABLE INITIALLY DEFERRED now, not at COMMIT, so a
    violation is reported like any other (and before sequences move, which no rollback undoes)."""
    try:
        db.execute("SET CONSTRAINTS ALL IMMEDIATE")
    except psycopg2.errors.IntegrityError as exc:
        raise rejected(exc, tuple(files), files) from exc


def switch_triggers(db: Session, tables: Sequence[TableName], *, enabled: bool) -> None:
    """Disable or enable the tables' user triggers; foreign-key checks stay on. Being inside
    the import's transaction, a failure anywhere re-enables them with the rollback."""
    if not tables:
        return
    action = sql.SQL("ENABLE" if enabled else "DISABLE")
    try:
        db.execute(
            sql.SQL("; ").join(
                sql.SQL("ALTER TABLE {} {} TRIGGER USER").format(ident(t), action) for t in tables
            )
        )
    except psycopg2.errors.InsufficientPrivilege as exc:
        raise ConfigError(
            f"--disable-triggers: {exc.diag.message_primary}",
            hint="only the owner of a table may switch its triggers off: import as the "
            "owner, or without --disable-triggers",
        ) from exc


def truncate(
    db: Session, schema: Schema, tables: Sequence[TableName], *, cascade: bool
) -> list[TableName]:
    """Empty `tables` (RESTART IDENTITY); with `cascade`, also the tables referencing them."""
    blockers = truncation_blockers(schema, tables)
    if blockers and not cascade:
        named = ", ".join(f"{t} ({c})" for t, c in blockers)
        raise ConfigError(
            f"cannot empty the fixture's tables first: tables outside the fixture reference "
            f"them: {named}",
            hint="add --cascade to empty those tables too (TRUNCATE ... CASCADE), or import "
            "without --truncate-first",
        )
    # A foreign key declared on a partitioned table belongs to it, not to its partitions:
    # TRUNCATE wants the partitioned table named when all its partitions are emptied.
    emptied = set(tables)
    parents = {
        a for t in tables for a in schema.ancestors(t)[1:] if emptied >= set(schema.leaves(a))
    }
    statement = sql.SQL("TRUNCATE {} RESTART IDENTITY{}").format(
        sql.SQL(", ").join(ident(t) for t in sorted(emptied | parents)),
        sql.SQL(" CASCADE" if cascade else ""),
    )
    db.execute(statement)
    return sorted(set(tables) | {t for t, _ in blockers})


def insert_statement(schema: Schema, stage: Stage) -> sql.Composable:
    """`INSERT INTO target (cols) SELECT cols FROM stage` that skips rows already present.

    A row whose primary key is in the target already is skipped with
    `ON CONFLICT (primary key) DO NOTHING`. The conflict target is named, so a row colliding
    with a *different* row on another unique key is an error, not a silent skip. Where that
    cannot be used (a DEFERRABLE primary key cannot arbitrate, a table with rules refuses it,
    a unique key's NULLs never conflict) the row is skipped when `NOT EXISTS` finds its key.
    Without any key, rows equal on every column are skipped, compared as row text (json has no
    equality operator, and a row's text is never NULL, so `=` suits a hash anti-join).
    """
    entry = stage.file.entry
    table = schema.table(entry.name)
    overriding = sql.SQL(
        " OVERRIDING SYSTEM VALUE"
        if any(table.column(c).identity == "a" for c in entry.columns)
        else ""
    )
    head = sql.SQL("INSERT INTO {} ({}){} SELECT {} FROM {} s").format(
        ident(entry.name),
        column_list(entry.columns),
        overriding,
        column_list(entry.columns, "s"),
        stage.ident,
    )
    key = skip_key(schema, entry)
    if key and key == table.primary_key and not (table.is_key_deferrable or table.has_rules):
        return head + sql.SQL(" ON CONFLICT ({}) DO NOTHING").format(column_list(key))
    if key:
        same = sql.SQL(" AND ").join(
            sql.SQL(
                "t.{0} = s.{0}"
                if not table.column(c).is_nullable
                else "t.{0} IS NOT DISTINCT FROM s.{0}"
            ).format(sql.Identifier(c))
            for c in key
        )
        return head + sql.SQL(" WHERE NOT EXISTS (SELECT FROM {} t WHERE {})").format(
            ident(entry.name), same
        )
    return head + sql.SQL(
        " WHERE NOT EXISTS (SELECT FROM {} t WHERE ROW({})::text = ROW({})::text)"
    ).format(ident(entry.name), column_list(entry.columns, "t"), column_list(entry.columns, "s"))


def _insert(
    db: Session,
    schema: Schema,
    step: Step,
    files: dict[TableName, FixtureFile],
    stages: dict[TableName, Stage],
) -> list[TableResult]:
    loading = tuple(t for t in step.tables if t in stages)
    if not loading:
        return [TableResult(name, 0, 0) for name in step.tables]
    try:
        if len(loading) == 1:
            (name,) = loading
            counts = [db.execute(insert_statement(schema, stages[name]))]
        else:
            counts = _insert_cycle(db, schema, step, loading, stages)
    except psycopg2.errors.IntegrityError as exc:
        if isinstance(exc, psycopg2.errors.ForeignKeyViolation | psycopg2.errors.UniqueViolation):
            raise rejected(exc, loading, files) from exc
        raise failed(exc, loading, files) from exc
    except psycopg2.errors.FeatureNotSupported as exc:
        raise LoadFailed(f"{', '.join(map(str, loading))}: {exc.diag.message_primary}") from exc
    except psycopg2.Error as exc:
        raise failed(exc, loading, files) from exc
    inserted = dict(zip(loading, counts, strict=True))
    return [
        TableResult(name, files[name].entry.rows, int(inserted.get(name, 0)))
        for name in step.tables
    ]


def _insert_cycle(
    db: Session,
    schema: Schema,
    step: Step,
    loading: tuple[TableName, ...],
    stages: dict[TableName, Stage],
) -> list[int]:
    """Insert the tables of a cycle in one statement, whose foreign keys are checked at its
    end. PostgreSQL refuses data-modifying CTEs on a table with rules; then the cycle's
    DEFERRABLE constraints are deferred and its tables inserted one by one, in an order that
    the others allow, and checked at once afterwards."""
    db.execute("SAVEPOINT seed_cycle")
    try:
        counts = _insert_together(db, schema, loading, stages)
    except psycopg2.errors.FeatureNotSupported as exc:
        db.execute("ROLLBACK TO SAVEPOINT seed_cycle")
        order = _order_without_deferrable(schema, loading)
        if order is None:
            raise unbreakable(schema, step, exc) from exc
        # A foreign-key violation now is a row whose parent is missing: reported as such.
        db.execute("SET CONSTRAINTS ALL DEFERRED")
        by_table = {name: db.execute(insert_statement(schema, stages[name])) for name in order}
        db.execute("SET CONSTRAINTS ALL IMMEDIATE")
        counts = [by_table[name] for name in loading]
    db.execute("RELEASE SAVEPOINT seed_cycle")
    return counts


def _order_without_deferrable(
    schema: Schema, tables: tuple[TableName, ...]
) -> list[TableName] | None:
    """The cycle's tables in an order their non-deferrable foreign keys allow (self-references
    aside, which one statement satisfies), or None when those alone form a cycle."""
    members = set(tables)
    edges = {
        t: {
            p
            for fk in schema.relations_from(t)
            if not fk.is_deferrable
            for p in schema.leaves(fk.referred_table)
            if p in members and p != t
        }
        for t in tables
    }
    groups = dependency_order(tables, edges)
    return None if any(len(g) > 1 for g in groups) else [g[0] for g in groups]


def _insert_together(
    db: Session, schema: Schema, loading: tuple[TableName, ...], stages: dict[TableName, Stage]
) -> list[int]:
    """`WITH ins_0 AS (INSERT ... RETURNING 1), ... SELECT count(*) ...`: one statement."""
    parts = [
        sql.SQL("{} AS ({} RETURNING 1)").format(
            sql.Identifier(f"ins_{i}"), insert_statement(schema, stages[name])
        )
        for i, name in enumerate(loading)
    ]
    totals = sql.SQL(", ").join(
        sql.SQL("(SELECT count(*) FROM {})").format(sql.Identifier(f"ins_{i}"))
        for i in range(len(loading))
    )
    (row,) = db.fetch(sql.SQL("WITH {} SELECT {}").format(sql.SQL(", ").join(parts), totals))
    return [int(n) for n in row]


def _point_at_reset(exc: LoadFailed, report: ImportReport) -> None:
    """A missing referenced row in a target that held seed rows already means the target was
    changed: resetting it, not loading more tables, is the way out."""
    if exc.hint == MISSING_ROW_HINT and any(t.already_there for t in report.tables):
        exc.hint = RESET_HINT


def _after_keptrows(exc: LoadFailed, report: ImportReport) -> LoadFailed | None:
    """A failure after rows were kept that differ from the fixture's: those rows are the
    likely cause (a target holding another seed), so say so and point at --truncate-first."""
    kept = [t for t in report.tables if t.differing]
    if not kept:
        return None
    named = "; ".join(f"{t.table}: {rows(t.differing)} (first: {t.first_differing})" for t in kept)
    return LoadFailed(
        f"{exc.message}. Before that, rows already in the target were kept although they "
        f"differ from the fixture's: {named}",
        hint=f"{RESET_HINT}, or import with --truncate-first to replace those rows",
    )
