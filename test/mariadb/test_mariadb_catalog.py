"""Reading a MariaDB schema: tables, columns, keys, foreign keys, AUTO_INCREMENT, triggers."""

from __future__ import annotations

from mariadb_helpers import run
from mariadb_schemas import RELATIONS, TRIGGERS, TYPES

from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, TableName
from genonaut.seed.engines.mariadb.catalog import (
    auto_increment_column,
    read_referential_rules,
    read_schema,
    read_triggers,
)
from genonaut.seed.engines.mariadb.connection import session


def test_tables_keys_and_foreign_keys_are_read(mariadb_url: str) -> None:
    run(mariadb_url, *RELATIONS, "CREATE VIEW office_names AS SELECT id FROM office")
    with session(mariadb_url) as db:
        schema = read_schema(db)
        rules = read_referential_rules(db)
    assert [t.name.name for t in schema.tables] == [
        "author",
        "book",
        "employee",
        "note",
        "office",
        "region",
    ]
    region = schema.table(TableName(DEFAULT_SCHEMA, "region"))
    assert region.primary_key == ("country", "code")
    assert region.unique_keys == (("name",),)
    assert schema.table(TableName(DEFAULT_SCHEMA, "note")).primary_key == ()
    fks = {fk.name: fk for fk in schema.foreign_keys}
    assert fks["office_region"].columns == ("country", "code")
    assert fks["office_region"].referred_columns == ("country", "code")
    assert fks["office_region_name"].referred_columns == ("name",)
    assert fks["employee_boss"].is_self_referencing
    assert fks["author_first_book"].referred_table == TableName(DEFAULT_SCHEMA, "book")
    assert len(fks) == 7
    assert {r.name: (r.on_delete, r.on_update) for r in rules}["book_author"] == (
        "RESTRICT",
        "RESTRICT",
    )
    office = schema.table(TableName(DEFAULT_SCHEMA, "office"))
    assert office.column("id").identity == "d" and office.column("id").has_default
    assert auto_increment_column(schema, TableName(DEFAULT_SCHEMA, "office")) == "id"
    assert auto_increment_column(schema, TableName(DEFAULT_SCHEMA, "region")) is None
    assert office.column("country").is_collatable and not office.column("id").is_collatable
    assert office.column("region_name").is_nullable
    assert not office.column("country").is_nullable


def test_columns_keep_their_full_type_and_generated_columns_are_marked(mariadb_url: str) -> None:
    run(mariadb_url, *TYPES)
    with session(mariadb_url) as db:
        table = read_schema(db).table(TableName(DEFAULT_SCHEMA, "every_type"))
    types = {c.name: c.type for c in table.columns}
    assert types["bu"] == "bigint(20) unsigned"
    assert types["dc"] == "decimal(30,10)"
    assert types["dt"] == "datetime(3)"
    assert types["e"] == "enum('small','large')"
    assert types["b10"] == "bit(10)"
    assert table.column("gen").is_generated
    assert "gen" not in [c.name for c in table.stored_columns]


def test_triggers_are_read_per_table(mariadb_url: str) -> None:
    run(mariadb_url, *TRIGGERS)
    with session(mariadb_url) as db:
        triggers = read_triggers(db)
    assert list(triggers) == [TableName(DEFAULT_SCHEMA, "event")]
    assert [(t.name, t.timing, t.event) for t in triggers[TableName(DEFAULT_SCHEMA, "event")]] == [
        ("event_stamp", "BEFORE", "INSERT"),
        ("event_audit", "AFTER", "INSERT"),
    ]
