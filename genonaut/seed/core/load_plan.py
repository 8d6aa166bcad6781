"""What an import will do, decided without a database: whether the target can take the
fixtures (schema drift), the insert steps parents first with cycles as one step, the key that
tells a row already present, and which tables a truncate would reach."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from genonaut.seed.errors import SchemaDrift

from .fixture_format import FixtureTable, Manifest
from .schema_graph import Schema, TableName, dependency_order, is_cycle, leaf_edges

DRIFT_HINT = (
    "schema drift: re-export the fixtures, or migrate the test database "
    "(an empty one gets the app's schema from make init-test)"
)


@dataclass(frozen=True)
class Step:
    """Tables inserted by one statement: one table, or every table of a cycle."""

    tables: tuple[TableName, ...]
    is_cycle: bool = False


def check_columns(schema: Schema, tables: Iterable[FixtureTable]) -> None:
    """Raise SchemaDrift when the target lacks a table or column of the fixtures, computes a
    column the files fill, or needs a value (NOT NULL, no default) that the files do not give.
    """
    for entry in tables:
        if entry.name not in schema:
            raise SchemaDrift(
                f"table {entry.name} is in the fixtures but not in the target", hint=DRIFT_HINT
            )
        table = schema.table(entry.name)
        if table.is_partitioned:
            raise SchemaDrift(
                f"table {entry.name} has a fixture file but is partitioned in the target",
                hint=DRIFT_HINT,
            )
        present = {c.name: c for c in table.columns}
        for name in entry.columns:
            if name not in present:
                raise SchemaDrift(
                    f"column {entry.name}.{name} is in the fixtures but not in the target",
                    hint=DRIFT_HINT,
                )
            if present[name].is_generated:
                raise SchemaDrift(
                    f"column {entry.name}.{name} is generated in the target, the fixtures fill it",
                    hint=DRIFT_HINT,
                )
        for column in table.stored_columns:
            if (
                column.name not in entry.columns
                and not column.is_nullable
                and not column.identity
                and not column.has_default
            ):
                raise SchemaDrift(
                    f"column {entry.name}.{column.name} is NOT NULL without a default in the "
                    "target, and the fixtures do not fill it",
                    hint=DRIFT_HINT,
                )


def plan_steps(schema: Schema, manifest: Manifest, tables: Sequence[TableName]) -> list[Step]:
    """Insert steps, parents first, from the target's foreign keys and the manifest's virtual
    relations. A cycle (several tables referencing each other) becomes one step.

    >>> plan_steps(schema, manifest, [TableName("public", "b"), TableName("public", "a")])
    ... # doctest: +SKIP
    [Step(tables=(a,)), Step(tables=(b,))]
    """
    edges = leaf_edges(schema, tables)
    for fk in manifest.relations:
        if not fk.is_virtual:
            continue
        parents = set(_leaves(schema, manifest, fk.referred_table))
        for child in _leaves(schema, manifest, fk.table):
            if child in edges:
                edges[child] |= parents
    return [Step(group, is_cycle(group, edges)) for group in dependency_order(tables, edges)]


def _leaves(schema: Schema, manifest: Manifest, name: TableName) -> tuple[TableName, ...]:
    return schema.leaves(name) if name in schema else manifest.holders(name)


def truncation_blockers(schema: Schema, tables: Iterable[TableName]) -> list[tuple[TableName, str]]:
    """(table, constraint) of declared foreign keys from outside `tables` into them: TRUNCATE
    refuses those unless it may CASCADE into the referencing tables."""
    emptied = set(tables)
    found: set[tuple[TableName, str]] = set()
    for fk in schema.foreign_keys:
        if fk.is_virtual or not emptied & set(schema.leaves(fk.referred_table)):
            continue
        found.update((leaf, fk.name) for leaf in schema.leaves(fk.table) if leaf not in emptied)
    return sorted(found)


def skip_key(schema: Schema, entry: FixtureTable) -> tuple[str, ...]:
    """The key that tells a row already present: the primary key, else the first unique key,
    that the file fills; () when there is none."""
    table = schema.table(entry.name)
    for key in (table.primary_key, *table.unique_keys):
        if key and set(key) <= set(entry.columns):
            return key
    return ()


def sequences_not_moved(schema: Schema, tables: Iterable[TableName]) -> list[tuple[TableName, str]]:
    """(sequence, table.column) where a loaded column draws on a sequence but is no number
    (`'INV-' || nextval('inv_seq')`): nothing tells how far to move it."""
    loaded = {a for t in tables for a in schema.ancestors(t)}
    return [
        (seq.name, f"{t}.{c}")
        for seq in schema.sequences
        for t, c in seq.feeds
        if t in loaded and not is_number(schema, t, c)
    ]


def is_number(schema: Schema, table: TableName, column: str) -> bool:
    # A text column may draw on a sequence too; text types are the collatable ones.
    found = schema.table(table).column(column) if table in schema else None
    return (
        found is not None
        and not found.is_collatable
        and found.type not in ("uuid", "json", "jsonb")
    )
