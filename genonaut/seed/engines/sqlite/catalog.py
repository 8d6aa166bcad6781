"""Read a SQLite database's schema into `Schema` records, plus what only SQLite has.

Every table lives in SQLite's schema "main", which the records call `DEFAULT_SCHEMA`
("public"), so fixture file names and manifests do not depend on the engine (`album.tsv`);
`connection.ident` maps it back. SQLite-only facts that the core records do not carry
(WITHOUT ROWID, the rowid alias, AUTOINCREMENT, triggers) are kept beside the `Schema` in a
`Catalog`.

- A column's `type` is its declared type as written (`VARCHAR(20)`, or "" for none); its
  affinity follows from it (`values.affinity`).
- `INTEGER PRIMARY KEY` makes the column an alias of the rowid: it gets a value when none is
  given, so it counts as `has_default`.
- A foreign key that names no parent columns refers to the parent's primary key. SQLite does
  not name foreign keys; each gets PostgreSQL's default name, `<table>_<columns>_fkey`.
- An AUTOINCREMENT table's counter in `sqlite_sequence` plays the part of a sequence: one
  `Sequence` named `sqlite_sequence.<table>` feeding the rowid alias.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from genonaut.seed.core.schema_graph import (
    DEFAULT_SCHEMA,
    Column,
    ForeignKey,
    Schema,
    Sequence,
    Table,
    TableName,
)

from .connection import Session, quote
from .values import affinity

log = logging.getLogger(__name__)

SCHEMA = DEFAULT_SCHEMA
SEQUENCE_SCHEMA = "sqlite_sequence"


@dataclass(frozen=True)
class Trigger:
    name: str
    table: TableName
    sql: str


@dataclass(frozen=True)
class Catalog:
    """The `Schema` and the SQLite facts it has no field for."""

    schema: Schema
    without_rowid: frozenset[TableName] = frozenset()
    # The column that is an alias of the rowid (INTEGER PRIMARY KEY), per rowid table.
    rowid_alias: dict[TableName, str] = field(default_factory=dict)
    autoincrement: frozenset[TableName] = frozenset()
    triggers: dict[TableName, tuple[Trigger, ...]] = field(default_factory=dict)

    def table(self, name: TableName) -> Table:
        return self.schema.table(name)

    def order_by(self, name: TableName) -> tuple[str, ...]:
        """The columns that order a table's rows: its primary key, then the rowid of a rowid
        table (rows whose legacy nullable key is NULL tie); the rowid alone without a key."""
        table = self.table(name)
        if name in self.without_rowid:
            return table.primary_key
        rowid = rowid_name(table)
        return (*table.primary_key, rowid) if table.primary_key else (rowid,)


def table_name(name: str) -> TableName:
    return TableName(SCHEMA, name)


def rowid_name(table: Table) -> str:
    """A name that reaches the rowid of `table`: rowid, _rowid_ or oid, whichever is no column."""
    taken = {c.lower() for c in table.column_names}
    for name in ("rowid", "_rowid_", "oid"):
        if name not in taken:
            return name
    raise ValueError(f"table {table.name} has columns named rowid, _rowid_ and oid")


def read_catalog(db: Session) -> Catalog:
    """The schema of the database `db` is connected to (its "main" schema)."""
    rows = db.fetch(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
    )
    names = {name.lower(): name for name, text in rows if not _is_virtual(text)}
    tables, foreign_keys, sequences = [], [], []
    without_rowid: set[TableName] = set()
    rowid_alias: dict[TableName, str] = {}
    autoincrement = _autoincrement_tables(db)
    for name in sorted(names.values()):
        is_rowid = _has_rowid(db, name)
        table, alias = _read_table(db, name, is_rowid)
        tables.append(table)
        if not is_rowid:
            without_rowid.add(table.name)
        if alias:
            rowid_alias[table.name] = alias
            if name.lower() in autoincrement:
                sequences.append(Sequence(TableName(SEQUENCE_SCHEMA, name), ((table.name, alias),)))
    by_name = {t.name: t for t in tables}
    for table in tables:
        foreign_keys.extend(_read_foreign_keys(db, table, names, by_name))
    return Catalog(
        schema=Schema(tuple(tables), tuple(foreign_keys), tuple(sequences)),
        without_rowid=frozenset(without_rowid),
        rowid_alias=rowid_alias,
        autoincrement=frozenset(s.feeds[0][0] for s in sequences),
        triggers=_read_triggers(db, names),
    )


def read_schema(db: Session) -> Schema:
    return read_catalog(db).schema


def _is_virtual(sql: str | None) -> bool:
    return (sql or "").lstrip().upper().startswith("CREATE VIRTUAL")


def _has_rowid(db: Session, name: str) -> bool:
    # PRAGMA index_info on a WITHOUT ROWID table's name reports its primary-key b-tree;
    # a rowid table has no index of its own name. Cheaper and surer than parsing the SQL.
    return not db.fetch(f"PRAGMA index_info({quote(name)})")


def _read_table(db: Session, name: str, is_rowid: bool) -> tuple[Table, str]:
    # cid, name, type, notnull, dflt_value, pk, hidden (0 plain, 1 hidden in a virtual table,
    # 2 generated VIRTUAL, 3 generated STORED)
    info = db.fetch(f"PRAGMA table_xinfo({quote(name)})")
    key = tuple(row[1] for row in sorted((r for r in info if r[5]), key=lambda r: r[5]))
    alias = ""
    if is_rowid and len(key) == 1:
        declared = next(r[2] for r in info if r[1] == key[0])
        if declared.upper() == "INTEGER":
            alias = key[0]
    columns = tuple(
        Column(
            name=row[1],
            type=row[2],
            # SQLite lets a rowid table's primary key hold NULL (a legacy bug kept for
            # compatibility) unless it is the rowid alias or NOT NULL is declared.
            is_nullable=not (row[3] or row[1] == alias or (row[5] and not is_rowid)),
            is_generated=row[6] in (2, 3),
            is_collatable=affinity(row[2]) == "TEXT",
            has_default=row[4] is not None or row[1] == alias,
        )
        for row in info
        if row[6] != 1
    )
    unique_keys, indexes = _read_indexes(db, name)
    table = Table(
        name=table_name(name),
        columns=columns,
        primary_key=key,
        unique_keys=unique_keys,
        indexes=indexes,
        estimated_rows=0,
    )
    return table, alias


def _read_indexes(
    db: Session, name: str
) -> tuple[tuple[tuple[str, ...], ...], tuple[tuple[str, ...], ...]]:
    unique: list[tuple[str, ...]] = []
    indexes: list[tuple[str, ...]] = []
    # seq, name, unique, origin ('c' CREATE INDEX, 'u' UNIQUE, 'pk'), partial
    for _, index, is_unique, origin, partial in db.fetch(f"PRAGMA index_list({quote(name)})"):
        # seqno, cid (-1 the rowid, -2 an expression), name
        parts = db.fetch(f"PRAGMA index_info({quote(index)})")
        if partial or any(cid < 0 for _, cid, _ in parts):
            continue
        columns = tuple(col for _, _, col in sorted(parts))
        indexes.append(columns)
        if is_unique and origin != "pk":
            unique.append(columns)
    return tuple(sorted(set(unique))), tuple(sorted(set(indexes)))


def _read_foreign_keys(
    db: Session, table: Table, names: dict[str, str], tables: dict[TableName, Table]
) -> list[ForeignKey]:
    # id, seq, table, from, to, on_update, on_delete, match
    rows = db.fetch(f"PRAGMA foreign_key_list({quote(table.name.name)})")
    grouped: dict[int, list[tuple[int, str, str, str | None]]] = {}
    for fk_id, seq, parent, column, referred, *_ in rows:
        grouped.setdefault(fk_id, []).append((seq, parent, column, referred))
    found = []
    own = {c.lower(): c for c in table.column_names}
    for parts in grouped.values():
        parts.sort()
        parent = table_name(names.get(parts[0][1].lower(), parts[0][1]))
        columns = tuple(own.get(p[2].lower(), p[2]) for p in parts)
        if parent not in tables:
            # SQLite accepts a foreign key to a table that does not exist (and then refuses
            # every insert into the child while foreign keys are on): no relation to follow.
            log.warning("%s: foreign key (%s) names no table %s", table.name, columns, parent)
            continue
        theirs = {c.lower(): c for c in tables[parent].column_names}
        referred = tuple(theirs.get(p[3].lower(), p[3]) if p[3] is not None else "" for p in parts)
        if any(not r for r in referred):
            referred = tables[parent].primary_key
        found.append(
            ForeignKey(
                name=f"{table.name.name}_{'_'.join(columns)}_fkey",
                table=table.name,
                columns=columns,
                referred_table=parent,
                referred_columns=referred,
            )
        )
    found.sort(key=lambda fk: (fk.name, fk.referred_table, fk.referred_columns))
    # Two constraints on the same columns would share a name: number the later ones.
    seen: dict[str, int] = {}
    named = []
    for fk in found:
        seen[fk.name] = seen.get(fk.name, 0) + 1
        if seen[fk.name] > 1:
            fk = ForeignKey(
                f"{fk.name}{seen[fk.name]}",
                fk.table,
                fk.columns,
                fk.referred_table,
                fk.referred_columns,
            )
        named.append(fk)
    return named


def _autoincrement_tables(db: Session) -> set[str]:
    """Lower-cased names of tables declared with AUTOINCREMENT.

    sqlite_sequence only lists those that have had a row, so the table's SQL is read: the
    keyword may only follow INTEGER PRIMARY KEY, so finding it as a token is enough."""
    rows = db.fetch("SELECT name, sql FROM sqlite_master WHERE type = 'table'")
    return {name.lower() for name, text in rows if text and _has_token(text, "AUTOINCREMENT")}


def _has_token(text: str, word: str) -> bool:
    """Whether `word` occurs in SQL `text` outside quotes and comments."""
    i, upper, n = 0, text.upper(), len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"`[":
            close = "]" if ch == "[" else ch
            end = text.find(close, i + 1)
            i = n if end < 0 else end + 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            i = n if end < 0 else end + 1
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            i = n if end < 0 else end + 2
        elif ch.isalnum() or ch == "_":
            end = i
            while end < n and (text[end].isalnum() or text[end] in "_$"):
                end += 1
            if upper[i:end] == word:
                return True
            i = end
        else:
            i += 1
    return False


def _read_triggers(db: Session, names: dict[str, str]) -> dict[TableName, tuple[Trigger, ...]]:
    rows = db.fetch(
        "SELECT tbl_name, name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    )
    found: dict[TableName, list[Trigger]] = {}
    for table, name, text in rows:
        owner = table_name(names.get(table.lower(), table))
        found.setdefault(owner, []).append(Trigger(name, owner, text))
    return {table: tuple(triggers) for table, triggers in found.items()}
