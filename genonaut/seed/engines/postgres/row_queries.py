"""SQL the row plan reads rows with: what it reads of a row (`select_list`), key filters over
batches of keys, and the recursive walks that follow references in one statement.

Nothing here runs a statement; `row_source.py` puts these together and runs them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

from psycopg2 import sql

from genonaut.seed.core.row_source import Key, Projection
from genonaut.seed.core.schema_graph import ForeignKey, Table, TableName
from genonaut.seed.engines.postgres.connection import ident


def key_filter(
    proj: Projection, columns: Sequence[str], keys: Iterable[Key], *, negate: bool = False
) -> tuple[sql.Composable, list[Any]]:
    """`key_in` over columns of the projection's table (`ctid` too), cast to their types."""
    types = ["tid" if c == "ctid" else proj.table.column(c).type for c in columns]
    return key_in(columns, types, keys, negate=negate)


def select_list(proj: Projection) -> sql.Composable:
    """What the plan reads of a row: identity, each reference, each referred key, as text arrays."""
    parts: list[sql.Composable] = [
        sql.SQL("ARRAY[{}]").format(sql.SQL(", ").join(as_text(c) for c in proj.identity))
    ]
    referred = proj.referred_types or tuple(() for _ in proj.relations)
    for fk, types in zip(proj.relations, referred, strict=True):
        own = [proj.table.column(c).type for c in fk.columns]
        parts.append(
            sql.SQL("CASE WHEN {} THEN ARRAY[{}] END").format(
                applies(fk),
                sql.SQL(", ").join(
                    as_text(c, None if not types or t == o else t)
                    for c, o, t in zip(fk.columns, own, types or own, strict=True)
                ),
            )
        )
    for key in proj.keys:
        parts.append(sql.SQL("ARRAY[{}]").format(sql.SQL(", ").join(as_text(c) for c in key)))
    return sql.SQL(", ").join(parts)


def order_by(proj: Projection) -> sql.Composable:
    """Primary-key order. A table without one is ordered by all its columns (as text where
    unsortable), those of its first index first, so the planner can walk that index."""
    table = proj.table
    if table.primary_key:
        return sql.SQL(", ").join(sql.Identifier(c) for c in table.primary_key)
    sortable = {c.name for c in table.columns if c.is_sortable}
    lead = next((i for i in table.indexes if sortable.issuperset(i)), ())
    columns = [*lead, *(c.name for c in table.columns if c.name not in lead)]
    return sql.SQL(", ").join(
        sql.Identifier(name)
        if name in sortable
        else sql.SQL('{}::text COLLATE "C"').format(sql.Identifier(name))
        for name in columns
    )


def user_sql(text: str) -> sql.Composable:
    """A condition written by the user, as a fragment of a statement that also takes %s."""
    return sql.SQL(text.replace("%", "%%"))


def as_text(column: str, via: str | None = None) -> sql.Composable:
    if column == "ctid":
        return sql.SQL("ctid::text")
    if via is not None:
        return sql.SQL(f"{{}}::{via}::text").format(sql.Identifier(column))
    return sql.SQL("{}::text").format(sql.Identifier(column))


def applies(fk: ForeignKey) -> sql.Composable:
    """True where a row references something: all columns set and the condition holds."""
    tests = [sql.SQL("{} IS NOT NULL").format(sql.Identifier(c)) for c in fk.columns]
    if fk.condition:
        tests.append(sql.SQL("({}) IS TRUE").format(user_sql(fk.condition)))
    return sql.SQL("({})").format(sql.SQL(" AND ").join(tests))


def key_in(
    columns: Sequence[str], types: Sequence[str], values: Iterable[Key], *, negate: bool = False
) -> tuple[sql.Composable, list[Any]]:
    """`(columns) IN (values)`, each column's values sent as one array literal of their text
    forms, read in the column's type (`_placeholder`)."""
    distinct = set(values)
    # Without NULLs a key's own order is `sort_key`'s, and sorting needs no key function.
    has_null = any(None in key for key in distinct)
    rows = sorted(distinct, key=sort_key) if has_null else sorted(distinct)
    if list(columns) == ["ctid"]:
        op = "<> ALL" if negate else "= ANY"
        return sql.SQL(f"ctid {op}(%s::tid[])"), [array_literal(r[0] for r in rows)]
    if len(columns) == 1 and not _is_array(types[0]):
        op = "<> ALL" if negate else "= ANY"
        return (
            sql.SQL(f"{{}} {op}({_placeholder(types[0])})").format(sql.Identifier(columns[0])),
            [array_literal(r[0] for r in rows)],
        )
    names = [sql.Identifier(f"k{i}") for i in range(len(columns))]
    clause = sql.SQL("({}) {} (SELECT {} FROM unnest({}) AS u({}))").format(
        sql.SQL(", ").join(sql.Identifier(c) for c in columns),
        sql.SQL("NOT IN" if negate else "IN"),
        sql.SQL(", ").join(
            sql.SQL(f"u.{{}}::{t}" if _is_array(t) else "u.{}").format(n)
            for n, t in zip(names, types, strict=True)
        ),
        sql.SQL(", ").join(sql.SQL(_placeholder(t)) for t in types),
        sql.SQL(", ").join(names),
    )
    return clause, [array_literal(r[i] for r in rows) for i in range(len(columns))]


def _placeholder(type_name: str) -> str:
    """The placeholder of one column's array literal, read in the column's type: each element
    goes through the type's own input function, as a cast from text would, without planning a
    cast of every element of a text array. A column that is itself an array is read as text
    and cast value by value in `key_in`'s unnest (`= ANY` would compare it with the elements
    of its values)."""
    return "%s::text[]" if _is_array(type_name) else f"%s::{type_name}[]"


def _is_array(type_name: str) -> bool:
    return type_name.endswith("]")


def array_literal(values: Iterable[str | None]) -> str:
    """Text values as one array literal, `{"a","b",NULL}`, sent as a single string constant.
    A Python list would be sent as `ARRAY['a', 'b', ...]`, one constant per element, which
    PostgreSQL parses and plans element by element: with keys of a few hundred rows repeated
    across a batch's requests, most of the time spent planning it."""
    texts = list(values)
    if None not in texts:
        joined = '","'.join(cast(list[str], texts))
        # The usual case, nothing to escape: no value holds a quote or a backslash.
        if "\\" not in joined and joined.count('"') == 2 * (len(texts) - 1):
            return '{"' + joined + '"}'
    return "{" + ",".join("NULL" if v is None else _quoted(v) for v in texts) + "}"


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sort_key(key: Key) -> tuple[str, ...]:
    return tuple("" if v is None else v for v in key)


def relation_step(
    child: TableName,
    child_table: Table,
    fk: ForeignKey,
    referred: tuple[str, ...],
    *,
    child_tag: int,
    parent: TableName,
    parent_tag: int,
) -> sql.Composable:
    """The rows of `parent` that the walk's row of `child` references through `fk`, read
    in the parent's type (`referred`) as `Projection.select_list` reads them. One step of a
    recursive walk whose rows are `w` (tag, tid)."""
    own = [child_table.column(c).type for c in fk.columns]
    pairs = [
        sql.SQL("p.{} = c.{}{}").format(
            sql.Identifier(rc),
            sql.Identifier(c),
            sql.SQL("" if t == o else f"::{t}"),
        )
        for c, rc, o, t in zip(fk.columns, fk.referred_columns, own, referred, strict=True)
    ]
    # The child row is read alone in a subquery, so that the relation's condition sees
    # the child's own column names and nothing else.
    return sql.SQL(
        "SELECT {parent_tag}, p.ctid FROM (SELECT {columns} FROM {child} "
        "WHERE ctid = w.tid AND {applies}) AS c JOIN {parent} p ON {pairs} "
        "WHERE w.tag = {child_tag}"
    ).format(
        parent_tag=sql.Literal(parent_tag),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in dict.fromkeys(fk.columns)),
        child=ident(child),
        applies=applies(fk),
        parent=ident(parent),
        pairs=sql.SQL(" AND ").join(pairs),
        child_tag=sql.Literal(child_tag),
    )


def self_walk(
    leaf: TableName,
    start: sql.Composable,
    select: sql.Composable,
    *,
    carry: tuple[tuple[str, ...], ...],
    match: tuple[str, ...],
) -> sql.Composable:
    """`select` of the rows matching `start`, then of rows whose `match` columns equal one of
    the `carry` column lists of rows found, recursively: up self-references (carry each
    reference, match the key) or down one (carry the key, match the reference). Rows are
    followed by ctid, which has the equality that UNION needs where json columns have none."""
    width = len(match)
    slots = [sql.Identifier(f"k{i}") for i in range(width)]
    names = sorted({c for columns in carry for c in columns})
    renamed = {c: sql.Identifier(f"c{i}") for i, c in enumerate(names)}

    def values(alias: str, name: Callable[[str], sql.Composable]) -> sql.Composable:
        rows = sql.SQL(", ").join(
            sql.SQL("({})").format(sql.SQL(", ").join(name(c) for c in columns))
            for columns in carry
        )
        return sql.SQL("CROSS JOIN LATERAL (VALUES {}) AS {}({})").format(
            rows, sql.Identifier(alias), sql.SQL(", ").join(slots)
        )

    # The first rows are read in a subquery whose columns are renamed, so that `start`
    # sees the table's own names and nothing else.
    return sql.SQL(
        "WITH RECURSIVE walk (tid, {slots}) AS ("
        "SELECT s.tid, {first_slots} FROM (SELECT ctid, {columns} FROM {table} WHERE {start}) "
        "AS s(tid, {renamed}) {first_values} "
        "UNION SELECT n.ctid, {next_slots} FROM {table} n "
        "JOIN walk w ON ({match}) = ({found}) {next_values}) "
        "SELECT {select} FROM {table} WHERE ctid = ANY(ARRAY(SELECT tid FROM walk))"
    ).format(
        slots=sql.SQL(", ").join(slots),
        first_slots=sql.SQL(", ").join(sql.Identifier("v", f"k{i}") for i in range(width)),
        columns=sql.SQL(", ").join(sql.Identifier(c) for c in names),
        table=ident(leaf),
        start=start,
        renamed=sql.SQL(", ").join(renamed[c] for c in names),
        first_values=values("v", lambda c: sql.SQL("s.{}").format(renamed[c])),
        next_slots=sql.SQL(", ").join(sql.Identifier("x", f"k{i}") for i in range(width)),
        match=sql.SQL(", ").join(sql.Identifier("n", c) for c in match),
        found=sql.SQL(", ").join(sql.SQL("w.{}").format(k) for k in slots),
        next_values=values("x", lambda c: sql.Identifier("n", c)),
        select=select,
    )
