"""SQL the SQLite row source reads rows with: statement pieces with their parameters (`Sql`),
key lists sent as one json parameter, and how a reference meets the key it refers to.

Nothing here runs a statement; `row_source.py` puts these together and runs them.

A reference compares with its parent key the way SQLite's own foreign-key check compares them:
the parent column's affinity is applied to the child's value, and the parent column's
collation decides (`Shapes.ref_match`). `p.key = +c.ref` says exactly that: the unary `+`
strips the child column's affinity, so only the left side's applies, and the left column's
collation wins. Where the two columns share an affinity and the parent's collation is known,
the plain `c.ref = p.key COLLATE x` means the same and can use an index on the child's column.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from genonaut.seed.core.row_source import Key
from genonaut.seed.core.schema_graph import ForeignKey, Table, TableName

from .catalog import Catalog, rowid_name
from .connection import ident, quote
from .values import Affinity, affinity, from_text

# Affinities under which equal values are stored alike (1 and 1.0 become one value), so that a
# value read as is equals the parent key the foreign-key check finds. A column without one
# (BLOB affinity) keeps 1 and 1.0 apart although they compare equal.
_CANONICAL: frozenset[Affinity] = frozenset({"INTEGER", "REAL", "NUMERIC", "TEXT"})
BINARY = "BINARY"


@dataclass(frozen=True)
class Sql:
    """A piece of a statement and the values of its `?` placeholders, in order."""

    text: str
    params: tuple[Any, ...] = ()


def sql(template: str, *parts: Sql | str) -> Sql:
    """`template` with each `{}` replaced by a part, in order: `str` parts are SQL text this
    package wrote (quoted names, numbers), `Sql` parts bring their parameters along.

    >>> sql("{} IN ({})", '"id"', Sql("SELECT value FROM json_each(?)", ("[1]",)))
    Sql(text='"id" IN (SELECT value FROM json_each(?))', params=('[1]',))
    """
    pieces = template.split("{}")
    if len(pieces) != len(parts) + 1:
        raise ValueError(f"{template!r} has {len(pieces) - 1} slots for {len(parts)} parts")
    text = [pieces[0]]
    params: list[Any] = []
    for part, after in zip(parts, pieces[1:], strict=True):
        if isinstance(part, Sql):
            text.append(part.text)
            params.extend(part.params)
        else:
            text.append(part)
        text.append(after)
    return Sql("".join(text), tuple(params))


def join(separator: str, parts: Iterable[Sql | str]) -> Sql:
    """The parts one after the other, `separator` between: `join(" AND ", [a, b])`."""
    items = [p if isinstance(p, Sql) else Sql(p) for p in parts]
    return Sql(separator.join(p.text for p in items), tuple(v for p in items for v in p.params))


def column(name: str, alias: str = "") -> str:
    """`column("id")` is `"id"`, `column("id", "p")` is `p."id"`."""
    return f"{alias}.{quote(name)}" if alias else quote(name)


def key_list(keys: Iterable[Key], affinities: Sequence[Affinity]) -> Sql:
    """A subquery whose rows are `keys`, each text decoded by its column's affinity (the text
    form of `values.py`). Integers and text travel as one json parameter whatever their
    number; a list holding a blob or a real (json has no blobs, and SQLite's json reader need
    not round a double's shortest text exactly) is sent as a VALUES list of parameters.

    Example: `key_list([("1",), ("\\text:a",)], ["INTEGER"])` is
    `SELECT value FROM json_each(?)` with `'[1, "a"]'`.
    """
    rows = [
        tuple(from_text(v, a) for v, a in zip(key, affinities, strict=True))
        for key in sorted(set(keys), key=sort_key)
    ]
    width = len(affinities)
    if all(v is None or type(v) in (int, str) for row in rows for v in row):
        if width == 1:
            return Sql("SELECT value FROM json_each(?)", (json.dumps([r[0] for r in rows]),))
        picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(width))
        return Sql(f"SELECT {picks} FROM json_each(?)", (json.dumps(rows),))
    row = "(" + ", ".join("?" for _ in range(width)) + ")"
    return Sql("VALUES " + ", ".join(row for _ in rows), tuple(v for r in rows for v in r))


def key_in(columns: Sequence[str], keys: Iterable[Key], affinities: Sequence[Affinity]) -> Sql:
    """`(columns) IN (keys)`: `columns` are SQL expressions. Keys holding NULL match nothing,
    as in SQL.

    Example: `key_in(['"country"', '"code"'], {("fr", "idf")}, ["TEXT", "TEXT"])`.
    """
    full = [k for k in keys if None not in k]
    return sql("{} IN ({})", _vector(columns), key_list(full, affinities))


def not_among(columns: Sequence[str], keys: Iterable[Key], affinities: Sequence[Affinity]) -> Sql:
    """Rows whose `columns` hold none of `keys`, NULL equal to NULL as in a Python tuple: a
    rowid table's legacy primary key may hold NULL, and `x NOT IN (...)` would drop that row.

    Example: `not_among(['"rowid"'], {("3",), ("8",)}, ["INTEGER"])`.
    """
    full: list[Key] = []
    partial: list[Key] = []
    for key in keys:
        (partial if None in key else full).append(key)
    parts: list[Sql] = []
    if full:
        parts.append(
            sql("coalesce({} NOT IN ({}), 1)", _vector(columns), key_list(full, affinities))
        )
    for key in sorted(partial, key=sort_key):
        tests = [f"{c} IS ?" for c in columns]
        values = tuple(from_text(v, a) for v, a in zip(key, affinities, strict=True))
        parts.append(Sql(f"NOT ({' AND '.join(tests)})", values))
    return join(" AND ", parts) if parts else Sql("1")


def sort_key(key: Key) -> tuple[tuple[bool, str], ...]:
    return tuple((v is None, v or "") for v in key)


def _vector(columns: Sequence[str]) -> str:
    return columns[0] if len(columns) == 1 else f"({', '.join(columns)})"


@dataclass(frozen=True)
class IndexColumn:
    """One key column of a unique index, from `PRAGMA index_xinfo`."""

    table: str
    index: str
    column: str
    collation: str


# Every unique, non-partial index's key columns, with the collation each compares by.
UNIQUE_INDEX_COLUMNS = (
    "SELECT m.name, il.name, x.name, x.coll FROM sqlite_master AS m, "
    "pragma_index_list(m.name) AS il, pragma_index_xinfo(il.name) AS x "
    "WHERE m.type = 'table' AND il.\"unique\" AND NOT il.partial AND x.key AND x.cid >= 0"
)


class Shapes:
    """What the statements need to know of the catalog: how each table's rows are addressed
    and ordered, each column's affinity, and how a reference meets its parent key.

    Example: `Shapes(catalog, [IndexColumn(...) for row in db.fetch(UNIQUE_INDEX_COLUMNS)])`.
    """

    def __init__(self, catalog: Catalog, unique_columns: Iterable[IndexColumn]) -> None:
        self.catalog = catalog
        indexes: dict[tuple[str, str], dict[str, str]] = {}
        for item in unique_columns:
            indexes.setdefault((item.table.lower(), item.index), {})[item.column.lower()] = (
                item.collation.upper()
            )
        self._indexes = indexes
        # Aliases a user's condition cannot mean: no table is named so.
        taken = {t.name.name.lower() for t in catalog.schema.tables}
        self.parent_alias = _free("p", taken)
        self.child_alias = _free("c", taken)

    def table(self, name: TableName) -> Table:
        return self.catalog.table(name)

    def locator(self, name: TableName) -> tuple[str, ...]:
        """What finds a row again: the rowid, or a WITHOUT ROWID table's primary key."""
        table = self.table(name)
        if name in self.catalog.without_rowid:
            return table.primary_key
        return (self.rowid(table),)

    def identity(self, table: Table) -> tuple[str, ...]:
        """The plan's identity of a row: the primary key, else the rowid (the core's `ctid`)."""
        return table.primary_key or (self.rowid(table),)

    def rowid(self, table: Table) -> str:
        return rowid_name(table)

    def order(self, name: TableName) -> tuple[str, ...]:
        """Key order, as the dump writes rows: primary key (then rowid), else rowid."""
        return self.catalog.order_by(name)

    def affinity(self, name: TableName, column_name: str) -> Affinity:
        table = self.table(name)
        if not table.primary_key and column_name == self.rowid(table):
            return "INTEGER"
        return affinity(table.column(column_name).type)

    def affinities(self, name: TableName, columns: Sequence[str]) -> tuple[Affinity, ...]:
        return tuple(self.affinity(name, c) for c in columns)

    def referred_affinities(self, fk: ForeignKey) -> tuple[Affinity, ...]:
        """The affinities a reference is read in: its parent key's."""
        return self.affinities(fk.referred_table, fk.referred_columns)

    def collations(self, fk: ForeignKey) -> tuple[str, ...] | None:
        """The collation of each referred column, as the foreign-key check compares by it
        (that of the unique index it uses); None when no such index tells."""
        parent = self.table(fk.referred_table)
        alias = self.catalog.rowid_alias.get(fk.referred_table)
        if alias is not None and fk.referred_columns == (alias,):
            return (BINARY,)
        wanted = {c.lower() for c in fk.referred_columns}
        found = {
            tuple(columns[c.lower()] for c in fk.referred_columns)
            for (table, _), columns in self._indexes.items()
            if table == parent.name.name.lower() and set(columns) == wanted
        }
        return found.pop() if len(found) == 1 else None

    def is_plain(self, fk: ForeignKey) -> bool:
        """Child and parent columns share an affinity that stores equal values alike, and the
        parent's collation is known: the child's values compare with the parent's as they are."""
        if self.collations(fk) is None:
            return False
        child = self.table(fk.table)
        parent = self.table(fk.referred_table)
        for own, referred in zip(fk.columns, fk.referred_columns, strict=True):
            types = (child.column(own).type, parent.column(referred).type)
            kinds = {affinity(t) for t in types}
            if len(kinds) != 1 or not kinds <= _CANONICAL or "ANY" in (t.upper() for t in types):
                return False
        return True

    def reads_as_is(self, fk: ForeignKey) -> bool:
        """A reference read as is equals the parent key it meets: plain, and compared by
        BINARY (under NOCASE 'a' meets 'A')."""
        collations = self.collations(fk)
        return self.is_plain(fk) and collations is not None and set(collations) == {BINARY}

    def ref_match(self, fk: ForeignKey, child: Sequence[str], parent: str) -> str:
        """The join condition of a row whose reference columns are the SQL expressions `child`
        and the row `parent` (an alias) it references."""
        collations = self.collations(fk)
        pairs = zip(child, fk.referred_columns, collations or fk.columns, strict=True)
        if self.is_plain(fk):
            return " AND ".join(
                f"{c} = {column(r, parent)} COLLATE {quote(coll)}" for c, r, coll in pairs
            )
        return " AND ".join(f"{column(r, parent)} = +{c}" for c, r, _ in pairs)

    def refers_to(self, fk: ForeignKey, keys: Iterable[Key], child: Sequence[str]) -> Sql:
        """Rows whose reference (the SQL expressions `child`) meets one of `keys` (the
        parent's key values): on the child's own columns where plain, so that an index on
        them serves, else through the parent row each one meets."""
        kinds = self.referred_affinities(fk)
        collations = self.collations(fk)
        if self.is_plain(fk) and collations is not None:
            columns = [
                f"{c} COLLATE {quote(coll)}" for c, coll in zip(child, collations, strict=True)
            ]
            return key_in(columns, keys, kinds)
        met = [self.met_value(fk, i, child, fallback=False) for i in range(len(fk.columns))]
        return key_in(met, keys, kinds)

    def met_value(
        self, fk: ForeignKey, position: int, child: Sequence[str], *, fallback: bool
    ) -> str:
        """The referred column at `position` of the parent row that the reference `child`
        meets; with `fallback`, the child's own value where it meets none (a dangling
        reference stays set, in a text no parent key has)."""
        alias = self.parent_alias
        order = ""
        if not self._is_unique(fk):
            keys = ", ".join(column(c, alias) for c in self.order(fk.referred_table))
            order = f" ORDER BY {keys}"
        lookup = (
            f"(SELECT {column(fk.referred_columns[position], alias)} FROM "
            f"{ident(fk.referred_table)} AS {alias} WHERE {self.ref_match(fk, child, alias)}"
            f"{order} LIMIT 1)"
        )
        if not fallback:
            return lookup
        return f"coalesce({lookup}, {child[position]})"

    def _is_unique(self, fk: ForeignKey) -> bool:
        parent = self.table(fk.referred_table)
        if self.collations(fk) is not None:
            return True
        return fk.referred_columns in (parent.primary_key, *parent.unique_keys)


def applies(fk: ForeignKey, alias: str = "", condition: str = "") -> str:
    """True where a row of `alias` references something: every column set, and `condition`
    (the relation's condition, as the caller can splice it there) true.

    Example: `applies(fk, "c")` is `(c."artist_id" IS NOT NULL)`.
    """
    tests = [f"{column(c, alias)} IS NOT NULL" for c in fk.columns]
    if condition:
        tests.append(condition)
    return "(" + " AND ".join(tests) + ")"


def _free(base: str, taken: set[str]) -> str:
    name = base
    while name.lower() in taken:
        name += "_"
    return name
