"""Dump a SQLite database, load the files into an empty copy, verify, and compare bytes."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_helpers import query, url_of

from genonaut.seed.core.fixture_files import read_fixture_files
from genonaut.seed.core.fixture_format import MANIFEST, read_manifest
from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, TableName
from genonaut.seed.engines.sqlite.catalog import read_catalog
from genonaut.seed.engines.sqlite.clone import copy_schema
from genonaut.seed.engines.sqlite.connection import connect_path, session
from genonaut.seed.engines.sqlite.dump import dump_bytes, dump_directory
from genonaut.seed.engines.sqlite.load import import_directory, load_files
from genonaut.seed.engines.sqlite.verify import verify_directory
from genonaut.seed.errors import FixtureError, LoadFailed, SchemaDrift


def main(name: str) -> TableName:
    return TableName(DEFAULT_SCHEMA, name)


def export(path: Path, directory: Path) -> Path:
    with session(url_of(path), read_only=True) as db:
        dump_directory(db, read_catalog(db), directory)
    return directory


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def all_rows(path: Path, table: str, order: str = "rowid") -> list[tuple[object, ...]]:
    """Every value of `table` with its storage class, generated columns included."""
    columns = [r[1] for r in query(path, f'PRAGMA table_xinfo("{table}")')]
    typed = ", ".join(f'"{c}", typeof("{c}")' for c in columns)
    rows: list[tuple[object, ...]] = query(path, f'SELECT {typed} FROM "{table}" ORDER BY {order}')
    return rows


@pytest.fixture
def exported(sample_db: Path, tmp_path: Path) -> Path:
    return export(sample_db, tmp_path / "fixtures")


@pytest.fixture
def empty_copy(sample_db: Path, tmp_path: Path) -> Path:
    return copy_schema(sample_db, tmp_path / "target.sqlite")


def test_round_trip_is_exact_and_byte_identical(
    sample_db: Path, exported: Path, empty_copy: Path, tmp_path: Path
) -> None:
    report = import_directory(exported, url_of(empty_copy), disable_triggers=True)
    manifest = read_manifest(exported)
    assert {t.table: t.inserted for t in report.tables} == {t.name: t.rows for t in manifest.tables}
    assert report.inserted == sum(t.rows for t in manifest.tables) > 0
    assert not report.differing
    assert report.triggers_disabled == ["artist_audit", "employee_shout"]
    assert verify_directory(exported, url_of(empty_copy)).ok
    again = export(empty_copy, tmp_path / "again")
    assert files_of(again) == files_of(exported)
    for table in ("anything", "artist", "audit", "employee", "priced", "team"):
        assert all_rows(empty_copy, table) == all_rows(sample_db, table)
    by_key = "country, code"
    assert all_rows(empty_copy, "region", by_key) == all_rows(sample_db, "region", by_key)
    # The triggers came back, as they were.
    triggers = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
    assert query(empty_copy, triggers) == query(sample_db, triggers)
    assert query(empty_copy, "SELECT * FROM sqlite_sequence ORDER BY name") == [
        ("artist", 8),
        ("audit", 3),
    ]
    assert ("sqlite_sequence.artist", 8) in [(s.display, v) for s, v in report.sequences]


def test_manifest_lists_parents_first_with_declared_types(exported: Path) -> None:
    manifest = read_manifest(exported)
    order = [t.name.name for t in manifest.tables]
    assert order.index("region") < order.index("office")
    entry = manifest.table(main("anything"))
    assert entry.types == ("INTEGER", "REAL", "TEXT", "BLOB", "NUMERIC", "")
    assert manifest.table(main("priced")).columns == ("id", "net")
    assert (exported / "anything.tsv").read_bytes().splitlines()[3] == (
        b"\\\\x\t0.0\t\\\\x5c78\t1e+300\t12\t\\\\text:12"
    )


def test_a_second_load_inserts_nothing_and_counts_what_is_there(
    exported: Path, empty_copy: Path
) -> None:
    import_directory(exported, url_of(empty_copy), disable_triggers=True)
    tables = ("anything", "artist", "audit", "employee", "office", "player", "priced", "team")
    before = [all_rows(empty_copy, t) for t in tables]
    report = import_directory(exported, url_of(empty_copy), disable_triggers=True)
    assert report.inserted == 0
    assert sum(t.already_there for t in report.tables) == sum(
        t.rows for t in read_manifest(exported).tables
    )
    assert not report.differing
    assert query(empty_copy, "SELECT count(*) FROM anything") == [(6,)]
    assert [all_rows(empty_copy, t) for t in tables] == before


def test_rows_that_differ_from_the_target_are_reported(exported: Path, empty_copy: Path) -> None:
    import_directory(exported, url_of(empty_copy), disable_triggers=True)
    conn = sqlite3.connect(empty_copy)
    conn.execute("UPDATE artist SET born = '2000-01-01' WHERE id = 7")
    conn.execute("DELETE FROM region WHERE code = 'be'")
    conn.execute("DELETE FROM office WHERE id = 2")
    conn.commit()
    conn.close()
    verified = verify_directory(exported, url_of(empty_copy))
    checks = {t.table.name: (t.missing, t.differing) for t in verified.tables}
    assert checks["artist"] == (0, 1) and checks["region"] == (1, 0)
    assert not verified.ok
    report = import_directory(exported, url_of(empty_copy), disable_triggers=True)
    assert [(d.table.name, d.line, d.key, d.columns) for d in report.differing] == [
        ("artist", 3, (7,), ("born",))
    ]
    assert {t.table.name: t.inserted for t in report.tables if t.inserted} == {
        "region": 1,
        "office": 1,
    }
    assert query(empty_copy, "SELECT born FROM artist WHERE id = 7") == [("2000-01-01",)]


def test_triggers_left_on_change_what_is_loaded(exported: Path, empty_copy: Path) -> None:
    report = import_directory(exported, url_of(empty_copy))
    assert report.triggers_disabled == []
    # artist_audit wrote the audit rows before audit's own file came: same ids, same text.
    assert {t.table.name: t.already_there for t in report.tables}["audit"] == 3
    verified = verify_directory(exported, url_of(empty_copy))
    # employee_shout upper-cased names that the file holds upper-case already: no change;
    # a lower-case name would differ. Rename one and load again to see it.
    assert verified.ok
    conn = sqlite3.connect(empty_copy)
    conn.execute("DELETE FROM employee WHERE id = 3")
    conn.commit()
    conn.close()
    lowered = (exported / "employee.tsv").read_bytes().replace(b"\tCY\n", b"\tcy\n")
    (exported / "employee.tsv").write_bytes(lowered)
    import_directory(exported, url_of(empty_copy))
    differing = verify_directory(exported, url_of(empty_copy)).tables
    assert {t.table.name: t.differing for t in differing}["employee"] == 1


def test_a_damaged_value_is_named_by_file_line_and_column(exported: Path, empty_copy: Path) -> None:
    path = exported / "anything.tsv"
    path.write_bytes(path.read_bytes().replace(b"\\\\x00ff10", b"\\\\x00ff1", 1))
    before = empty_copy.read_bytes()
    with pytest.raises(FixtureError, match=r"anything.tsv: line 2, column b: .*lowercase hex"):
        import_directory(exported, url_of(empty_copy))
    assert empty_copy.read_bytes() == before


def test_a_refused_row_rolls_everything_back(exported: Path, empty_copy: Path) -> None:
    path = exported / "region.tsv"
    path.write_bytes(path.read_bytes().replace(b"\tBerlin\n", b"\t\\N\n"))
    with pytest.raises(LoadFailed, match=r"region.tsv: line 2: region refused the row"):
        import_directory(exported, url_of(empty_copy), disable_triggers=True)
    assert query(empty_copy, "SELECT count(*) FROM artist") == [(0,)]
    assert query(empty_copy, "SELECT count(*) FROM sqlite_master WHERE type = 'trigger'") == [(2,)]


def test_missing_parents_are_named_and_nothing_is_committed(
    exported: Path, empty_copy: Path
) -> None:
    with pytest.raises(
        LoadFailed,
        match=r"office row key \(id\) = \(1,\): \(country, code\) = \('fr', 'idf'\) "
        "finds no row in region",
    ):
        import_directory(exported, url_of(empty_copy), tables=["office", "player"])
    assert query(empty_copy, "SELECT count(*) FROM office") == [(0,)]


def test_a_cycle_of_not_null_keys_loads_in_any_order(
    make_db: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_db(
        "CREATE TABLE a (id INTEGER PRIMARY KEY, b_id INTEGER NOT NULL REFERENCES b (id));"
        "CREATE TABLE b (id INTEGER PRIMARY KEY, a_id INTEGER NOT NULL REFERENCES a (id));"
        "INSERT INTO a VALUES (1, 2), (2, 1); INSERT INTO b VALUES (1, 1), (2, 2);",
        "cycle.sqlite",
    )
    fixtures = export(source, tmp_path / "cycle")
    target = copy_schema(source, tmp_path / "cycle-target.sqlite")
    report = import_directory(fixtures, url_of(target))
    assert report.inserted == 4
    assert query(target, "PRAGMA foreign_key_check") == []
    assert files_of(export(target, tmp_path / "cycle-again")) == files_of(fixtures)


def test_schema_drift_is_refused_before_loading(
    exported: Path, make_db: Callable[..., Path]
) -> None:
    other = make_db("CREATE TABLE artist (id INTEGER PRIMARY KEY);", "other.sqlite")
    with pytest.raises(SchemaDrift):
        import_directory(exported, url_of(other))


def test_dump_of_chosen_keys_keeps_key_order(sample_db: Path) -> None:
    with session(url_of(sample_db), read_only=True) as db:
        catalog = read_catalog(db)
        region = dump_bytes(db, catalog, main("region"), keys={("fr", "idf")})
        players = dump_bytes(db, catalog, main("player"), keys={(102,), (100,), (999,)})
        # A table with no key is chosen by rowid.
        some = dump_bytes(db, catalog, main("anything"), keys={(4,), (2,)})
    assert region == b"fr\tidf\tIle-de-France\n"
    assert players == b"100\t10\n102\t10\n"
    assert some.decode().splitlines() == [
        "n/a\t2.0\t3\ttext in a blob column\t007x\t42",
        "\\N\t\\N\t\\N\t\\N\t\\N\t0.1",
    ]


def test_dump_reads_a_large_table_in_order(make_db: Callable[..., Path]) -> None:
    path = make_db(
        "CREATE TABLE n (k TEXT PRIMARY KEY, v) WITHOUT ROWID;"
        "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 5000) "
        "INSERT INTO n SELECT printf('%05d', 5001 - i), i FROM c;",
        "large.sqlite",
    )
    with session(url_of(path), read_only=True) as db:
        body = dump_bytes(db, read_catalog(db), main("n"))
    lines = body.decode().splitlines()
    assert len(lines) == 5000
    assert lines[0] == "00001\t5000" and lines[-1] == "05000\t1"
    assert lines == sorted(lines)


def test_the_manifest_is_written_last(exported: Path) -> None:
    assert (exported / MANIFEST).is_file()


def test_text_that_is_not_utf8_is_refused_with_a_hint(
    make_db: Callable[..., Path], tmp_path: Path
) -> None:
    path = make_db(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT);"
        "INSERT INTO t VALUES (1, 'fine'), (2, CAST(X'ff41' AS TEXT));"
    )
    with pytest.raises(FixtureError, match=r"table t: .*not UTF-8") as caught:
        export(path, tmp_path / "out")
    assert "CAST(column AS BLOB)" in caught.value.hint


def test_a_foreign_key_to_a_missing_table_is_left_out(make_db: Callable[..., Path]) -> None:
    path = make_db(
        "CREATE TABLE t (id INTEGER PRIMARY KEY, other_id INTEGER REFERENCES nowhere (id));"
    )
    with session(url_of(path), read_only=True) as db:
        schema = read_catalog(db).schema
    assert schema.foreign_keys == ()
    assert schema.data_tables == (main("t"),)


def test_paths_with_spaces_and_uri_characters_open(make_db: Callable[..., Path]) -> None:
    path = make_db("CREATE TABLE t (a); INSERT INTO t VALUES (1);", "a b#c%20.sqlite")
    with session(url_of(path), read_only=True) as db:
        assert db.fetch("SELECT a FROM t") == [(1,)]
    # A URL ends its path at '?', as SQLAlchemy's does; a path may still hold one.
    odd = make_db("CREATE TABLE t (a); INSERT INTO t VALUES (2);", "what?.sqlite")
    conn = connect_path(odd, read_only=True)
    try:
        assert conn.execute("SELECT a FROM t").fetchall() == [(2,)]
    finally:
        conn.close()


def test_a_locked_target_fails_before_any_work(exported: Path, empty_copy: Path) -> None:
    other = sqlite3.connect(empty_copy, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        with session(url_of(empty_copy), timeout=0.05) as db:
            catalog = read_catalog(db)
            manifest = read_manifest(exported)
            files = read_fixture_files(exported, manifest.tables)
            traced: list[str] = []
            db.tracer = traced.append
            with pytest.raises(LoadFailed, match="locked") as caught:
                load_files(db, catalog, manifest, files)
            assert "another connection" in caught.value.hint
            assert traced == ["BEGIN IMMEDIATE"]
    finally:
        other.execute("ROLLBACK")
        other.close()


def test_violations_in_keyless_and_without_rowid_tables_are_named(
    make_db: Callable[..., Path], tmp_path: Path
) -> None:
    source = make_db(
        "CREATE TABLE p (id INTEGER PRIMARY KEY);"
        "CREATE TABLE loose (p_id INTEGER REFERENCES p);"
        "CREATE TABLE w (k TEXT PRIMARY KEY, p_id INTEGER REFERENCES p (id)) WITHOUT ROWID;"
        "INSERT INTO p VALUES (1), (2);"
        "INSERT INTO loose VALUES (2), (NULL);"
        "INSERT INTO w VALUES ('a', 1), ('b', 2), ('c', NULL);",
        "violations.sqlite",
    )
    fixtures = export(source, tmp_path / "violations")
    target = copy_schema(source, tmp_path / "violations-target.sqlite")
    with pytest.raises(LoadFailed) as caught:
        import_directory(fixtures, url_of(target), tables=["loose", "w"])
    assert caught.value.message.startswith("3 rows reference rows")
    assert "loose row rowid 1: (p_id) = (2,) finds no row in p" in caught.value.message
    assert "w row key (k) = ('a',): (p_id) = (1,) finds no row in p" in caught.value.message
    assert "w row key (k) = ('b',): (p_id) = (2,)" in caught.value.message
    assert query(target, "SELECT count(*) FROM w") == [(0,)]
