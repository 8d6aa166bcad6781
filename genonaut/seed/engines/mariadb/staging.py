"""Fixture files on their way in: each inserted into a temporary table made `LIKE` its target
(same types, keys and CHECK constraints; no foreign keys, no triggers) by batched
parameterised INSERTs under a strict sql_mode, so that a damaged value is named by file, line
and column before any real table is touched; and the joins that match a staged row with the
target's row."""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import pymysql

from genonaut.seed.core.fixture_files import DAMAGED_HINT, FixtureFile
from genonaut.seed.core.fixture_format import decode_row
from genonaut.seed.core.load_plan import skip_key
from genonaut.seed.core.schema_graph import Schema, Table, TableName
from genonaut.seed.errors import FixtureError, SchemaDrift

from .connection import Session, column_list, ident, quote
from .values import to_parameter

# Rows per staging INSERT, and bytes of fixture text: max_allowed_packet is 16 MiB by default.
BATCH_ROWS = 1000
BATCH_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Stage:
    """A fixture file, the target table it goes to, and its temporary table's name."""

    file: FixtureFile
    target: Table
    name: str


def target_table(schema: Schema, name: TableName) -> TableName:
    """The target's table for a fixture's `name`: the same name, or the only table of that
    bare name (fixtures exported from database `shop` load into `shop_test`)."""
    if name in schema:
        return name
    matches = [t.name for t in schema.tables if t.name.name == name.name]
    if len(matches) == 1:
        return matches[0]
    raise SchemaDrift(
        f"table {name.name} is in the fixtures but not in the target",
        hint="create the schema in the target first (clone_database(..., with_rows=False))",
    )


def create_stages(
    db: Session, schema: Schema, files: Sequence[tuple[FixtureFile, Table]]
) -> list[Stage]:
    """A filled temporary table per (file, target) with rows; FixtureError on a bad value.
    Inside the caller's transaction; CREATE TEMPORARY TABLE does not commit."""
    stages: list[Stage] = []
    try:
        for i, (f, target) in enumerate(files):
            if f.entry.rows:
                stage = Stage(f, target, f"_seed_stage_{i}")
                stages.append(stage)
                fill_stage(db, stage)
    except BaseException:
        drop_stages(db, stages)
        raise
    return stages


def drop_stages(db: Session, stages: Sequence[Stage]) -> None:
    """Temporary tables live as long as the connection: dropped so it can load again.
    DROP TEMPORARY TABLE does not commit."""
    if stages:
        db.execute(f"DROP TEMPORARY TABLE IF EXISTS {', '.join(quote(s.name) for s in stages)}")


def fill_stage(db: Session, stage: Stage) -> None:
    """Create the stage's temporary table and insert the file's rows, a batch a statement."""
    db.execute(f"CREATE TEMPORARY TABLE {quote(stage.name)} LIKE {ident(stage.target.name)}")
    for first_line, rows in _batches(stage):
        columns = stage.file.entry.columns
        one = "(" + ", ".join(["%s"] * len(columns)) + ")"
        statement = f"INSERT INTO {quote(stage.name)} ({column_list(columns)}) VALUES " + ", ".join(
            [one] * len(rows)
        )
        try:
            db.execute(statement, [v for row in rows for v in row])
        except pymysql.err.MySQLError as exc:
            raise _locate(db, stage, first_line, rows, one, exc) from exc


def _batches(stage: Stage) -> Iterator[tuple[int, list[list[Any]]]]:
    """(line of the batch's first row, its rows as parameters), decoded and checked here."""
    file = stage.file
    columns = [stage.target.column(c) for c in file.entry.columns]
    batch: list[list[Any]] = []
    size = 0
    start = 2
    for index, raw in enumerate(file.body.split(b"\n")[:-1]):
        line = index + 2
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise FixtureError(
                f"{file.path}: line {line}: byte {raw[exc.start]:#04x} is not UTF-8",
                hint=DAMAGED_HINT,
            ) from exc
        try:
            fields = decode_row(text)
        except ValueError as exc:
            raise FixtureError(f"{file.path}: line {line}: {exc}", hint=DAMAGED_HINT) from exc
        if len(fields) != len(columns):
            raise FixtureError(
                f"{file.path}: line {line} has {len(fields)} fields, the header {len(columns)}",
                hint=DAMAGED_HINT,
            )
        row = []
        for column, value in zip(columns, fields, strict=True):
            if value is None and not column.is_nullable:
                raise FixtureError(
                    f"{file.path}: line {line}, column {column.name}: \\N (NULL) in a column "
                    "that is NOT NULL in the target",
                    hint=DAMAGED_HINT,
                )
            try:
                row.append(to_parameter(column, value))
            except ValueError as exc:
                raise FixtureError(
                    f"{file.path}: line {line}, column {column.name} ({column.type}): {exc}",
                    hint=DAMAGED_HINT,
                ) from exc
        if not batch:
            start = line
        batch.append(row)
        size += len(raw)
        if len(batch) >= BATCH_ROWS or size >= BATCH_BYTES:
            yield start, batch
            batch, size = [], 0
    if batch:
        yield start, batch


_AT_ROW = re.compile(r" at row (\d+)")
_COLUMN = re.compile(r"for column (?:`[^`]*`\.)*[`']([^`']+)[`']")
_CHECK = re.compile(r"CONSTRAINT [`']([^`']+)[`'] failed")


def _locate(
    db: Session, stage: Stage, first_line: int, rows: list[list[Any]], one: str, exc: Exception
) -> FixtureError:
    """A FixtureError naming the line and column of the value the server refused. A message
    without a row number (a CHECK, a duplicate key) is located by inserting the batch's rows
    one at a time: InnoDB undoes each failed statement alone, and the load fails anyway."""
    message = message_of(exc)
    found = _AT_ROW.search(message)
    offset = int(found.group(1)) - 1 if found else None
    if offset is None:
        statement = f"INSERT INTO {quote(stage.name)} ({column_list(stage.file.entry.columns)}) "
        for i, row in enumerate(rows):
            try:
                db.execute(statement + "VALUES " + one, row)
            except pymysql.err.MySQLError as again:
                offset, message = i, message_of(again)
                break
    where = f"line {first_line + offset}" if offset is not None else f"lines {first_line}-"
    column = _COLUMN.search(message) or _CHECK.search(message)
    if column and column.group(1) in stage.file.entry.columns:
        name = column.group(1)
        where += f", column {name} ({stage.target.column(name).type} in the target)"
    return FixtureError(
        f"{stage.file.path}: {where}: {message}",
        hint=DAMAGED_HINT + "; if the file is intact, the column's type changed in the target "
        "(schema drift): re-export the fixtures, or migrate the test database",
    )


def message_of(exc: Exception) -> str:
    """The server's message of a driver error, without its number."""
    args: tuple[object, ...] = tuple(getattr(exc, "args", ()))
    return str(args[1]) if len(args) > 1 else str(exc)


def same_key(schema: Schema, stage: Stage, left: str, right: str) -> str:
    """The join of a staged row to the target row it stands for: on the skip key (as the
    target's unique index compares it), or on every column, byte for byte, without one."""
    entry = replace(stage.file.entry, name=stage.target.name)
    key = skip_key(schema, entry)
    if key:
        return " AND ".join(
            f"{left}.{quote(k)} <=> {right}.{quote(k)}"
            if stage.target.column(k).is_nullable
            else f"{left}.{quote(k)} = {right}.{quote(k)}"
            for k in key
        )
    return same_values(stage.target, entry.columns, left, right)


def same_values(table: Table, columns: Sequence[str], left: str, right: str) -> str:
    """Every column equal, NULL-safe, text byte for byte (a collation may call 'a' and 'A',
    or 'a' and 'a ', equal)."""
    return " AND ".join(equal(table, c, left, right) for c in columns)


def equal(table: Table, name: str, left: str, right: str) -> str:
    if table.column(name).is_collatable:
        return f"CAST({left}.{quote(name)} AS BINARY) <=> CAST({right}.{quote(name)} AS BINARY)"
    return f"{left}.{quote(name)} <=> {right}.{quote(name)}"
