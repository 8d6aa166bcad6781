"""Reading a SQLite schema into the core records."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlite_helpers import url_of

from genonaut.seed.core.schema_graph import (
    DEFAULT_SCHEMA,
    TableName,
    dependency_order,
    is_cycle,
    leaf_edges,
)
from genonaut.seed.engines.sqlite.catalog import Catalog, read_catalog
from genonaut.seed.engines.sqlite.connection import session


def main(name: str) -> TableName:
    return TableName(DEFAULT_SCHEMA, name)


def catalog_of(path: Path) -> Catalog:
    with session(url_of(path), read_only=True) as db:
        return read_catalog(db)


def test_tables_columns_and_keys(sample_db: Path) -> None:
    catalog = catalog_of(sample_db)
    schema = catalog.schema
    assert schema.data_tables == tuple(
        main(n)
        for n in (
            "anything",
            "artist",
            "audit",
            "employee",
            "office",
            "player",
            "priced",
            "region",
            "team",
        )
    )
    artist = schema.table(main("artist"))
    assert artist.column_names == ("id", "name", "born")
    assert [c.type for c in artist.columns] == ["INTEGER", "TEXT", "DATE"]
    assert artist.primary_key == ("id",)
    assert artist.unique_keys == (("name",),)
    assert artist.column("id").has_default and not artist.column("id").is_nullable
    assert artist.column("born").has_default and artist.column("born").is_nullable
    assert not artist.column("name").is_nullable and artist.column("name").is_collatable
    region = schema.table(main("region"))
    assert region.primary_key == ("country", "code")
    assert not region.column("country").is_nullable  # WITHOUT ROWID keys are NOT NULL
    assert catalog.without_rowid == frozenset({main("region")})
    assert schema.table(main("anything")).primary_key == ()
    assert [c.type for c in schema.table(main("anything")).columns][-1] == ""
    priced = schema.table(main("priced"))
    assert [c.name for c in priced.stored_columns] == ["id", "net"]
    assert priced.column("gross").is_generated and priced.column("tax").is_generated
    assert schema.table(main("office")).indexes == (("country", "code"),)
    assert catalog.rowid_alias[main("employee")] == "id"
    assert main("region") not in catalog.rowid_alias


def test_foreign_keys_composite_self_and_cycles(sample_db: Path) -> None:
    schema = catalog_of(sample_db).schema
    described = {fk.describe(): fk for fk in schema.foreign_keys}
    assert set(described) == {
        "employee(boss_id) -> employee(id)",
        # Declared without parent columns: the parent's primary key.
        "office(country, code) -> region(country, code)",
        "player(team_id) -> team(id)",
        "team(captain_id) -> player(id)",
    }
    assert described["employee(boss_id) -> employee(id)"].is_self_referencing
    assert described["player(team_id) -> team(id)"].name == "player_team_id_fkey"
    edges = leaf_edges(schema, schema.data_tables)
    groups = dependency_order(schema.data_tables, edges)
    cycles = [g for g in groups if is_cycle(g, edges)]
    assert cycles == [(main("employee"),), (main("player"), main("team"))]
    assert groups.index((main("region"),)) < groups.index((main("office"),))


def test_autoincrement_and_triggers(sample_db: Path) -> None:
    catalog = catalog_of(sample_db)
    assert catalog.autoincrement == frozenset({main("artist"), main("audit")})
    assert [(s.name.display, s.feeds) for s in catalog.schema.sequences] == [
        ("sqlite_sequence.artist", ((main("artist"), "id"),)),
        ("sqlite_sequence.audit", ((main("audit"), "id"),)),
    ]
    assert {t: [x.name for x in found] for t, found in catalog.triggers.items()} == {
        main("artist"): ["artist_audit"],
        main("employee"): ["employee_shout"],
    }
    assert catalog.triggers[main("artist")][0].sql.startswith("CREATE TRIGGER artist_audit")


def test_odd_names_case_and_keywords(make_db: Callable[..., Path]) -> None:
    path = make_db(
        """
        CREATE TABLE "Parent Table" ("Key" INTEGER PRIMARY KEY, "a""b" TEXT);
        CREATE TABLE child (
            id int primary key,  -- not INTEGER: no rowid alias
            parent INTEGER REFERENCES "PARENT TABLE" ("KEY"),
            note TEXT DEFAULT 'AUTOINCREMENT'
        );
        CREATE TABLE pairs (a, b, UNIQUE (b, a));
        CREATE UNIQUE INDEX pairs_partial ON pairs (a) WHERE a > 0;
        CREATE VIRTUAL TABLE IF NOT EXISTS r USING rtree (id, x0, x1);
        """
    )
    catalog = catalog_of(path)
    fk = catalog.schema.foreign_keys[0]
    assert fk.describe() == "child(parent) -> Parent Table(Key)"
    assert catalog.table(main("Parent Table")).column_names == ("Key", 'a"b')
    assert main("child") not in catalog.rowid_alias
    assert catalog.autoincrement == frozenset()  # the word in a string is no keyword
    assert catalog.table(main("pairs")).unique_keys == (("b", "a"),)  # the partial one is not
    assert main("r") not in catalog.schema  # virtual tables hold no rows of their own
