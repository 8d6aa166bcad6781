"""Dependency order, cycles and partitions of the schema graph."""

from __future__ import annotations

import pytest

from genonaut.seed.core.schema_graph import (
    Column,
    ForeignKey,
    Schema,
    Table,
    TableName,
    dependency_order,
    is_cycle,
    leaf_edges,
)
from genonaut.seed.errors import UnknownColumn, UnknownTable


def T(name: str) -> TableName:
    return TableName.parse(name)


def _table(name: str, *columns: str, pk: tuple[str, ...] = ("id",), **kw: object) -> Table:
    return Table(T(name), tuple(Column(c, "integer") for c in columns), pk, **kw)  # type: ignore[arg-type]


def _fk(child: str, col: str, parent: str, ref: str = "id") -> ForeignKey:
    return ForeignKey(f"{child}_{col}", T(child), (col,), T(parent), (ref,))


def test_parse_and_display() -> None:
    assert T("hr.employees") == TableName("hr", "employees")
    assert T("users").display == "users"
    assert T("hr.employees").display == "hr.employees"


def test_parents_come_first_and_ties_break_by_name() -> None:
    a, b, c, d = T("a"), T("b"), T("c"), T("d")
    order = dependency_order([d, c, b, a], {c: {a}, b: {c}, d: set()})
    assert order == [(a,), (c,), (b,), (d,)]


def test_cycle_forms_one_group() -> None:
    dept, emp, loc = T("hr.departments"), T("hr.employees"), T("hr.locations")
    edges = {dept: {emp, loc}, emp: {dept, emp}}
    order = dependency_order([emp, dept, loc], edges)
    assert order == [(loc,), (dept, emp)]
    assert is_cycle(order[1], edges)
    assert not is_cycle(order[0], edges)


def test_self_reference_is_a_cycle_of_one() -> None:
    tags = T("tags")
    assert is_cycle((tags,), {tags: {tags}})


def test_long_chain_does_not_recurse_deeply() -> None:
    names = [T(f"t{i:05d}") for i in range(3000)]
    edges = {names[i]: {names[i - 1]} for i in range(1, len(names))}
    order = dependency_order(reversed(names), edges)
    assert [g[0] for g in order] == names


def _partitioned_schema() -> Schema:
    return Schema(
        tables=(
            _table("users", "id"),
            _table("items_all", "id", "kind", "user_id", pk=("id", "kind"), is_partitioned=True),
            _table(
                "items", "id", "kind", "user_id", pk=("id", "kind"), partition_of=T("items_all")
            ),
            _table(
                "items_auto",
                "id",
                "kind",
                "user_id",
                pk=("id", "kind"),
                partition_of=T("items_all"),
            ),
            _table("bookmarks", "id", "item_id", "item_kind"),
        ),
        foreign_keys=(
            _fk("items_all", "user_id", "users"),
            ForeignKey(
                "bm", T("bookmarks"), ("item_id", "item_kind"), T("items_all"), ("id", "kind")
            ),
        ),
    )


def test_partitions_hold_the_rows_of_their_parent() -> None:
    schema = _partitioned_schema()
    assert schema.data_tables == (T("bookmarks"), T("items"), T("items_auto"), T("users"))
    assert schema.leaves(T("items_all")) == (T("items"), T("items_auto"))
    assert [fk.name for fk in schema.relations_from(T("items_auto"))] == ["items_all_user_id"]
    assert schema.parent_leaves(T("bookmarks")) == {T("items"), T("items_auto")}
    edges = leaf_edges(schema, schema.data_tables)
    order = [g[0] for g in dependency_order(schema.data_tables, edges)]
    assert order.index(T("users")) < order.index(T("items")) < order.index(T("bookmarks"))


def test_resolve_finds_bare_names_in_other_schemas_when_unique() -> None:
    schema = Schema(tables=(_table("hr.employees", "id"), _table("hr.jobs", "id")))
    assert schema.resolve("employees") == T("hr.employees")
    with pytest.raises(UnknownTable):
        schema.resolve("nope")


def test_unknown_column_lists_the_columns() -> None:
    with pytest.raises(UnknownColumn) as info:
        _table("users", "id", "name").column("nmae")
    assert "name" in info.value.hint


def test_fingerprint_changes_with_a_column_type() -> None:
    one = Schema(tables=(_table("users", "id"),))
    other = Schema(tables=(Table(T("users"), (Column("id", "bigint"),), ("id",)),))
    assert one.fingerprint([T("users")]) == Schema(tables=(_table("users", "id"),)).fingerprint(
        [T("users")]
    )
    assert one.fingerprint([T("users")]) != other.fingerprint([T("users")])
