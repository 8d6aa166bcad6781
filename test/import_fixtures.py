"""A small hand-written schema and fixture directory, for the importer's tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from db_helpers import run_sql

from genonaut.seed.core.fixture_format import (
    MANIFEST,
    FixtureTable,
    Manifest,
    encode_row,
    file_name,
    header_line,
)
from genonaut.seed.core.schema_graph import ForeignKey, TableName

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
