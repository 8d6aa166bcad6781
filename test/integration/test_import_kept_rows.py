"""A target holding other rows under the fixture's keys (an older seed): the import says which
rows it kept although they differ, and points at --truncate-first."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_helpers import run_sql
from import_fixtures import Spec, write_fixture

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.errors import LoadFailed


def test_rows_kept_that_differ_are_named_in_the_report(target: str, seed: Path) -> None:
    run_sql(target, "INSERT INTO authors (id, name) VALUES (7, 'an older author 7')")
    report = import_seed(seed, target)
    authors = next(t for t in report.tables if str(t.table) == "authors")
    assert (authors.already_there, authors.differing, authors.first_differing) == (1, 1, "id=7")
    text = report.as_table()
    assert "authors: 1 of the 1 row already there differ" in text
    assert "--truncate-first" in text
    # A second import finds its own rows equal: only author 7 still differs.
    again = {str(t.table): t.differing for t in import_seed(seed, target).tables}
    assert again.pop("authors") == 1 and not any(again.values())


def test_a_failure_after_kept_rows_blames_them_not_tables(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(
        empty_db_url,
        "CREATE TABLE shelves (id int PRIMARY KEY, code text NOT NULL UNIQUE);"
        "CREATE TABLE boxes (id int PRIMARY KEY, shelf_code text REFERENCES shelves (code));"
        "INSERT INTO shelves VALUES (1, 'old-a'), (2, 'old-b')",
    )
    spec: Spec = {
        "shelves": (("id", "code"), [("1", "new-a"), ("2", "new-b"), ("3", "new-c")]),
        "boxes": (("id", "shelf_code"), [("1", "new-a"), ("2", "new-c")]),
    }
    fixture = write_fixture(tmp_path / "seed", spec, relations=(), partitions={})
    with pytest.raises(LoadFailed) as caught:
        import_seed(fixture, empty_db_url)
    assert "shelves: 2 rows (first: id=1)" in caught.value.message
    assert "--truncate-first" in caught.value.hint
    assert "--tables" not in caught.value.hint
    assert run_sql(empty_db_url, "SELECT code FROM shelves ORDER BY id") == [("old-a",), ("old-b",)]
    import_seed(fixture, empty_db_url, truncate_first=True, cascade=True)
    assert run_sql(empty_db_url, "SELECT count(*) FROM boxes") == [(2,)]
