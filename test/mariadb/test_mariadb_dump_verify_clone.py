"""Dumping chosen rows, verifying a database against fixtures, copying databases."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from mariadb_helpers import export_all, fixture_files, load_all, run
from mariadb_schemas import RELATIONS, TRIGGERS

from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, ForeignKey, TableName
from genonaut.seed.engines.mariadb import dump
from genonaut.seed.engines.mariadb.catalog import read_schema, read_triggers
from genonaut.seed.engines.mariadb.clone import clone_database, drop_database
from genonaut.seed.engines.mariadb.connection import parse_url, session, with_database
from genonaut.seed.engines.mariadb.verify import check_rows, orphans, relations_of
from genonaut.seed.errors import ConfigError


@pytest.fixture
def source(mariadb_url: str) -> str:
    run(mariadb_url, *RELATIONS)
    return mariadb_url


def _dump(url: str, table: str, keys: set[tuple[str | None, ...]] | None) -> bytes:
    with session(url, read_only=True) as db:
        schema = read_schema(db)
        sink = io.BytesIO()
        dump.dump_rows(db, schema.table(TableName(DEFAULT_SCHEMA, table)), sink, keys)
        return sink.getvalue()


def test_chosen_keys_come_in_key_order_text_by_its_bytes(source: str) -> None:
    body = _dump(source, "region", {("FR", "75"), ("de", "by"), ("DE", "BE")})
    # Upper case sorts before lower case by bytes, whatever the collation says.
    assert body == b"DE\tBE\tBerlin\nFR\t75\tParis\nde\tby\tbavaria\n"
    assert _dump(source, "employee", {("6",), ("1",), ("404",)}) == (
        b"1\tAnn\t10\t5\n6\tDan\t7\t1\n"
    )
    assert _dump(source, "employee", set()) == b""


def test_many_keys_give_the_same_bytes_as_a_few(
    source: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    keys: set[tuple[str | None, ...]] = {("1",), ("5",), ("6",)}
    by_list = _dump(source, "employee", keys)
    monkeypatch.setattr(dump, "IN_LIST_LIMIT", 2)
    assert _dump(source, "employee", keys) == by_list
    assert by_list.count(b"\n") == 3


def test_a_table_without_key_dumps_whole_and_in_a_total_order(source: str) -> None:
    body = _dump(source, "note", None)
    assert body == b"\\N\tno office\n10\tsame\n10\tsame\n20\tZeta\n20\talpha\n"
    with session(source) as db:
        table = read_schema(db).table(TableName(DEFAULT_SCHEMA, "note"))
        with pytest.raises(ConfigError, match="no primary key"):
            dump.dump_rows(db, table, io.BytesIO(), {("10",)})


def test_rows_are_read_in_batches(source: str) -> None:
    with session(source, read_only=True) as db:
        table = read_schema(db).table(TableName(DEFAULT_SCHEMA, "employee"))
        small, whole = io.BytesIO(), io.BytesIO()
        assert dump.dump_rows(db, table, small, batch=1) == 4
        dump.dump_rows(db, table, whole)
    assert small.getvalue() == whole.getvalue()


def test_verify_finds_missing_and_changed_rows_and_orphans(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    with session(source) as db:
        schema = read_schema(db)
        checks = check_rows(db, schema, fixture_files(tmp_path))
        found = orphans(db, schema, relations_of(schema, schema.data_tables))
    assert all(c.ok for c in checks) and len(checks) == 6
    assert all(r.orphans == 0 for r in found) and len(found) == 7
    run(
        source,
        "SET SESSION FOREIGN_KEY_CHECKS = 0",
        "DELETE FROM employee WHERE id = 5",
        "UPDATE region SET name = 'PARIS' WHERE code = '75'",
        "UPDATE note SET body = 'changed' WHERE body = 'Zeta'",
    )
    virtual = ForeignKey(
        "note_about",
        TableName(DEFAULT_SCHEMA, "note"),
        ("office_id",),
        TableName(DEFAULT_SCHEMA, "employee"),
        ("id",),
        is_virtual=True,
        condition="c.body LIKE 'alp%'",
    )
    with session(source) as db:
        schema = read_schema(db)
        checks = check_rows(db, schema, fixture_files(tmp_path))
        found = orphans(db, schema, relations_of(schema, schema.data_tables, [virtual]))
    problems = {c.table.name: (c.missing, c.differing) for c in checks if not c.ok}
    assert problems == {"employee": (1, 0), "region": (0, 1), "note": (1, 0)}
    by_name = {r.relation.name: r.orphans for r in found}
    # Ann and Bob report to Cleo (5); office_region_name now points at 'PARIS' (the
    # collation calls it equal to 'Paris', as the server's own check would); one note
    # 'alpha' has office 20, no employee 20.
    assert by_name["employee_boss"] == 2
    assert by_name["office_region_name"] == 0
    assert by_name["note_about"] == 1


def test_a_copy_has_the_rows_keys_and_triggers_and_is_dropped(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    run(source, *TRIGGERS)
    origin = parse_url(source).database
    copy = f"{origin}_copy"
    try:
        with session(source) as db:
            clone_database(db, origin, copy)
            schema = read_schema(db, copy)
            triggers = read_triggers(db, copy)
            mine = read_schema(db)
        assert [t.name.name for t in schema.tables] == [t.name.name for t in mine.tables]
        assert {fk.name for fk in schema.foreign_keys} == {fk.name for fk in mine.foreign_keys}
        assert all(fk.referred_table.schema == copy for fk in schema.foreign_keys)
        assert {t.name for ts in triggers.values() for t in ts} == {"event_stamp", "event_audit"}
        export_all(source, tmp_path / "a")
        export_all(with_database(source, copy), tmp_path / "b")
        for path in (tmp_path / "a").glob("*.tsv"):
            assert (tmp_path / "b" / path.name).read_bytes() == path.read_bytes()
        # The copy's keys hold: a row without parent is refused.
        with pytest.raises(Exception, match="foreign key constraint fails"):
            run(with_database(source, copy), "INSERT INTO book VALUES (9, 'x', 404)")
    finally:
        with session(source) as db:
            drop_database(db, copy)
    assert not run(source, f"SHOW DATABASES LIKE '{copy}'")


def test_an_empty_copy_takes_the_fixtures(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    target = parse_url(make_mariadb()).database
    run(with_database(source, ""), f"DROP DATABASE `{target}`")
    with session(source) as db:
        clone_database(db, parse_url(source).database, target, with_rows=False)
    assert run(with_database(source, target), "SELECT COUNT(*) FROM employee") == [(0,)]
    assert load_all(with_database(source, target), tmp_path).inserted == 21
