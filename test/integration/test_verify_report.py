"""A failed verify names what differs: table, key, column, both values; missing rows; extra rows
as a note; orphans by relation; and counts the rest."""

from __future__ import annotations

from pathlib import Path

from db_helpers import run_sql

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import SAMPLE, verify_seed


def test_an_edited_value_is_named_with_both_values(target: str, seed: Path) -> None:
    import_seed(seed, target)
    run_sql(target, "UPDATE authors SET name = 'someone else' WHERE id = 3")
    report = verify_seed(seed, target)
    text = report.as_table()
    assert (
        "differs: authors id=3: name: fixture 'author 3\\twith tab', database 'someone else'"
        in text
    )
    assert "verify FAILED: 1 problem:" in text
    assert not report.ok


def test_missing_extra_and_orphans_are_each_reported(target: str, seed: Path) -> None:
    import_seed(seed, target)
    run_sql(
        target,
        "DELETE FROM tickets_a WHERE id <= 10;"
        "INSERT INTO authors (id, name) VALUES (9001, 'not in the fixture');"
        "DELETE FROM books WHERE id = 1 AND NOT EXISTS (SELECT FROM tickets_a WHERE book_id = 1)",
    )
    run_sql(target, "UPDATE tickets_a SET book_id = NULL WHERE id = 11")
    text = verify_seed(seed, target).as_table()
    lines = text.splitlines()
    missing = [line for line in lines if line.startswith("missing: tickets_a ")]
    # The first SAMPLE rows by key, then a count of the rest.
    assert missing == [f"missing: tickets_a id={i}" for i in range(1, SAMPLE + 1)]
    assert "  ... and 5 more rows of tickets_a missing or differing" in lines
    assert "differs: tickets_a id=11: book_id: fixture '11', database NULL" in lines
    assert "missing: books id=1" in lines
    assert "note: authors holds 1 row that the fixture does not" in text
    assert any(line.startswith("orphans: likes: 1 row whose reference") for line in lines)
    assert "verify FAILED: 3 problems" in text


def test_relations_are_counted_as_the_manifest_lists_them(target: str, seed: Path) -> None:
    import_seed(seed, target)
    report = verify_seed(seed, target)
    distinct = len({r.relation for r in report.relations})
    assert report.ok
    assert f"{distinct} relations" in report.result_line()
