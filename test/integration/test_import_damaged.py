"""Damaged fixtures and drifted targets: a clear error naming the place, and nothing changed."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from db_helpers import run_sql
from import_fixtures import SCHEMA, counts, seed_rows, write_fixture

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.errors import FixtureError, LoadFailed, SchemaDrift, SeedError

TABLES = list(seed_rows())


def _edit_line(path: Path, number: int, change: Callable[[bytes], bytes]) -> None:
    lines = path.read_bytes().split(b"\n")
    lines[number - 1] = change(lines[number - 1])
    path.write_bytes(b"\n".join(lines))


def drop_title_column(seed: Path) -> None:
    spec = seed_rows()
    columns, rows = spec["books"]
    keep = [i for i, c in enumerate(columns) if c != "title"]
    spec["books"] = (
        tuple(columns[i] for i in keep),
        [tuple(r[i] for i in keep) for r in rows],
    )
    write_fixture(seed, spec)


def extra_field(seed: Path) -> None:
    _edit_line(seed / "books.tsv", 3, lambda line: line + b"\textra")


def bad_escape(seed: Path) -> None:
    # \xff decodes to a byte that is not UTF-8.
    _edit_line(seed / "authors.tsv", 5, lambda line: line.replace(b"author", b"auth\\xffor"))


def invalid_uuid(seed: Path) -> None:
    _edit_line(
        seed / "books.tsv",
        4,
        lambda line: line.replace(b"00000000-0000-0000-0000-000000000003", b"not-a-uuid"),
    )


def invalid_utf8(seed: Path) -> None:
    _edit_line(seed / "categories.tsv", 10, lambda line: line + b"\xc3\x28")


def missing_parent(seed: Path) -> None:
    _edit_line(seed / "books.tsv", 6, lambda line: line.replace(b"\t6\t", b"\t9999\t", 1))


def cut_short(seed: Path) -> None:
    data = (seed / "books.tsv").read_bytes()
    (seed / "books.tsv").write_bytes(data[:-7])


def row_missing(seed: Path) -> None:
    data = (seed / "tickets_b.tsv").read_bytes()
    (seed / "tickets_b.tsv").write_bytes(data[: data.rindex(b"\n", 0, -1) + 1])


# (damage, error class, fragments the message must contain)
CASES: dict[str, tuple[Callable[[Path], None], type[SeedError], tuple[str, ...]]] = {
    "a column missing": (drop_title_column, SchemaDrift, ("books.title", "NOT NULL")),
    "an extra field": (extra_field, FixtureError, ("books.tsv: line 3", "extra data")),
    "a bad escape": (
        bad_escape,
        FixtureError,
        ("authors.tsv: line 5, column name", "0xff", "xffor"),
    ),
    "an invalid uuid": (
        invalid_uuid,
        FixtureError,
        ("books.tsv: line 4, column ref", "'not-a-uuid'", "uuid"),
    ),
    "invalid utf-8": (invalid_utf8, FixtureError, ("categories.tsv: line 10, column name", "UTF8")),
    "a missing parent": (
        missing_parent,
        LoadFailed,
        ("books", "books_author_id_fkey", "Key (author_id)=(9999)"),
    ),
    "a file cut short": (cut_short, FixtureError, ("books.tsv", "cut short", "line 501")),
    "a row missing": (row_missing, FixtureError, ("tickets_b.tsv", "10 rows", "says 11")),
}


@pytest.fixture
def loaded(empty_db_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A target already holding part of the seed, and an intact fixture directory."""
    run_sql(empty_db_url, SCHEMA)
    seed = write_fixture(tmp_path / "seed", seed_rows())
    import_seed(seed, empty_db_url, tables=["authors", "categories"])
    return empty_db_url, seed


@pytest.mark.parametrize("case", list(CASES))
def test_damage_is_named_and_the_target_is_unchanged(case: str, loaded: tuple[str, Path]) -> None:
    target, seed = loaded
    damage, error, fragments = CASES[case]
    damage(seed)
    before = counts(target, TABLES)
    # --truncate-first would empty authors and categories if anything were committed.
    with pytest.raises(error) as caught:
        import_seed(seed, target, truncate_first=True)
    for fragment in fragments:
        assert fragment in caught.value.message
    assert caught.value.hint
    assert counts(target, TABLES) == before


def test_a_column_dropped_in_the_target_is_schema_drift(loaded: tuple[str, Path]) -> None:
    target, seed = loaded
    run_sql(target, "ALTER TABLE books DROP COLUMN pages CASCADE")
    with pytest.raises(SchemaDrift) as caught:
        import_seed(seed, target)
    assert "books.pages" in caught.value.message
    assert "re-export" in caught.value.hint
    assert counts(target, ["books", "authors"]) == {"books": 0, "authors": 200}


def test_a_table_missing_in_the_target_is_schema_drift(loaded: tuple[str, Path]) -> None:
    target, seed = loaded
    run_sql(target, "DROP TABLE likes")
    with pytest.raises(SchemaDrift, match="likes"):
        import_seed(seed, target)


def test_a_header_that_disagrees_with_the_manifest(loaded: tuple[str, Path]) -> None:
    target, seed = loaded
    _edit_line(seed / "tickets_a.tsv", 1, lambda line: b"book_id\tid")
    with pytest.raises(FixtureError, match=r"tickets_a.tsv: line 1"):
        import_seed(seed, target)
