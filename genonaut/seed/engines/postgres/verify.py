"""Checks on a loaded database: every fixture row is there, and no relation points at nothing.

Both checks read the target only: the files are copied into temporary tables created before
a READ ONLY transaction begins, and everything else is a SELECT.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Sequence
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
from genonaut.seed.core.fixture_format import Manifest
from genonaut.seed.core.load_plan import check_columns
from genonaut.seed.core.reports import RelationCheck, TableCheck, orphan_lines
from genonaut.seed.core.reports import rows as rows_text
from genonaut.seed.core.reports import verdict as verdict_of
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName
from genonaut.seed.core.text_table import format_table
from genonaut.seed.engines.postgres.catalog import read_schema
from genonaut.seed.engines.postgres.connection import (
    Session,
    Tracer,
    first_line,
    ident,
    redact,
    session,
)
from genonaut.seed.engines.postgres.staging import Stage, copy_stages, create_stages, stages_for
from genonaut.seed.errors import ConfigError, FixtureError, SeedError, VerifyFailed

# How long one relation's condition from manifest.json may run: it is data from a file, and a
# condition such as pg_sleep(120) IS NOT NULL must not hang the check.
CONDITION_TIMEOUT = 30.0


@dataclass
class VerifyReport:
    database: str
    tables: list[TableCheck] = field(default_factory=list)
    relations: list[RelationCheck] = field(default_factory=list)
    statements: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and not any(r.orphans for r in self.relations)

    def as_table(self) -> str:
        lines = format_table(
            ("table", "in file", "missing", "differing", "extra"),
            [(str(t.table), t.in_file, t.missing, t.differing, t.extra) for t in self.tables],
            None,
        )
        lines += self.problems()
        lines += [
            f"note: {t.table} holds {rows_text(t.extra)} that the fixture does not (rows of "
            "other tests, or of an older seed)"
            for t in self.tables
            if t.extra
        ]
        lines.append(self.result_line())
        return "\n".join(lines)

    def problems(self) -> list[str]:
        """One line per missing or differing row shown, and per relation with orphans."""
        lines: list[str] = []
        for t in self.tables:
            lines += t.details
            shown = len(t.details)
            if t.missing + t.differing > shown:
                rest = t.missing + t.differing - shown
                more = f"{rest} more row{'s' if rest != 1 else ''}"
                lines.append(f"  ... and {more} of {t.table} missing or differing")
        return lines + orphan_lines(self.relations)

    def result_line(self) -> str:
        verdict = verdict_of(self.tables, self.relations)
        # A relation declared on a partitioned table is checked once per partition.
        relations = len({r.relation for r in self.relations})
        checks = len(self.relations)
        across = f" ({checks} checks, one per partition)" if checks != relations else ""
        return (
            f"verify {verdict}: {len(self.tables)} tables, {relations} relations{across} "
            f"checked in {self.seconds:.2f}s -> {self.database}"
        )


def verify_seed(
    input_dir: Path,
    database_url: str,
    *,
    tables: Sequence[str] = (),
    tracer: Tracer | None = None,
    condition_timeout: float = CONDITION_TIMEOUT,
) -> VerifyReport:
    """Check that the target holds every fixture row of `input_dir` unchanged, and that no
    relation (declared or virtual) of the fixture's tables with rows points at a missing row.

    Example: `verify_seed(Path("test/db/input/rdbms_init_from_demo"), url).ok`.
    The target is not written to; `report.ok` is False when a check found a problem.
    A relation's condition (from manifest.json) runs for at most `condition_timeout` seconds.
    """
    started = time.perf_counter()
    manifest = read_fixture_manifest(input_dir)
    files = read_fixture_files(input_dir, choose_tables(manifest, tables))
    report = VerifyReport(redact(database_url))
    with session(database_url, tracer=tracer) as db:
        try:
            schema = read_schema(db)
            check_columns(schema, (f.entry for f in files))
            # Tables whose files are empty have nothing to look for and no rows to check.
            filled = [f for f in files if f.entry.rows]
            stages = stages_for(filled, schema)
            if stages:
                # Temporary tables must exist before a READ ONLY transaction may fill them.
                create_stages(db, stages.values(), drop_on_commit=False)
            db.conn.commit()
            db.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
            if stages:
                copy_stages(db, stages.values())
            checks = {c.table: c for c in missingrows_text(db, schema, list(stages.values()))}
            checks.update(row_details(db, schema, stages, checks))
            report.tables = [
                checks.get(f.name, TableCheck(f.name, f.entry.rows, 0, 0)) for f in files
            ]
            report.relations = orphans(
                db,
                schema,
                relations_of(schema, manifest, filled),
                condition_timeout=condition_timeout,
                source=str(input_dir / "manifest.json"),
            )
        except psycopg2.Error as exc:
            raise _database_error(exc) from exc
        finally:
            db.conn.rollback()
        report.statements = db.statements
    report.seconds = time.perf_counter() - started
    return report


def missingrows_text(db: Session, schema: Schema, stages: Sequence[Stage]) -> list[TableCheck]:
    """Per staged file: rows absent from its table (matched by primary key, or by every column
    without one) and rows present with other values (full row text compared). One statement.

    Each side is narrowed to its key and its row's text before the join, so a table at
    PostgreSQL's column limit (1,600) joins as two columns, not 3,200."""
    if not stages:
        return []
    parts = []
    for i, stage in enumerate(stages):
        columns = stage.file.entry.columns
        key = schema.table(stage.file.name).primary_key
        if key and set(key) <= set(columns):
            first = sql.Identifier(key[0])
            parts.append(
                sql.SQL(
                    "SELECT {} AS i, count(*) FILTER (WHERE t.{} IS NULL AND s.{} IS NOT NULL), "
                    "count(*) FILTER (WHERE t.{} IS NOT NULL AND s.{} IS NOT NULL "
                    "AND s._row <> t._row), count(*) FILTER (WHERE s.{} IS NULL) "
                    "FROM {} s FULL JOIN {} t ON {}"
                ).format(
                    sql.Literal(i),
                    first,
                    first,
                    first,
                    first,
                    first,
                    _narrow(stage.ident, key, columns),
                    _narrow(ident(stage.file.name), key, columns),
                    _same_key("s", "t", key),
                )
            )
        else:
            parts.append(
                sql.SQL(
                    "SELECT {} AS i, count(*) FILTER (WHERE NOT EXISTS "
                    "(SELECT FROM {} t WHERE t._row = s._row)), 0, 0 FROM {} s"
                ).format(
                    sql.Literal(i),
                    _narrow(ident(stage.file.name), (), columns),
                    _narrow(stage.ident, (), columns),
                )
            )
    rows = db.fetch(sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(p) for p in parts))
    found = {int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in rows}
    return [TableCheck(s.file.name, s.file.entry.rows, *found[i]) for i, s in enumerate(stages)]


def _narrow(table: sql.Composable, key: Sequence[str], columns: Sequence[str]) -> sql.Composable:
    """`(SELECT key..., ROW(columns)::text AS _row FROM table)`: what the comparison needs."""
    kept = [sql.Identifier(k) for k in key]
    row = sql.SQL("ROW({})::text AS _row").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    return sql.SQL("(SELECT {} FROM {})").format(sql.SQL(", ").join([*kept, row]), table)


def _same_key(left: str, right: str, key: Sequence[str]) -> sql.Composable:
    return sql.SQL(" AND ").join(
        sql.SQL("{}.{} = {}.{}").format(
            sql.Identifier(left), sql.Identifier(k), sql.Identifier(right), sql.Identifier(k)
        )
        for k in key
    )


SAMPLE = 5  # missing or differing rows shown per table; the rest are counted


def row_details(
    db: Session, schema: Schema, stages: dict[TableName, Stage], checks: dict[TableName, TableCheck]
) -> dict[TableName, TableCheck]:
    """For each table with missing or differing rows, the first SAMPLE of them by key, as
    `missing: table key=value` and `differs: table key=value: column: fixture 'a',
    database 'b'` lines. One statement per such table."""
    found: dict[TableName, TableCheck] = {}
    for name, check in checks.items():
        key = schema.table(name).primary_key
        columns = stages[name].file.entry.columns
        if check.ok or not key or not set(key) <= set(columns):
            if not check.ok:  # without a key, a row is missing or there: no values to compare
                found[name] = dataclasses.replace(
                    check,
                    details=(f"missing: {name}: {rows_text(check.missing)} (no primary key)",),
                )
            continue
        # The first SAMPLE missing rows and the first SAMPLE differing ones, each by key,
        # found on narrowed sides; then the values of just those rows, one side at a time, so
        # that no statement holds more columns than the table has.
        order = sql.SQL(", ").join(sql.SQL("s.{}").format(sql.Identifier(k)) for k in key)
        sample = sql.SQL(
            "SELECT m, {} FROM (SELECT t.{} IS NULL AS m, {}, row_number() OVER "
            "(PARTITION BY t.{} IS NULL ORDER BY {}) AS n FROM {} s LEFT JOIN {} t ON {} "
            "WHERE t.{} IS NULL OR s._row <> t._row) d WHERE n <= {} ORDER BY m DESC, n"
        ).format(
            sql.SQL(", ").join(sql.Identifier(k) for k in key),
            sql.Identifier(key[0]),
            sql.SQL(", ").join(
                sql.SQL("s.{0}::text AS {0}").format(sql.Identifier(k)) for k in key
            ),
            sql.Identifier(key[0]),
            order,
            _narrow(stages[name].ident, key, columns),
            _narrow(ident(name), key, columns),
            _same_key("s", "t", key),
            sql.Identifier(key[0]),
            sql.Literal(SAMPLE),
        )
        picked = db.fetch(sample)
        keys = [tuple(row[1:]) for row in picked]
        mine_by_key = _values_of(db, stages[name].ident, key, columns, keys)
        theirs_by_key = _values_of(db, ident(name), key, columns, keys)
        lines = []
        for is_missing, *key_values in picked:
            mine = mine_by_key[tuple(key_values)]
            theirs = theirs_by_key.get(tuple(key_values), [None] * len(columns))
            by_column = dict(zip(columns, mine, strict=True))
            where = ", ".join(f"{k}={by_column[k]}" for k in key)
            if is_missing:
                lines.append(f"missing: {name} {where}")
                continue
            changed = "; ".join(
                f"{c}: fixture {_shown(a)}, database {_shown(b)}"
                for c, a, b in zip(columns, mine, theirs, strict=True)
                if a != b
            )
            lines.append(f"differs: {name} {where}: {changed}")
        found[name] = dataclasses.replace(check, details=tuple(lines))
    return found


def _values_of(
    db: Session,
    table: sql.Composable,
    key: Sequence[str],
    columns: Sequence[str],
    keys: Sequence[tuple[object, ...]],
) -> dict[tuple[object, ...], list[str | None]]:
    """The text of every column of the rows of `table` with these keys (as text), by key."""
    if not keys:
        return {}
    key_text = sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(k)) for k in key)
    query = sql.SQL("SELECT {}, {} FROM {} WHERE ({}) IN (SELECT * FROM (VALUES {}) v)").format(
        key_text,
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(c)) for c in columns),
        table,
        key_text,
        sql.SQL(", ").join(
            sql.SQL("({})").format(sql.SQL(", ").join(sql.Literal(v) for v in values))
            for values in keys
        ),
    )
    return {tuple(row[: len(key)]): list(row[len(key) :]) for row in db.fetch(query)}


def _shown(value: str | None) -> str:
    if value is None:
        return "NULL"
    return repr(value if len(value) <= 60 else value[:57] + "...")


def relations_of(
    schema: Schema, manifest: Manifest, files: Iterable[FixtureFile]
) -> list[tuple[ForeignKey, TableName]]:
    """(relation, child leaf) for every declared foreign key of the loaded tables in the target
    and every virtual relation of the manifest whose child rows they hold."""
    loaded = [f.name for f in files]
    found: list[tuple[ForeignKey, TableName]] = []
    for leaf in loaded:
        found += [(fk, leaf) for fk in schema.relations_from(leaf)]
        ancestors = set(schema.ancestors(leaf)) if leaf in schema else {leaf}
        found += [
            (fk, leaf) for fk in manifest.relations if fk.is_virtual and fk.table in ancestors
        ]
    return found


def orphans(
    db: Session,
    schema: Schema,
    relations: Sequence[tuple[ForeignKey, TableName]],
    *,
    condition_timeout: float = CONDITION_TIMEOUT,
    source: str = "manifest.json",
) -> list[RelationCheck]:
    """Count, per relation, child rows with every reference column set (and the relation's
    condition true) that match no row of the referenced table, in any of its partitions.

    Relations without a condition are counted in one statement; each one with a condition
    (text from `source`) in a statement of its own, under a statement timeout, so that a
    condition that fails or runs too long is named.
    """
    if not relations:
        return []
    counts: dict[int, int] = {}
    plain = [i for i, (fk, _) in enumerate(relations) if not fk.condition]
    if plain:
        parts = [_orphan_count(schema, *relations[i]) for i in plain]
        (row,) = db.fetch(sql.SQL("SELECT {}").format(sql.SQL(", ").join(parts)))
        counts.update(zip(plain, (int(n) for n in row), strict=True))
    for i, (fk, child) in enumerate(relations):
        if fk.condition:
            counts[i] = _conditional_count(db, schema, fk, child, condition_timeout, source)
    return [RelationCheck(fk, child, counts[i]) for i, (fk, child) in enumerate(relations)]


def _conditional_count(
    db: Session, schema: Schema, fk: ForeignKey, child: TableName, timeout: float, source: str
) -> int:
    db.execute("SAVEPOINT seed_condition")
    db.execute(
        sql.SQL("SET LOCAL statement_timeout = {}").format(
            sql.Literal(f"{max(1, round(timeout * 1000))}ms")
        )
    )
    try:
        (row,) = db.fetch(sql.SQL("SELECT {}").format(_orphan_count(schema, fk, child)))
    except psycopg2.Error as exc:
        db.execute("ROLLBACK TO SAVEPOINT seed_condition")
        if isinstance(exc, psycopg2.errors.QueryCanceled):
            problem = f"ran longer than {timeout:g}s and was stopped"
        else:
            problem = f"failed: {exc.diag.message_primary or first_line(exc)}"
        raise FixtureError(
            f"{source}: the condition of relation {fk.name!r} ({fk.condition!r}) on {child} "
            f"{problem}",
            hint="a relation's condition is a short test on the child row's columns: restore "
            "manifest.json from git, or re-export the fixtures",
        ) from exc
    db.execute("RELEASE SAVEPOINT seed_condition")
    db.execute("SET LOCAL statement_timeout = DEFAULT")
    return int(row[0])


def _database_error(exc: psycopg2.Error) -> SeedError:
    """A readable error for what the database refused while verifying."""
    message = exc.diag.message_primary or first_line(exc)
    if isinstance(exc, psycopg2.errors.InsufficientPrivilege):
        return ConfigError(
            f"verify: {message}; nothing was written",
            hint="the verifying role needs SELECT on the fixture's tables and TEMPORARY on the "
            "database: grant them, or verify as the tables' owner",
        )
    detail = f": {exc.diag.message_detail}" if exc.diag.message_detail else ""
    return VerifyFailed(
        f"verify failed and wrote nothing: {message}{detail}",
        hint="run again with --verbosity debug to see the statement that failed",
    )


def _orphan_count(schema: Schema, fk: ForeignKey, child: TableName) -> sql.Composable:
    tests: list[sql.Composable] = [
        sql.SQL("c.{} IS NOT NULL").format(sql.Identifier(c)) for c in fk.columns
    ]
    if fk.condition:
        # A user-written predicate on the child row, from the export configuration.
        tests.append(sql.SQL("({}) IS TRUE").format(sql.SQL(fk.condition)))
    matches = sql.SQL(" AND ").join(
        _equal(schema, fk, child, mine, theirs)
        for mine, theirs in zip(fk.columns, fk.referred_columns, strict=True)
    )
    return sql.SQL(
        "(SELECT count(*) FROM {} c WHERE {} AND NOT EXISTS (SELECT FROM {} p WHERE {}))"
    ).format(ident(child), sql.SQL(" AND ").join(tests), ident(fk.referred_table), matches)


def _equal(
    schema: Schema, fk: ForeignKey, child: TableName, mine: str, theirs: str
) -> sql.Composable:
    """`p.theirs = c.mine`. A declared key has that equality whatever its types (an integer may
    reference a numeric: 1 = 1.00); a virtual relation across types compares in the parent's
    type, as the exporter reads it."""
    plain = sql.SQL("p.{} = c.{}").format(sql.Identifier(theirs), sql.Identifier(mine))
    if not fk.is_virtual or child not in schema or fk.referred_table not in schema:
        return plain
    parent_type = schema.table(fk.referred_table).column(theirs).type
    if schema.table(child).column(mine).type == parent_type:
        return plain
    return sql.SQL("p.{} = c.{}::{}").format(
        sql.Identifier(theirs), sql.Identifier(mine), sql.SQL(parent_type)
    )


def _row_text(alias: str, columns: Sequence[str]) -> sql.Composable:
    return sql.SQL("ROW({})::text").format(
        sql.SQL(", ").join(sql.Identifier(alias, c) for c in columns)
    )
