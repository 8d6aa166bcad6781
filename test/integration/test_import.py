"""import_seed on a real PostgreSQL: counts, idempotence, truncation, sequences, cycles, verify."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from db_helpers import run_sql

from genonaut.db.demo.seed_data_gen.errors import ConfigError, LoadFailed, UnbreakableCycle
from genonaut.db.demo.seed_data_gen.fixture_format import (
    MANIFEST,
    FixtureTable,
    Manifest,
    encode_row,
    file_name,
    header_line,
)
from genonaut.db.demo.seed_data_gen.loader import import_seed
from genonaut.db.demo.seed_data_gen.schema_graph import ForeignKey, TableName
from genonaut.db.demo.seed_data_gen.verify import verify_seed

SCHEMA = """
CREATE TABLE authors (id serial PRIMARY KEY, name text NOT NULL,
                      joined date NOT NULL DEFAULT current_date);
CREATE TABLE books (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                    author_id int NOT NULL REFERENCES authors, title text NOT NULL, ref uuid,
                    pages int, half int GENERATED ALWAYS AS (pages / 2) STORED);
CREATE TABLE categories (id int PRIMARY KEY, parent_id int REFERENCES categories, name text);
-- No key at all, and a json column (no equality operator).
CREATE TABLE notes (author_id int REFERENCES authors, doc json, body text);
-- One sequence feeding two tables, owned by neither.
CREATE SEQUENCE ticket_seq;
CREATE TABLE tickets_a (id bigint PRIMARY KEY DEFAULT nextval('ticket_seq'),
                        book_id int REFERENCES books);
CREATE TABLE tickets_b (id bigint PRIMARY KEY DEFAULT nextval('ticket_seq'));
CREATE TABLE events (id int, kind text, PRIMARY KEY (id, kind)) PARTITION BY LIST (kind);
CREATE TABLE events_x PARTITION OF events FOR VALUES IN ('x');
CREATE TABLE events_y PARTITION OF events FOR VALUES IN ('y');
CREATE TABLE reactions (id int PRIMARY KEY, event_id int, event_kind text,
                        FOREIGN KEY (event_id, event_kind) REFERENCES events);
-- A cycle whose foreign keys are both NOT NULL and not deferrable.
CREATE TABLE ships (id int PRIMARY KEY, captain_id int NOT NULL);
CREATE TABLE sailors (id int PRIMARY KEY, ship_id int NOT NULL REFERENCES ships);
ALTER TABLE ships ADD FOREIGN KEY (captain_id) REFERENCES sailors;
-- A relation no constraint declares: likes.target_id -> books.id when target_kind = 'book'.
CREATE TABLE likes (id int PRIMARY KEY, target_kind text NOT NULL, target_id int NOT NULL);
"""

LIKES_BOOKS = ForeignKey(
    name="likes_book",
    table=TableName("public", "likes"),
    columns=("target_id",),
    referred_table=TableName("public", "books"),
    referred_columns=("id",),
    is_virtual=True,
    condition="target_kind = 'book'",
)

Row = Sequence[str | None]
Spec = dict[str, tuple[tuple[str, ...], list[Row]]]
PARTITIONS = {"events_x": "events", "events_y": "events"}


def seed_rows() -> Spec:
    """The fixture's rows, as COPY text values, keyed by table (load order irrelevant)."""
    return {
        "authors": (
            ("id", "name", "joined"),
            [(str(i), f"author {i}\twith tab", "2024-01-02") for i in range(1, 201)],
        ),
        "books": (
            ("id", "author_id", "title", "ref", "pages"),
            [
                (str(i), str(1 + i % 200), f"book {i}", f"00000000-0000-0000-0000-{i:012d}", "31")
                for i in range(1, 501)
            ],
        ),
        # Each category's parent comes later in the file.
        "categories": (
            ("id", "parent_id", "name"),
            [(str(i), str(i + 1) if i < 100 else None, f"c{i}") for i in range(1, 101)],
        ),
        "notes": (
            ("author_id", "doc", "body"),
            [(str(1 + i % 5), f'{{"i": {i % 3}}}', "same") for i in range(40)],
        ),
        "tickets_a": (("id", "book_id"), [(str(i), str(i)) for i in range(1, 31)]),
        "tickets_b": (("id",), [(str(i),) for i in range(100, 111)]),
        "events_x": (("id", "kind"), [(str(i), "x") for i in range(1, 51)]),
        "events_y": (("id", "kind"), [(str(i), "y") for i in range(1, 51)]),
        "reactions": (
            ("id", "event_id", "event_kind"),
            [(str(i), str(1 + i % 50), "xy"[i % 2]) for i in range(1, 201)],
        ),
        "ships": (("id", "captain_id"), [(str(i), str(10 * i)) for i in range(1, 4)]),
        "sailors": (
            ("id", "ship_id"),
            [(str(10 * s + k), str(s)) for s in range(1, 4) for k in range(3)],
        ),
        "likes": (
            ("id", "target_kind", "target_id"),
            [(str(i), "book" if i % 2 else "person", str(i)) for i in range(1, 101)],
        ),
    }


def write_fixture(
    directory: Path,
    spec: Spec,
    relations: Sequence[ForeignKey] = (LIKES_BOOKS,),
    partitions: dict[str, str] = PARTITIONS,
) -> Path:
    """A fixture directory as the exporter writes it: TSVs and manifest.json."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (columns, rows) in spec.items():
        table = TableName.parse(name)
        with (directory / file_name(table)).open("wb") as out:
            out.write(header_line(columns))
            out.writelines((encode_row(r) + "\n").encode() for r in rows)
        parent = partitions.get(name)
        entries.append(
            FixtureTable(
                table,
                file_name(table),
                len(rows),
                columns,
                partition_of=TableName.parse(parent) if parent else None,
            )
        )
    parents = tuple((TableName.parse(p), None) for p in sorted(set(partitions.values())))
    manifest = Manifest(tuple(entries), tuple(relations), "sha256:test", parents)
    (directory / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return directory


def counts(url: str, tables: Sequence[str]) -> dict[str, int]:
    query = " UNION ALL ".join(f"SELECT '{t}', count(*) FROM {t}" for t in tables)
    return {name: int(n) for name, n in run_sql(url, query)}


@pytest.fixture
def target(empty_db_url: str) -> str:
    run_sql(empty_db_url, SCHEMA)
    return empty_db_url


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    return write_fixture(tmp_path / "seed", seed_rows())


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
