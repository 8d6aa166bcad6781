"""import_seed on a real PostgreSQL: counts, idempotence, truncation, sequences, cycles, verify."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from db_helpers import run_sql
from import_fixtures import SCHEMA, counts, seed_rows, write_fixture

from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed
from genonaut.seed.errors import ConfigError, LoadFailed, UnbreakableCycle


def test_every_row_is_loaded_and_a_second_import_inserts_nothing(target: str, seed: Path) -> None:
    spec = seed_rows()
    first = import_seed(seed, target)
    assert {str(t.table): t.inserted for t in first.tables} == {
        name: len(rows) for name, (_, rows) in spec.items()
    }
    assert counts(target, list(spec)) == {name: len(rows) for name, (_, rows) in spec.items()}
    second = import_seed(seed, target)
    assert second.inserted == 0
    assert all(t.already_there == t.in_file for t in second.tables)
    assert counts(target, list(spec)) == {name: len(rows) for name, (_, rows) in spec.items()}


def test_parents_load_before_children_and_cycles_in_one_step(target: str, seed: Path) -> None:
    order = [str(t.table) for t in import_seed(seed, target).tables]
    assert order.index("authors") < order.index("books") < order.index("tickets_a")
    assert order.index("events_x") < order.index("reactions")
    assert order.index("books") < order.index("likes")  # the virtual relation orders them too
    assert abs(order.index("ships") - order.index("sailors")) == 1


def test_values_round_trip_and_generated_columns_are_computed(target: str, seed: Path) -> None:
    import_seed(seed, target)
    assert run_sql(
        target,
        "SELECT name, half FROM authors JOIN books b ON b.id = 7 WHERE authors.id = b.author_id",
    ) == [("author 8\twith tab", 15)]
    assert run_sql(target, "SELECT count(*) FROM notes WHERE body = 'same'") == [(40,)]


def test_sequences_and_identities_move_past_the_loaded_values(target: str, seed: Path) -> None:
    run_sql(target, "SELECT setval('ticket_seq', 105)")
    report = import_seed(seed, target)
    assert (TableName("public", "ticket_seq"), 110) in report.sequences
    assert run_sql(target, "INSERT INTO authors (name) VALUES ('new') RETURNING id") == [(201,)]
    assert run_sql(
        target, "INSERT INTO books (author_id, title) VALUES (1, 'new') RETURNING id"
    ) == [(501,)]
    # Shared by tickets_a (largest 30) and tickets_b (largest 110): past both.
    assert run_sql(target, "INSERT INTO tickets_a DEFAULT VALUES RETURNING id") == [(111,)]


def test_a_sequence_is_never_moved_backwards(target: str, seed: Path) -> None:
    run_sql(target, "SELECT setval('ticket_seq', 5000)")
    import_seed(seed, target)
    assert run_sql(target, "SELECT last_value FROM ticket_seq") == [(5000,)]


def test_truncate_first_replaces_what_was_there(target: str, seed: Path) -> None:
    import_seed(seed, target)
    run_sql(target, "INSERT INTO categories VALUES (999, NULL, 'extra')")
    report = import_seed(seed, target, truncate_first=True)
    assert run_sql(target, "SELECT count(*) FROM categories WHERE id = 999") == [(0,)]
    assert report.inserted == sum(len(rows) for _, rows in seed_rows().values())


def test_truncate_refuses_to_empty_tables_referenced_from_outside(target: str, seed: Path) -> None:
    import_seed(seed, target)
    with pytest.raises(ConfigError) as caught:
        import_seed(seed, target, tables=["authors"], truncate_first=True)
    assert "books" in caught.value.message and "notes" in caught.value.message
    assert "--cascade" in caught.value.hint
    assert counts(target, ["authors", "books"]) == {"authors": 200, "books": 500}
    report = import_seed(seed, target, tables=["authors"], truncate_first=True, cascade=True)
    assert counts(target, ["authors", "books", "tickets_a"]) == {
        "authors": 200,
        "books": 0,
        "tickets_a": 0,
    }
    assert TableName("public", "books") in report.truncated


def test_a_table_whose_parents_are_missing_fails_and_changes_nothing(
    target: str, seed: Path
) -> None:
    with pytest.raises(LoadFailed) as caught:
        import_seed(seed, target, tables=["authors", "categories", "tickets_a"])
    assert "tickets_a_book_id_fkey" in caught.value.message
    assert "Key (book_id)=(1)" in caught.value.message
    assert counts(target, ["authors", "categories"]) == {"authors": 0, "categories": 0}


def test_tables_option_loads_only_those_and_partitions_by_their_parent(
    target: str, seed: Path
) -> None:
    report = import_seed(seed, target, tables=["events", "reactions"])
    assert [str(t.table) for t in report.tables] == ["events_x", "events_y", "reactions"]
    assert counts(target, ["events", "authors"]) == {"events": 100, "authors": 0}


def test_verify_finds_a_deleted_row_a_changed_row_and_a_virtual_orphan(
    target: str, seed: Path
) -> None:
    import_seed(seed, target)
    assert verify_seed(seed, target).ok
    run_sql(target, "DELETE FROM books WHERE id = 41; UPDATE authors SET name = 'x' WHERE id = 3")
    report = verify_seed(seed, target)
    assert not report.ok
    by_table = {str(t.table): t for t in report.tables}
    assert (by_table["books"].missing, by_table["authors"].differing) == (1, 1)
    orphaned = [(r.relation.name, r.orphans) for r in report.relations if r.orphans]
    assert orphaned == [("likes_book", 1)]
    assert "likes_book" in report.as_table()


def test_verify_sees_a_missing_row_of_a_table_without_key(target: str, seed: Path) -> None:
    import_seed(seed, target)
    run_sql(target, "DELETE FROM notes WHERE author_id = 2")
    by_table = {str(t.table): t for t in verify_seed(seed, target).tables}
    assert by_table["notes"].missing == 8


def test_statements_grow_with_tables_not_rows(
    target: str, make_database: Callable[..., str], tmp_path: Path
) -> None:
    small = import_seed(write_fixture(tmp_path / "small", seed_rows()), target)
    spec = seed_rows()
    columns, _ = spec["books"]
    spec["books"] = (
        columns,
        [(str(i), str(1 + i % 200), f"b{i}", None, str(i)) for i in range(1, 5001)],
    )
    other = make_database()
    run_sql(other, SCHEMA)
    big = import_seed(write_fixture(tmp_path / "big", spec), other)
    assert big.inserted > 5000
    assert big.statements == small.statements


def test_a_cycle_the_database_refuses_in_one_statement_is_unbreakable(
    target: str, seed: Path
) -> None:
    # Rules of this kind are not allowed in data-modifying CTEs, which a cycle needs.
    run_sql(target, "CREATE RULE keep_out AS ON INSERT TO ships DO INSTEAD NOTHING")
    with pytest.raises(UnbreakableCycle) as caught:
        import_seed(seed, target)
    assert "ships" in caught.value.message and "sailors" in caught.value.message
    assert "ships_captain_id_fkey" in caught.value.message
    assert "DEFERRABLE" in caught.value.hint
    assert counts(target, ["authors"]) == {"authors": 0}


def test_rows_already_there_are_skipped_on_their_primary_key(target: str, seed: Path) -> None:
    """`ON CONFLICT (primary key) DO NOTHING` where the table allows it; tables without a
    primary key are compared on every column instead. (The first import copies each file
    straight into its empty table; the second has rows to skip.)"""
    import_seed(seed, target)
    statements: list[str] = []
    import_seed(seed, target, tracer=statements.append)
    inserts = [s for s in statements if s.startswith("INSERT INTO")]
    authors = [s for s in inserts if s.startswith('INSERT INTO "public"."authors"')]
    assert authors and all(s.endswith('ON CONFLICT ("id") DO NOTHING') for s in authors)
    notes = [s for s in inserts if s.startswith('INSERT INTO "public"."notes"')]
    assert notes and all("WHERE NOT EXISTS" in s for s in notes)


def test_files_go_straight_into_empty_tables(target: str, seed: Path) -> None:
    """Into an empty target each file is one COPY into its table, with no staging table; a
    second import, finding rows there, goes through staging and skips them."""
    first: list[str] = []
    report = import_seed(seed, target, tracer=first.append)
    assert report.inserted > 0
    assert any(s.startswith('COPY "public"."authors"') for s in first)
    assert not any(s.startswith('INSERT INTO "public"."authors"') for s in first)
    second: list[str] = []
    again = import_seed(seed, target, tracer=second.append)
    assert again.inserted == 0
    assert any(s.startswith("CREATE TEMP TABLE") for s in second)
    assert not any(s.startswith('COPY "public"."authors"') for s in second)
