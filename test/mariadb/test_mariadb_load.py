"""Loading fixtures into MariaDB: parents first, cycles with the checks off and then checked,
rows already present skipped, damage named by file and line, all or nothing, AUTO_INCREMENT,
triggers reported."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from mariadb_helpers import export_all, files_of, fixture_files, load_all, run
from mariadb_schemas import RELATIONS, TRIGGERS

from genonaut.seed.engines.mariadb.catalog import read_schema
from genonaut.seed.engines.mariadb.clone import clone_database
from genonaut.seed.engines.mariadb.connection import parse_url, session, with_database
from genonaut.seed.engines.mariadb.load import load_fixtures
from genonaut.seed.errors import FixtureError, LoadFailed, SchemaDrift


def empty_copy(url: str, make_mariadb: Callable[..., str]) -> str:
    """A new database with the schema of `url` and no rows."""
    target = parse_url(make_mariadb()).database
    run(with_database(url, ""), f"DROP DATABASE `{target}`")
    with session(url) as db:
        clone_database(db, parse_url(url).database, target, with_rows=False)
    return with_database(url, target)


def counts(url: str) -> dict[str, int]:
    tables = [
        str(r[0])
        for r in run(
            url,
            "SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
            "AND TABLE_TYPE = 'BASE TABLE'",
        )
    ]
    return {t: int(str(run(url, f"SELECT COUNT(*) FROM `{t}`")[0][0])) for t in tables}


@pytest.fixture
def source(mariadb_url: str) -> str:
    run(mariadb_url, *RELATIONS)
    return mariadb_url


@pytest.mark.parametrize("load_data", [True, False], ids=["load-data", "inserts"])
def test_relations_load_into_an_empty_copy_and_dump_the_same(
    load_data: bool, source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path / "a")
    copy = empty_copy(source, make_mariadb)
    report = load_all(copy, tmp_path / "a", load_data=load_data)
    assert counts(copy) == counts(source)
    assert report.inserted == sum(counts(source).values())
    # The cycle (author <-> book) and the self-reference (employee) were loaded with the
    # checks off, and checked by the load itself.
    checked = {c.relation.name for c in report.cycle_checks}
    assert {"author_first_book", "book_author", "employee_boss", "employee_office"} <= checked
    assert all(c.orphans == 0 for c in report.cycle_checks)
    export_all(copy, tmp_path / "b")
    assert files_of(tmp_path / "a") == files_of(tmp_path / "b")
    assert run(copy, "SELECT @@SESSION.foreign_key_checks")[0][0] == 1


def test_a_second_load_inserts_nothing_and_counts_the_rows_present(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    copy = empty_copy(source, make_mariadb)
    load_all(copy, tmp_path)
    again = load_all(copy, tmp_path)
    assert again.inserted == 0
    assert {t.table.name: (t.present, t.differing) for t in again.tables} == {
        name: (rows, 0) for name, rows in counts(source).items()
    }
    assert counts(copy) == counts(source)


def test_a_present_row_with_other_values_is_reported(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    copy = empty_copy(source, make_mariadb)
    load_all(copy, tmp_path)
    # Only the case differs: the collation calls them equal, the load must not.
    run(copy, "UPDATE employee SET name = 'ANN' WHERE id = 1")
    again = load_all(copy, tmp_path)
    by_name = {t.table.name: t for t in again.tables}
    assert (by_name["employee"].present, by_name["employee"].differing) == (4, 1)
    assert by_name["office"].differing == 0


def test_a_cycle_row_whose_parent_is_missing_fails_the_load_before_commit(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    path = tmp_path / "book.tsv"
    path.write_text(path.read_text().replace("101\tPersuasion\t1", "101\tPersuasion\t9"))
    copy = empty_copy(source, make_mariadb)
    with pytest.raises(LoadFailed, match=r"1 rows of .*book.*book_author"):
        load_all(copy, tmp_path)
    assert set(counts(copy).values()) == {0}


def test_a_row_missing_its_parent_outside_a_cycle_fails_and_nothing_is_loaded(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    path = tmp_path / "note.tsv"
    path.write_text(path.read_text().replace("20\tZeta", "99\tZeta"))
    copy = empty_copy(source, make_mariadb)
    with pytest.raises(LoadFailed, match=r"note.*note_office"):
        load_all(copy, tmp_path)
    assert set(counts(copy).values()) == {0}


@pytest.mark.parametrize(
    ("table", "old", "new", "where"),
    [
        ("office.tsv", "20\tDE\tBE", "2x\tDE\tBE", r"office.tsv: line {}, column id \(int\(11\)"),
        ("region.tsv", "FR\t75\tParis", "FRA\t75\tParis", r"region.tsv: line {}, column country"),
        ("employee.tsv", "2\tBob\t20", "2\t\\N\t20", r"employee.tsv: line {}, column name"),
        ("book.tsv", "200\tJane Eyre\t2", "100\tJane Eyre\t2", r"book.tsv: line {}: Duplicate"),
        ("office.tsv", "7\tde\tby", "7x\tde\tby", r"office.tsv: line {}, column id"),
        (
            "author.tsv",
            "2\tBronte\t200",
            "2\tBronte",
            r"author.tsv: line {}\b.*(2 fields|data for all columns)",
        ),
    ],
)
@pytest.mark.parametrize("load_data", [True, False], ids=["load-data", "inserts"])
def test_a_damaged_value_is_named_by_file_line_and_column(
    load_data: bool,
    source: str,
    make_mariadb: Callable[..., str],
    tmp_path: Path,
    table: str,
    old: str,
    new: str,
    where: str,
) -> None:
    export_all(source, tmp_path)
    path = tmp_path / table
    lines = path.read_text().split("\n")
    (line,) = [i + 1 for i, text in enumerate(lines) if text.startswith(old)]
    path.write_text(path.read_text().replace(old, new))
    copy = empty_copy(source, make_mariadb)
    with pytest.raises(FixtureError, match=where.format(line)):
        load_all(copy, tmp_path, load_data=load_data)
    assert set(counts(copy).values()) == {0}


def test_a_table_missing_from_the_target_is_schema_drift(
    source: str, mariadb_url: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    other = make_mariadb()
    with pytest.raises(SchemaDrift, match="not in the target"):
        load_all(other, tmp_path)


def test_auto_increment_moves_past_the_loaded_ids(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    copy = empty_copy(source, make_mariadb)
    report = load_all(copy, tmp_path)
    largest = int(str(run(copy, "SELECT MAX(id) FROM office")[0][0]))
    assert dict((t.name, n) for t, n in report.auto_increment)["office"] == largest + 1
    run(copy, "INSERT INTO office (country, code) VALUES ('FR', '13')")
    assert run(copy, "SELECT MAX(id) FROM office")[0][0] == largest + 1


def test_auto_increment_set_lower_by_hand_is_moved_after_the_commit(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    copy = empty_copy(source, make_mariadb)
    load_all(copy, tmp_path)
    # A counter lowered below the data (InnoDB keeps it at MAX+1 itself) is set again.
    run(copy, "ALTER TABLE employee AUTO_INCREMENT = 1")
    with session(copy) as db:
        schema = read_schema(db)
        report = load_fixtures(db, schema, fixture_files(tmp_path))
    assert dict((t.name, n) for t, n in report.auto_increment)["employee"] == 7


def test_a_zero_id_stays_zero(
    mariadb_url: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    run(
        mariadb_url,
        "CREATE TABLE t (id INT NOT NULL AUTO_INCREMENT PRIMARY KEY, v INT)",
        "SET SESSION sql_mode = 'NO_AUTO_VALUE_ON_ZERO'",
        "INSERT INTO t VALUES (0, 1), (5, 2)",
    )
    export_all(mariadb_url, tmp_path)
    copy = empty_copy(mariadb_url, make_mariadb)
    load_all(copy, tmp_path)
    assert run(copy, "SELECT id FROM t ORDER BY id") == [(0,), (5,)]


def test_triggers_that_rewrite_or_add_rows_are_reported(
    mariadb_url: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    run(mariadb_url, *TRIGGERS)
    # Rows as they were before the triggers existed (written with the triggers dropped).
    run(
        mariadb_url,
        "DROP TRIGGER event_stamp",
        "DROP TRIGGER event_audit",
        "INSERT INTO event VALUES (1, 'launch', '2024-05-01 10:00:00', 'ok'), "
        "(2, 'party', '2024-05-02 20:00:00', NULL)",
    )
    export_all(mariadb_url, tmp_path)
    run(mariadb_url, *TRIGGERS[2:])
    copy = empty_copy(mariadb_url, make_mariadb)
    assert (
        run(
            copy,
            "SELECT COUNT(*) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = DATABASE()",
        )[0][0]
        == 2
    )
    report = load_all(copy, tmp_path)
    assert {t.name for t in report.triggers} == {"event_stamp", "event_audit"}
    assert [(r.table.name, r.column, r.rows) for r in report.rewritten] == [("event", "created", 2)]
    assert [(t.name, n) for t, n in report.added_by_triggers] == [("audit", 2)]
    assert not report.faithful
    assert any("created" in line for line in report.trigger_notes())


def test_a_load_without_triggers_is_faithful(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    copy = empty_copy(source, make_mariadb)
    report = load_all(copy, tmp_path)
    assert report.faithful and not report.triggers


def test_checks_go_off_only_around_a_cycle_and_counters_move_after_the_commit(
    source: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    export_all(source, tmp_path)
    copy = empty_copy(source, make_mariadb)
    seen: list[str] = []
    with session(copy, local_infile=True, tracer=seen.append) as db:
        load_fixtures(db, read_schema(db), fixture_files(tmp_path))
    off = [i for i, s in enumerate(seen) if s == "SET SESSION FOREIGN_KEY_CHECKS = 0"]
    on = [i for i, s in enumerate(seen) if s == "SET SESSION FOREIGN_KEY_CHECKS = 1"]
    inserts = [i for i, s in enumerate(seen) if s.startswith("INSERT INTO `")]
    commit = seen.index("COMMIT")
    # Two cycles (author <-> book, employee -> employee): each switched off and on again.
    assert len(off) == len(on) == 2
    assert all(a < b < commit for a, b in zip(off, on, strict=True))
    # The region and office inserts (no cycle) run with the checks on.
    plain = [i for i in inserts if "`region`" in seen[i].split(" SELECT")[0]]
    assert plain and not any(a < plain[0] < b for a, b in zip(off, on, strict=True))
    alters = [i for i, s in enumerate(seen) if s.startswith("ALTER TABLE")]
    assert all(i > commit for i in alters)
