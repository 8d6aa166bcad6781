"""Orphan checks on SQLite: declared foreign keys and virtual relations with a condition."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlite_helpers import url_of

from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, ForeignKey, TableName
from genonaut.seed.engines.sqlite.catalog import read_catalog
from genonaut.seed.engines.sqlite.clone import clone_database, copy_schema, drop_database
from genonaut.seed.engines.sqlite.connection import session
from genonaut.seed.engines.sqlite.verify import find_orphans

SCHEMA = """
CREATE TABLE album (id INTEGER PRIMARY KEY, title TEXT);
CREATE TABLE song (id INTEGER PRIMARY KEY, album_id INTEGER REFERENCES album (id));
CREATE TABLE note (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, target_id INTEGER);
INSERT INTO album VALUES (1, 'a'), (2, 'b');
INSERT INTO song VALUES (1, 1), (2, NULL), (3, 3), (4, 4);
INSERT INTO note VALUES (1, 'album', 1), (2, 'album', 9), (3, 'song', 9), (4, 'album', NULL);
"""


def main(name: str) -> TableName:
    return TableName(DEFAULT_SCHEMA, name)


def test_orphans_per_relation(make_db: Callable[..., Path]) -> None:
    path = make_db(SCHEMA, checked=False)
    virtual = ForeignKey(
        name="note_album",
        table=main("note"),
        columns=("target_id",),
        referred_table=main("album"),
        referred_columns=("id",),
        is_virtual=True,
        condition="kind = 'album'",
    )
    with session(url_of(path), read_only=True) as db:
        catalog = read_catalog(db)
        checks = find_orphans(db, catalog, [*catalog.schema.foreign_keys, virtual])
    assert [(c.relation.name, c.child.name, c.orphans) for c in checks] == [
        ("song_album_id_fkey", "song", 2),  # NULL references nothing and is no orphan
        ("note_album", "note", 1),  # note 3 is about a song: not this relation's business
    ]


def test_clone_copies_rows_and_drop_removes_the_file(
    make_db: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_db(SCHEMA.replace("(3, 3), (4, 4)", "(3, 2)"))
    copy = clone_database(source, tmp_path / "copy.sqlite")
    with session(url_of(copy)) as db:
        assert db.fetch("SELECT count(*) FROM song") == [(3,)]
        db.execute("DELETE FROM note")
    with session(url_of(source), read_only=True) as db:
        assert db.fetch("SELECT count(*) FROM note") == [(4,)]
    empty = copy_schema(source, tmp_path / "empty.sqlite")
    with session(url_of(empty), read_only=True) as db:
        assert db.fetch("SELECT count(*) FROM song") == [(0,)]
        assert read_catalog(db).schema == read_catalog(db).schema
    drop_database(copy)
    drop_database(copy)  # twice: no error
    assert not copy.exists()
