"""Checks of a MariaDB database against fixtures: every fixture row present and unchanged (by
key), and no row referencing nothing through a relation (declared or virtual)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from genonaut.seed.core.fixture_files import FixtureFile
from genonaut.seed.core.load_plan import skip_key
from genonaut.seed.core.reports import (
    SAMPLE,
    RelationCheck,
    TableCheck,
    differs_line,
    key_text,
    missing_line,
)
from genonaut.seed.core.reports import rows as rows_text
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName

from .connection import Session, ident, quote
from .staging import Stage, create_stages, drop_stages, same_key, same_values, target_table
from .values import select_expression, to_text


def check_rows(db: Session, schema: Schema, files: Sequence[FixtureFile]) -> list[TableCheck]:
    """Per file: rows absent from the target (by primary key, else a unique key, else every
    column) and rows present with other values (every column compared, text byte for byte),
    with the first SAMPLE of each named (`row_details`). The files go to temporary tables;
    the target is not written to.

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
            check = TableCheck(
                stage.target.name, stage.file.entry.rows, int(missing), int(differing)
            )
            if not check.ok:
                check = replace(check, details=row_details(db, schema, stage, check))
            found[stage.target.name] = check
    finally:
        drop_stages(db, stages)
        db.rollback()
    return [found.get(t.name, TableCheck(t.name, f.entry.rows, 0, 0)) for f, t in pairs]


def row_details(db: Session, schema: Schema, stage: Stage, check: TableCheck) -> tuple[str, ...]:
    """The first SAMPLE missing rows and the first SAMPLE differing ones of a staged file, by
    key order, as `missing: table key=value` and `differs: table key=value: column: fixture
    'a', database 'b'` lines, values in the fixture's text form (`values.select_expression`).
    Two statements: a temporary table may appear only once in a MariaDB statement."""
    table = stage.target
    entry = replace(stage.file.entry, name=table.name)
    key = skip_key(schema, entry)
    if not key:  # without a key, a row is there or not: no values to compare
        return (f"missing: {table.name}: {rows_text(check.missing)} (no key)",)
    columns = [table.column(c) for c in entry.columns]
    names = entry.columns
    on = same_key(schema, stage, "t", "s")
    order = ", ".join(
        f"CAST(s.{quote(k)} AS BINARY)" if table.column(k).is_collatable else f"s.{quote(k)}"
        for k in key
    )
    mine = ", ".join(select_expression(c, "s.") for c in columns)
    theirs = ", ".join(select_expression(c, "t.") for c in columns)
    stage_name = quote(stage.name)
    lines = []
    if check.missing:
        missing = db.fetch(
            f"SELECT {mine} FROM {stage_name} s WHERE NOT EXISTS "
            f"(SELECT 1 FROM {ident(table.name)} t WHERE {on}) ORDER BY {order} LIMIT {SAMPLE}"
        )
        for row in missing:
            fixture = [to_text(c, v) for c, v in zip(columns, row, strict=True)]
            lines.append(missing_line(table.name, key_text(key, names, fixture)))
    if check.differing:
        differing = db.fetch(
            f"SELECT {mine}, {theirs} FROM {stage_name} s JOIN {ident(table.name)} t ON {on} "
            f"WHERE NOT ({same_values(table, names, 't', 's')}) ORDER BY {order} LIMIT {SAMPLE}"
        )
        for row in differing:
            texts = [to_text(c, v) for c, v in zip([*columns, *columns], row, strict=True)]
            fixture, database = texts[: len(columns)], texts[len(columns) :]
            where = key_text(key, names, fixture)
            lines.append(differs_line(table.name, where, names, fixture, database))
    return tuple(lines)


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
