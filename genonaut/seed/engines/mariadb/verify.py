"""Checks of a MariaDB database against fixtures: every fixture row present and unchanged (by
key), and no row referencing nothing through a relation (declared or virtual)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from genonaut.seed.core.fixture_files import FixtureFile
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName

from .connection import Session, ident, quote
from .staging import create_stages, drop_stages, same_key, same_values, target_table


@dataclass(frozen=True)
class TableCheck:
    """Fixture rows of one table that the target lacks, or holds with other values."""

    table: TableName
    in_file: int
    missing: int
    differing: int

    @property
    def ok(self) -> bool:
        return not self.missing and not self.differing


@dataclass(frozen=True)
class RelationCheck:
    """Rows of `child` whose reference through `relation` finds no row."""

    relation: ForeignKey
    child: TableName
    orphans: int


def check_rows(db: Session, schema: Schema, files: Sequence[FixtureFile]) -> list[TableCheck]:
    """Per file: rows absent from the target (by primary key, else a unique key, else every
    column) and rows present with other values (every column compared, text byte for byte).
    The files go to temporary tables; the target is not written to.

    >>> [c for c in check_rows(db, read_schema(db), files) if not c.ok]  # doctest: +SKIP
    []
    """
    pairs = [(f, schema.table(target_table(schema, f.name))) for f in files]
    db.begin()
    stages = create_stages(db, schema, pairs)
    try:
        found: dict[TableName, TableCheck] = {}
        for stage in stages:
            target = ident(stage.target.name)
            (missing,) = db.fetch(
                f"SELECT COUNT(*) FROM {quote(stage.name)} s WHERE NOT EXISTS "
                f"(SELECT 1 FROM {target} t WHERE {same_key(schema, stage, 't', 's')})"
            )[0]
            columns = stage.file.entry.columns
            (differing,) = db.fetch(
                f"SELECT COUNT(*) FROM {quote(stage.name)} s JOIN {target} t "
                f"ON {same_key(schema, stage, 't', 's')} "
                f"WHERE NOT ({same_values(stage.target, columns, 't', 's')})"
            )[0]
            found[stage.target.name] = TableCheck(
                stage.target.name, stage.file.entry.rows, int(missing), int(differing)
            )
    finally:
        drop_stages(db, stages)
        db.rollback()
    return [found.get(t.name, TableCheck(t.name, f.entry.rows, 0, 0)) for f, t in pairs]


def relations_of(
    schema: Schema, tables: Sequence[TableName], virtual: Sequence[ForeignKey] = ()
) -> list[tuple[ForeignKey, TableName]]:
    """(relation, child) for every declared foreign key of `tables` and every virtual
    relation whose child is one of them."""
    found = [(fk, t) for t in tables for fk in schema.relations_from(t)]
    found += [(fk, fk.table) for fk in virtual if fk.table in tables]
    return found


def orphans(
    db: Session, schema: Schema, relations: Sequence[tuple[ForeignKey, TableName]]
) -> list[RelationCheck]:
    """Count, per relation, child rows with every reference column set (and the relation's
    condition true) that match no row of the referenced table. One statement.

    >>> orphans(db, schema, relations_of(schema, schema.data_tables))  # doctest: +SKIP
    [RelationCheck(relation=ForeignKey(...), child=..., orphans=0), ...]
    """
    if not relations:
        return []
    counts = ", ".join(_orphan_count(fk, child) for fk, child in relations)
    (row,) = db.fetch(f"SELECT {counts}")
    return [RelationCheck(fk, child, int(n)) for (fk, child), n in zip(relations, row, strict=True)]


def _orphan_count(fk: ForeignKey, child: TableName) -> str:
    tests = [f"c.{quote(c)} IS NOT NULL" for c in fk.columns]
    if fk.condition:
        # A user-written predicate on the child row, from the export configuration.
        tests.append(f"({fk.condition}) IS TRUE")
    matches = " AND ".join(
        f"p.{quote(theirs)} = c.{quote(mine)}"
        for mine, theirs in zip(fk.columns, fk.referred_columns, strict=True)
    )
    return (
        f"(SELECT COUNT(*) FROM {ident(child)} c WHERE {' AND '.join(tests)} "
        f"AND NOT EXISTS (SELECT 1 FROM {ident(fk.referred_table)} p WHERE {matches}))"
    )
