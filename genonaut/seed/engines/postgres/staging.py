"""Fixture files on their way in: copied into temporary staging tables typed like the target,
so that a bad value is reported with its file, line, column and value before any real table is
touched. Reading and checking the files on disk is `core.fixture_files`."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import psycopg2
from psycopg2 import sql

from genonaut.seed.core.fixture_files import DAMAGED_HINT, FixtureFile, undecodable_field
from genonaut.seed.core.schema_graph import Schema, TableName
from genonaut.seed.errors import FixtureError

from .connection import Session, ident

# A row's place in its file. The staging table has exactly the file's columns (a table at
# PostgreSQL's limit of 1600 columns has no room for one more): one COPY into a fresh temporary
# table appends the rows in file order, so their physical order (ctid) is the file's.
ROW_NUMBER = sql.SQL("row_number() OVER (ORDER BY ctid)")


@dataclass(frozen=True)
class Stage:
    """A temporary table holding one file's rows, typed like the target's columns; its rows
    in file order (see `ROW_NUMBER`)."""

    file: FixtureFile
    ident: sql.Identifier
    # Column name -> its type in the target, to say what a rejected value should have been.
    types: tuple[tuple[str, str], ...] = ()


_COPY_CONTEXT = re.compile(
    r"COPY (?P<table>[^,]+), line (?P<line>\d+)"
    r'(?:, column (?P<column>[^:]+))?(?:: "(?P<value>.*)")?',
    re.DOTALL,
)


def stage_files(
    db: Session, schema: Schema, files: Sequence[FixtureFile], *, drop_on_commit: bool = True
) -> dict[TableName, Stage]:
    """Create a temporary table per file, COPY the file into it and check what it holds.

    A value PostgreSQL rejects, a NULL in a NOT NULL column or a key given twice raises
    FixtureError naming the file, line, column and value.
    """
    stages = stages_for(files, schema)
    if not stages:
        return stages
    create_stages(db, stages.values(), drop_on_commit=drop_on_commit)
    copy_stages(db, stages.values())
    check_stages(db, schema, list(stages.values()))
    return stages


def stages_for(
    files: Sequence[FixtureFile], schema: Schema | None = None
) -> dict[TableName, Stage]:
    stages = {}
    for i, f in enumerate(files):
        types: tuple[tuple[str, str], ...] = ()
        if schema is not None and f.name in schema:
            table = schema.table(f.name)
            types = tuple((c.name, c.type) for c in table.columns if c.name in f.entry.columns)
        stages[f.name] = Stage(f, sql.Identifier(f"_seed_stage_{i}"), types)
    return stages


def create_stages(db: Session, stages: Iterable[Stage], *, drop_on_commit: bool) -> None:
    """One statement creates every staging table, with the target's types for the file's columns."""
    lifetime = sql.SQL(" ON COMMIT DROP" if drop_on_commit else "")
    db.execute(
        sql.SQL("; ").join(
            sql.SQL("CREATE TEMP TABLE {0}{1} AS SELECT {2} FROM {3} WITH NO DATA").format(
                s.ident, lifetime, column_list(s.file.entry.columns), ident(s.file.name)
            )
            for s in stages
        )
    )


def check_stages(db: Session, schema: Schema, stages: Sequence[Stage]) -> None:
    """Raise FixtureError for the first staged row that no INSERT could take as it is: a NULL
    in a NOT NULL column, or a primary or unique key that another row of the file repeats
    (ON CONFLICT would keep one of them silently). One statement for every file."""
    parts: list[sql.Composable] = []
    probes: list[tuple[Stage, str, tuple[str, ...]]] = []
    for stage in stages:
        if stage.file.name not in schema:
            continue
        table = schema.table(stage.file.name)
        columns = stage.file.entry.columns
        line = sql.Identifier("_seed_n")
        for column in table.stored_columns:
            if column.name in columns and not column.is_nullable:
                parts.append(
                    sql.SQL(
                        "SELECT {0}::int, min({1})::bigint, NULL::bigint, NULL::text "
                        "FROM (SELECT {2} AS {1}, {3} FROM {4}) s WHERE {3} IS NULL "
                        "HAVING count(*) > 0"
                    ).format(
                        sql.Literal(len(probes)),
                        line,
                        ROW_NUMBER,
                        sql.Identifier(column.name),
                        stage.ident,
                    )
                )
                probes.append((stage, "null", (column.name,)))
        keys = (table.primary_key, *table.unique_keys)
        for key in dict.fromkeys(k for k in keys if k and set(k) <= set(columns)):
            parts.append(
                sql.SQL(
                    "(SELECT {0}::int, min({1})::bigint, max({1})::bigint, ROW({2})::text "
                    "FROM (SELECT {3} AS {1}, {2} FROM {4}) s WHERE {5} GROUP BY {2} "
                    "HAVING count(*) > 1 ORDER BY 2 LIMIT 1)"
                ).format(
                    sql.Literal(len(probes)),
                    line,
                    column_list(key),
                    ROW_NUMBER,
                    stage.ident,
                    sql.SQL(" AND ").join(
                        sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in key
                    ),
                )
            )
            probes.append((stage, "key", key))
    if not parts:
        return
    rows = db.fetch(sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(p) for p in parts))
    if not rows:
        return
    index, first, second, value = min(rows, key=lambda r: (r[0], r[1]))
    stage, kind, names = probes[index]
    path = stage.file.path
    if kind == "null":
        raise FixtureError(
            f"{path}: line {first + 1}, column {names[0]}: \\N (NULL) in a column "
            f"that is NOT NULL in the target",
            hint=DAMAGED_HINT,
        )
    raise FixtureError(
        f"{path}: lines {first + 1} and {second + 1} both hold key ({', '.join(names)}) = {value}",
        hint="each row of a table appears once in its file: " + DAMAGED_HINT,
    )


def copy_stages(db: Session, stages: Iterable[Stage]) -> None:
    """COPY each file into its staging table, then check every table holds the file's rows."""
    stages = list(stages)
    for stage in stages:
        try:
            db.copy_in(stage.ident, stage.file.entry.columns, io.BytesIO(stage.file.body))
        except psycopg2.Error as exc:
            # A bad value (DataError), a domain's CHECK (IntegrityError) or a malformed
            # tsvector (a syntax error) all come with COPY's line in their context.
            if not isinstance(exc, psycopg2.DataError) and "COPY " not in (exc.diag.context or ""):
                raise
            raise _copy_error(stage, exc) from exc
    counts = db.fetch(
        sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(sql.SQL("(SELECT count(*) FROM {})").format(s.ident) for s in stages)
        )
    )[0]
    for stage, count in zip(stages, counts, strict=True):
        if count != stage.file.entry.rows:
            raise FixtureError(
                f"{stage.file.path}: PostgreSQL read {count} rows, manifest.json says "
                f"{stage.file.entry.rows} (an end-of-data marker \\. in the file?)",
                hint=DAMAGED_HINT,
            )


def _copy_error(stage: Stage, exc: psycopg2.Error) -> FixtureError:
    file = stage.file
    message = (exc.diag.message_primary or str(exc)).strip()
    context = exc.diag.context or ""
    # Some input functions put their own context first (JSON data, line 1: ...).
    start = context.find("COPY ")
    match = _COPY_CONTEXT.match(context[start:]) if start >= 0 else None
    if match is None:
        return FixtureError(f"{file.path}: {message}", hint=DAMAGED_HINT)
    line = int(match["line"]) + 1  # the header is line 1
    column, value = match["column"], match["value"]
    if not column:
        # PostgreSQL names no column for an encoding error: find the field that is not UTF-8.
        column, value = undecodable_field(file, line) or (None, value)
    where = f"line {line}, column {column}" if column else f"line {line}"
    shown = f" (value {value!r})" if column and value is not None else ""
    if not column and value is not None:
        shown = f" (row {value!r})"
    hint = DAMAGED_HINT
    declared = dict(stage.types).get(column or "")
    if declared is not None and exc.pgcode != _BAD_ENCODING:
        where += f" ({declared} in the target)"
        hint += (
            "; if the file is intact, the column's type changed in the target (schema drift): "
            "re-export the fixtures, or migrate the test database"
        )
    return FixtureError(f"{file.path}: {where}: {message}{shown}", hint=hint)


_BAD_ENCODING = "22021"  # character_not_in_repertoire: the bytes, not the type, are wrong


def column_list(names: Iterable[str], prefix: str | None = None) -> sql.Composable:
    """`a, b` or, with a prefix, `p.a, p.b`: quoted column names for a statement."""
    if prefix is None:
        return sql.SQL(", ").join(sql.Identifier(n) for n in names)
    return sql.SQL(", ").join(sql.Identifier(prefix, n) for n in names)
