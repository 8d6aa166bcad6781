"""SQL pieces the row source reads rows with on MariaDB: what it reads of a row (`select_list`),
key lists as row constructors, the orders, and the conditions of `core.row_source`.

Nothing here runs a statement; `row_source.py` puts these together and runs them. Every piece
is a `(sql, params)` pair for PyMySQL's `%s` placeholders, so a `%` in a user's condition is
doubled here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from typing import Any

from genonaut.seed.core.row_source import Key, Projection
from genonaut.seed.core.schema_graph import Column, ForeignKey, Table

from .connection import ident, quote
from .dump import order_by as dump_order
from .values import base_type, is_binary, select_expression

Clause = tuple[str, list[Any]]

# A table without a primary key has no row address (PostgreSQL's ctid): its rows are named by
# their position (from 0) in the order the dump writes them, numbered in a derived table.
ROW = "_gs_row"
CTID = "ctid"

_INTEGERS = frozenset({"tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year"})
# Text is compared by its bytes, as the dump orders it and as a fixture's keys are equal:
# no case folding, no trailing-space padding.
_EXACT = "utf8mb4_nopad_bin"


def source(table: Table, alias: str | None = None) -> str:
    """What a FROM clause reads `table` as: the table itself, or for a table without a primary
    key the table with its rows' positions in dump order (`ROW`), aliased to its own name (so
    that a condition may still say `table.column`) unless `alias` is given."""
    named = f" AS {alias}" if alias else ""
    if table.primary_key:
        return ident(table.name) + named
    return (
        f"(SELECT {quote(table.name.name)}.*, ROW_NUMBER() OVER (ORDER BY {dump_order(table)}) "
        f"- 1 AS {ROW} FROM {ident(table.name)}) AS {alias or quote(table.name.name)}"
    )


def column_sql(name: str, prefix: str = "") -> str:
    """A column of `source`, `ctid` being the row's position."""
    return prefix + (ROW if name == CTID else quote(name))


def as_text(table: Table, name: str, prefix: str = "", via: Column | None = None) -> str:
    """The column's fixture text (`values.select_expression`) as utf8mb4 text, so that the
    values of every table fit one column of a UNION. `via`: read in the type of the column a
    reference points at (a virtual relation from an int to a DECIMAL(10,2) reads `1.00`)."""
    if name == CTID:
        return f"CAST({prefix}{ROW} AS CHAR)"
    column = table.column(name)
    expression = select_expression(column, prefix)
    if via is not None and base_type(via) != base_type(column):
        cast = _cast_type(via)
        if cast is not None:
            expression = f"CAST({prefix}{quote(name)} AS {cast})"
    return f"CAST({expression} AS CHAR CHARACTER SET utf8mb4)"


def _cast_type(column: Column) -> str | None:
    """The CAST target that writes a value as `column` writes it, where CAST has one."""
    kind = base_type(column)
    found = re.search(r"\(([^)]*)\)", column.type)
    args = found.group(1) if found else ""
    if kind in ("decimal", "numeric"):
        return f"DECIMAL({args or '10,0'})"
    if kind in ("datetime", "timestamp"):
        return f"DATETIME({args or '0'})"
    if kind == "time":
        return f"TIME({args or '0'})"
    if kind == "date":
        return "DATE"
    if kind in ("double", "float"):
        return "DOUBLE"
    if kind in _INTEGERS:
        return "UNSIGNED" if "unsigned" in column.type.lower() else "SIGNED"
    return None


def select_list(proj: Projection, referred: Sequence[Sequence[Column]]) -> list[str]:
    """What the plan reads of a row, one text per value: identity, each reference (NULL where
    it does not apply) in the referred columns' text, each referred key."""
    table = proj.table
    parts = [as_text(table, c) for c in proj.identity]
    for fk, parents in zip(proj.relations, referred, strict=True):
        test = applies(fk)
        for name, parent in zip(fk.columns, parents, strict=True):
            parts.append(f"CASE WHEN {test} THEN {as_text(table, name, via=parent)} END")
    for key in proj.keys:
        parts.extend(as_text(table, c) for c in key)
    return parts


def width(proj: Projection) -> int:
    return (
        len(proj.identity)
        + sum(len(f.columns) for f in proj.relations)
        + sum(len(k) for k in proj.keys)
    )


def user_sql(text: str) -> str:
    """A condition written by the user, inside parentheses. The line break ends a `#` comment
    before the closing parenthesis; `%` is doubled for the driver's placeholders."""
    return "(" + text.replace("%", "%%") + "\n)"


def applies(fk: ForeignKey, prefix: str = "") -> str:
    """True where a row references something: all columns set and the condition holds."""
    tests = [f"{prefix}{quote(c)} IS NOT NULL" for c in fk.columns]
    if fk.condition:
        tests.append(f"{user_sql(fk.condition)} IS TRUE")
    return "(" + " AND ".join(tests) + ")"


def sort_term(table: Table, name: str, prefix: str = "") -> str:
    """A column as the dump orders it: text by its bytes."""
    if name == CTID:
        return prefix + ROW
    column = table.column(name)
    if column.is_collatable:
        return f"CAST({prefix}{quote(name)} AS BINARY)"
    return prefix + quote(name)


def key_order(table: Table, prefix: str = "") -> list[str]:
    """Primary-key order, or the dump's order of a table without one (its rows' positions)."""
    return [sort_term(table, c, prefix) for c in table.primary_key or (CTID,)]


def key_in(
    table: Table,
    columns: Sequence[str],
    typed: Sequence[Column | None],
    values: Iterable[Key],
    *,
    negate: bool = False,
) -> Clause:
    """`(columns) IN ((..), ..)` over keys in fixture text, each value bound as the type of
    `typed` (the column the text comes from: the referred one for a reference; None for a
    row's position). Text columns are compared again by their bytes, so that 'de' does not
    match 'DE' under a case-insensitive collation nor 'a' match 'a '."""
    rows = sorted(set(values), key=lambda k: tuple("" if v is None else v for v in k))
    if not rows:
        return ("TRUE" if negate else "FALSE"), []
    params = [_parameter(t, v) for row in rows for t, v in zip(typed, row, strict=True)]
    names = [column_sql(c) for c in columns]
    clause = _in_list(names, len(rows))
    collatable = [c != CTID and table.column(c).is_collatable for c in columns]
    if any(collatable):
        exact = [
            f"CONVERT({n} USING utf8mb4) COLLATE {_EXACT}" if is_text else n
            for n, is_text in zip(names, collatable, strict=True)
        ]
        clause = f"({clause} AND {_in_list(exact, len(rows))})"
        params = params * 2
    return (f"NOT {clause}" if negate else clause), params


def _in_list(names: Sequence[str], count: int) -> str:
    if len(names) == 1:
        return f"{names[0]} IN ({', '.join(['%s'] * count)})"
    one = "(" + ", ".join(["%s"] * len(names)) + ")"
    return f"({', '.join(names)}) IN ({', '.join([one] * count)})"


def _parameter(column: Column | None, text: str | None) -> Any:
    """The value to bind for a key's text: exact numbers as numbers (a string would be compared
    as a double), hex as bytes, BIT digits as an integer, the rest as text."""
    if text is None:
        return None
    if column is None:
        return int(text)
    if is_binary(column):
        return bytes.fromhex(text[2:])
    kind = base_type(column)
    if kind == "bit":
        return int(text, 2)
    if kind in _INTEGERS:
        return int(text)
    if kind in ("decimal", "numeric"):
        return Decimal(text)
    return text


def lexing_problem(text: str) -> str | None:
    """Why MariaDB would read a condition otherwise than `core.sql_fragment` (which reads it
    as PostgreSQL does) checked it, or None. MariaDB takes a backslash in a quoted string
    as an escape and `#` as a comment to the end of the line, so a condition with either
    could reach outside its parentheses; this reads it with MariaDB's rules and refuses what
    could: a comment, `;`, a `)` that closes more than the condition opened, an unterminated
    quote or backtick, a backslash inside quotes.

    >>> lexing_problem("`status` = 'x'") is None
    True
    >>> lexing_problem("a = 1 # one")
    'a comment starts at character 7'
    """
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        pair = text[i : i + 2]
        if ch == "#" or pair in ("--", "/*"):
            return f"a comment starts at character {i + 1}"
        if ch == ";":
            return f"';' at character {i + 1} would end the statement"
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                return f"')' at character {i + 1} closes more than the condition opened"
        elif ch in "'\"`":
            end = i + 1
            while True:
                if end >= n:
                    return f"the quote at character {i + 1} is not closed"
                if text[end] == "\\" and ch != "`":
                    return (
                        f"a backslash in a quoted string at character {end + 1} "
                        "(MariaDB reads it as an escape)"
                    )
                if text[end] == ch:
                    if text[end + 1 : end + 2] == ch:
                        end += 2
                        continue
                    break
                end += 1
            i = end
        i += 1
    if depth:
        return "a '(' is not closed"
    return None
