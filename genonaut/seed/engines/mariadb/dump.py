"""A table's rows as the body of a fixture file: every row, or the rows of given keys, in
primary-key order, read in batches from an unbuffered cursor so memory holds one batch."""

from __future__ import annotations

import itertools
from collections.abc import Collection, Iterator, Sequence
from typing import IO, Any

from genonaut.seed.core.fixture_format import encode_field
from genonaut.seed.core.schema_graph import Column, Table
from genonaut.seed.errors import ConfigError

from .connection import Session, ident, quote
from .values import select_expression, to_parameter, to_text

Key = tuple[str | None, ...]

# Keys in one `IN (...)` list; more are found by reading the table in order and keeping the
# wanted rows, which needs one pass and no scratch table (the export's READ ONLY transaction
# may not create one).
IN_LIST_LIMIT = 5000
BATCH = 2000


def order_by(table: Table) -> str:
    """Primary-key order (every stored column without one). Text is ordered by its bytes, so
    the order does not depend on the column's collation: the "C" order of PostgreSQL."""
    names = table.primary_key or tuple(c.name for c in table.stored_columns)
    return ", ".join(_sort_term(table.column(n)) for n in names)


def _sort_term(column: Column) -> str:
    return f"CAST({quote(column.name)} AS BINARY)" if column.is_collatable else quote(column.name)


def select_statement(table: Table, where: str = "") -> str:
    """SELECT of the stored columns as fixture text, in file order."""
    expressions = ", ".join(select_expression(c) for c in table.stored_columns)
    clause = f" WHERE {where}" if where else ""
    return f"SELECT {expressions} FROM {ident(table.name)}{clause} ORDER BY {order_by(table)}"


def dump_rows(
    db: Session,
    table: Table,
    sink: IO[bytes],
    keys: Collection[Key] | None = None,
    *,
    key_columns: Sequence[str] | None = None,
    batch: int = BATCH,
) -> int:
    """Write the fixture lines of `table` (no header) to `sink`; the number of rows written.

    `keys` (None: every row) are values of `key_columns` (default: the primary key) in
    fixture text, decoded (`None` for NULL): what `dump_rows` itself writes for those columns.

    >>> with open("album.tsv", "wb") as sink:  # doctest: +SKIP
    ...     dump_rows(db, schema.table(album), sink, keys={("1",), ("2",)})
    2
    """
    columns = table.stored_columns
    if keys is None:
        return _write(db.stream(select_statement(table), batch=batch), columns, sink)
    key = tuple(key_columns or table.primary_key)
    if not key:
        raise ConfigError(
            f"table {table.name} has no primary key: name the columns its keys are made of",
            hint="pass key_columns, or dump every row (keys=None)",
        )
    if not keys:
        return 0
    if len(keys) <= IN_LIST_LIMIT:
        where, params = _in_list(table, key, keys)
        return _write(db.stream(select_statement(table, where), params, batch=batch), columns, sink)
    wanted = set(keys)
    positions = [[c.name for c in columns].index(k) for k in key]

    def kept() -> Iterator[list[tuple[Any, ...]]]:
        for rows in db.stream(select_statement(table), batch=batch):
            yield [
                row
                for row in rows
                if tuple(to_text(columns[i], row[i]) for i in positions) in wanted
            ]

    return _write(kept(), columns, sink)


def dump_positions(
    db: Session, table: Table, sink: IO[bytes], positions: Collection[int], *, batch: int = BATCH
) -> int:
    """Write the rows at `positions` (from 0) of `table` in file order: how the selection
    names the rows of a table without a primary key (`row_queries.ROW`). One pass."""
    wanted = set(positions)
    counter = itertools.count()

    def kept() -> Iterator[list[tuple[Any, ...]]]:
        for rows in db.stream(select_statement(table), batch=batch):
            yield [row for row in rows if next(counter) in wanted]

    return _write(kept(), table.stored_columns, sink)


def _in_list(table: Table, key: Sequence[str], keys: Collection[Key]) -> tuple[str, list[Any]]:
    columns = [table.column(k) for k in key]
    params: list[Any] = []
    for value in keys:
        params.extend(to_parameter(c, v) for c, v in zip(columns, value, strict=True))
    if len(key) == 1:
        holders = ", ".join(["%s"] * len(keys))
        return f"{quote(key[0])} IN ({holders})", params
    one = "(" + ", ".join(["%s"] * len(key)) + ")"
    holders = ", ".join([one] * len(keys))
    return f"({', '.join(quote(k) for k in key)}) IN ({holders})", params


def _write(
    batches: Iterator[list[tuple[Any, ...]]], columns: Sequence[Column], sink: IO[bytes]
) -> int:
    count = 0
    for rows in batches:
        lines = [
            "\t".join(encode_field(to_text(c, v)) for c, v in zip(columns, row, strict=True))
            for row in rows
        ]
        if lines:
            sink.write(("\n".join(lines) + "\n").encode("utf-8"))
        count += len(rows)
    return count
