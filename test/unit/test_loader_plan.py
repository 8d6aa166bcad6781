"""Import planning without a database: order, cycles, partitions, table choice, drift, files."""

from __future__ import annotations

from pathlib import Path

import pytest

from genonaut.seed.core.fixture_files import choose_tables, read_fixture_files
from genonaut.seed.core.fixture_format import FixtureTable, Manifest
from genonaut.seed.core.load_plan import Step, check_columns, plan_steps, truncation_blockers
from genonaut.seed.core.schema_graph import Column, ForeignKey, Schema, Table, TableName
from genonaut.seed.errors import FixtureError, SchemaDrift, UnknownTable


def n(text: str) -> TableName:
    return TableName.parse(text)


def table(name: str, *columns: str, partition_of: str | None = None, **kw: bool) -> Table:
    return Table(
        n(name),
        tuple(Column(c, "integer", is_nullable=c != "id") for c in ("id", *columns)),
        primary_key=("id",),
        partition_of=n(partition_of) if partition_of else None,
        is_partitioned=kw.get("partitioned", False),
    )


def fk(child: str, column: str, parent: str, **kw: object) -> ForeignKey:
    return ForeignKey(f"{child}_{column}_fkey", n(child), (column,), n(parent), ("id",), **kw)  # type: ignore[arg-type]


SCHEMA = Schema(
    (
        table("users"),
        table("posts", "user_id"),
        table("comments", "post_id", "user_id", "reply_to"),
        # A two-table cycle.
        table("ships", "captain_id"),
        table("sailors", "ship_id"),
        # Partitions two levels deep, referenced through the top parent.
        table("events", partitioned=True),
        table("events_a", partition_of="events", partitioned=True),
        table("events_a_1", partition_of="events_a"),
        table("events_b", partition_of="events"),
        table("reactions", "event_id"),
        table("hr.staff", "boss_id"),
    ),
    (
        fk("posts", "user_id", "users"),
        fk("comments", "post_id", "posts"),
        fk("comments", "user_id", "users"),
        fk("comments", "reply_to", "comments"),
        fk("ships", "captain_id", "sailors"),
        fk("sailors", "ship_id", "ships"),
        fk("reactions", "event_id", "events"),
        fk("hr.staff", "boss_id", "hr.staff"),
    ),
)

DATA = [name for name in SCHEMA.data_tables]


def manifest(*names: str, relations: tuple[ForeignKey, ...] = ()) -> Manifest:
    entries = tuple(
        FixtureTable(
            n(x),
            f"{x}.tsv",
            0,
            SCHEMA.table(n(x)).column_names,
            partition_of=SCHEMA.table(n(x)).partition_of,
        )
        for x in names
    )
    parents = ((n("events"), None), (n("events_a"), n("events")))
    return Manifest(entries, relations, "sha256:x", parents)


FULL = manifest(*(t.display for t in DATA))


def positions(steps: list[Step]) -> dict[str, int]:
    return {str(t): i for i, step in enumerate(steps) for t in step.tables}


def test_parents_come_before_children() -> None:
    at = positions(plan_steps(SCHEMA, FULL, DATA))
    assert at["users"] < at["posts"] < at["comments"]
    assert max(at["events_a_1"], at["events_b"]) < at["reactions"]


def test_a_cycle_of_two_tables_is_one_step() -> None:
    steps = plan_steps(SCHEMA, FULL, DATA)
    cycle = [s for s in steps if len(s.tables) > 1]
    assert cycle == [Step((n("sailors"), n("ships")), is_cycle=True)]


def test_self_references_are_single_table_cycles() -> None:
    steps = {s.tables: s for s in plan_steps(SCHEMA, FULL, DATA)}
    assert steps[(n("comments"),)].is_cycle
    assert steps[(n("hr.staff"),)].is_cycle
    assert not steps[(n("posts"),)].is_cycle


def test_virtual_relations_order_tables_too() -> None:
    virtual = ForeignKey("v", n("reactions"), ("id",), n("users"), ("id",), is_virtual=True)
    at = positions(plan_steps(SCHEMA, manifest("users", "reactions", relations=(virtual,)), DATA))
    assert at["users"] < at["reactions"]
    # Without it, names break the tie.
    at = positions(plan_steps(SCHEMA, manifest("users", "reactions"), [n("reactions"), n("users")]))
    assert at["reactions"] < at["users"]


def test_only_chosen_tables_are_planned() -> None:
    steps = plan_steps(SCHEMA, FULL, [n("comments"), n("users")])
    assert [s.tables for s in steps] == [(n("users"),), (n("comments"),)]


def test_a_partitioned_table_stands_for_its_leaves() -> None:
    chosen = choose_tables(FULL, ["events", "hr.staff"])
    assert sorted(t.name.display for t in chosen) == ["events_a_1", "events_b", "hr.staff"]
    assert [t.name.display for t in choose_tables(FULL, ["staff"])] == ["hr.staff"]
    assert choose_tables(FULL) == FULL.tables


def test_an_unknown_table_is_refused() -> None:
    with pytest.raises(UnknownTable, match="nosuch"):
        choose_tables(FULL, ["nosuch"])


def test_truncation_blockers_name_the_referencing_tables() -> None:
    assert truncation_blockers(SCHEMA, [n("users")]) == [
        (n("comments"), "comments_user_id_fkey"),
        (n("posts"), "posts_user_id_fkey"),
    ]
    assert truncation_blockers(SCHEMA, [n("users"), n("posts"), n("comments")]) == []
    # A reference to the partitioned parent blocks emptying any of its leaves.
    assert truncation_blockers(SCHEMA, [n("events_b")]) == [
        (n("reactions"), "reactions_event_id_fkey")
    ]


def test_drift_a_missing_table_or_column() -> None:
    gone = FixtureTable(n("nosuch"), "nosuch.tsv", 0, ("id",))
    with pytest.raises(SchemaDrift, match="nosuch"):
        check_columns(SCHEMA, [gone])
    extra = FixtureTable(n("users"), "users.tsv", 0, ("id", "email"))
    with pytest.raises(SchemaDrift, match=r"users\.email") as caught:
        check_columns(SCHEMA, [extra])
    assert "re-export" in caught.value.hint


def test_drift_a_required_column_the_file_does_not_fill() -> None:
    schema = Schema(
        (
            Table(
                n("t"),
                (
                    Column("id", "integer", is_nullable=False, identity="a"),
                    Column("name", "text", is_nullable=False),
                    Column("twice", "integer", is_nullable=False, is_generated=True),
                ),
                primary_key=("id",),
            ),
        )
    )
    entry = FixtureTable(n("t"), "t.tsv", 0, ("id",))
    with pytest.raises(SchemaDrift, match=r"t\.name is NOT NULL"):
        check_columns(schema, [entry])
    defaulted = Schema(
        (
            Table(
                n("t"),
                (
                    Column("id", "integer", is_nullable=False, identity="a"),
                    Column("name", "text", is_nullable=False, has_default=True),
                ),
                primary_key=("id",),
            ),
        )
    )
    check_columns(defaulted, [entry])  # a default fills it
    filled = FixtureTable(n("t"), "t.tsv", 0, ("name",))
    check_columns(schema, [filled])  # identity and generated columns fill themselves
    with pytest.raises(SchemaDrift, match="generated"):
        check_columns(schema, [FixtureTable(n("t"), "t.tsv", 0, ("name", "twice"))])


def _write(directory: Path, name: str, data: bytes, rows: int) -> FixtureTable:
    (directory / f"{name}.tsv").write_bytes(data)
    return FixtureTable(n(name), f"{name}.tsv", rows, ("id", "v"))


def test_files_are_checked_before_any_database_work(tmp_path: Path) -> None:
    good = _write(tmp_path, "good", b"id\tv\n1\ta\n2\t\\N\n", 2)
    (read,) = read_fixture_files(tmp_path, [good])
    assert read.body == b"1\ta\n2\t\\N\n"
    cases = {
        "cut short": (_write(tmp_path, "cut", b"id\tv\n1\ta\n2\t", 2), "line 3 has no line end"),
        "miscounted": (_write(tmp_path, "few", b"id\tv\n1\ta\n", 2), "1 rows, but manifest"),
        "header": (_write(tmp_path, "head", b"v\tid\n", 0), "line 1 names columns"),
        "missing": (FixtureTable(n("gone"), "gone.tsv", 0, ("id",)), "is missing"),
    }
    for entry, fragment in cases.values():
        with pytest.raises(FixtureError, match=fragment):
            read_fixture_files(tmp_path, [entry])
