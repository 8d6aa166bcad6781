"""Damaged fixtures, each against a target that already holds rows and has moved sequences:
one error naming file, line, column and value, exit 2, and the target exactly as it was (the
row count of every table and the position of every sequence)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import invoke_assert_code
from db_helpers import run_sql
from import_fixtures import SCHEMA, seed_rows, write_fixture

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.errors import FixtureError, LoadFailed, SeedError

# Beside the shared schema: a deferred foreign key (checked only at COMMIT unless asked
# earlier), a sequence with a ceiling, typed columns for bad values.
EXTRA = """
CREATE TABLE kinds (id int PRIMARY KEY, code varchar(4) NOT NULL UNIQUE, born date, doc jsonb);
CREATE TABLE tagged (id serial PRIMARY KEY,
                     kind_id int REFERENCES kinds DEFERRABLE INITIALLY DEFERRED);
CREATE SEQUENCE small_seq MAXVALUE 50;
CREATE TABLE small (id int PRIMARY KEY DEFAULT nextval('small_seq'));
"""


def _rows() -> dict[str, tuple[tuple[str, ...], list[Any]]]:
    spec = seed_rows()
    spec["kinds"] = (
        ("id", "code", "born", "doc"),
        [(str(i), f"k{i}", "2024-02-29", '{"n": 1}') for i in range(1, 11)],
    )
    spec["tagged"] = (("id", "kind_id"), [(str(i), str(1 + i % 10)) for i in range(1, 21)])
    spec["small"] = (("id",), [(str(i),) for i in range(1, 6)])
    return spec


def state(url: str) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """Rows of every table and the position of every sequence: what an import may change."""
    tables = run_sql(
        url,
        "SELECT string_agg(format('SELECT %L, count(*) FROM %I.%I', n.nspname || '.' || c.relname,"
        " n.nspname, c.relname), ' UNION ALL ' ORDER BY c.relname) FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = 'public'",
    )[0][0]
    sequences = run_sql(
        url,
        "SELECT string_agg(format('SELECT %L, last_value, is_called FROM %I.%I', "
        "schemaname || '.' || sequencename, schemaname, sequencename), ' UNION ALL ' "
        "ORDER BY sequencename) FROM pg_sequences",
    )[0][0]
    return sorted(run_sql(url, tables)), sorted(run_sql(url, sequences))


@pytest.fixture
def intact(empty_db_url: str, tmp_path: Path) -> tuple[str, Path]:
    """A target holding part of the seed, sequences moved by hand; an intact fixture."""
    run_sql(empty_db_url, SCHEMA + EXTRA)
    seed = write_fixture(tmp_path / "seed", _rows())
    import_seed(seed, empty_db_url, tables=["authors", "categories"])
    run_sql(empty_db_url, "SELECT setval('ticket_seq', 7); SELECT setval('small_seq', 3)")
    return empty_db_url, seed


def _replace(name: str, old: bytes, new: bytes) -> Callable[[Path], None]:
    def damage(seed: Path) -> None:
        path = seed / name
        data = path.read_bytes()
        assert old in data, f"{old!r} not in {name}"
        path.write_bytes(data.replace(old, new, 1))

    return damage


def _write(name: str, data: bytes) -> Callable[[Path], None]:
    def damage(seed: Path) -> None:
        (seed / name).write_bytes(data)

    return damage


def _header_only(seed: Path) -> None:
    data = (seed / "kinds.tsv").read_bytes()
    (seed / "kinds.tsv").write_bytes(data[: data.index(b"\n") + 1])


def _crlf(seed: Path) -> None:
    path = seed / "kinds.tsv"
    path.write_bytes(path.read_bytes().replace(b"\n", b"\r\n"))


def _manifest(change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def damage(seed: Path) -> None:
        path = seed / "manifest.json"
        path.write_bytes(change(path.read_bytes()))

    return damage


# (damage, error class, fragments of the message)
CASES: dict[str, tuple[Callable[[Path], None], type[SeedError], tuple[str, ...]]] = {
    "a key twice in one file": (
        _replace("kinds.tsv", b"2\tk2\t", b"1\tk2\t"),
        FixtureError,
        ("kinds.tsv: lines 2 and 3", "key (id) = (1)"),
    ),
    "a unique key twice in one file": (
        _replace("kinds.tsv", b"2\tk2\t", b"2\tk1\t"),
        FixtureError,
        ("kinds.tsv: lines 2 and 3", "key (code) = (k1)"),
    ),
    "NULL in a NOT NULL column": (
        _replace("kinds.tsv", b"3\tk3\t", b"3\t\\N\t"),
        FixtureError,
        ("kinds.tsv: line 4, column code", "NOT NULL"),
    ),
    "a value too long for varchar(4)": (
        _replace("kinds.tsv", b"\tk4\t", b"\tk4567\t"),
        FixtureError,
        ("kinds.tsv: line 5, column code", "character varying(4)", "'k4567'"),
    ),
    "an invalid date": (
        _replace("kinds.tsv", b"5\tk5\t2024-02-29", b"5\tk5\t2023-02-29"),
        FixtureError,
        ("kinds.tsv: line 6, column born", "'2023-02-29'"),
    ),
    "invalid json": (
        _replace("kinds.tsv", b'6\tk6\t2024-02-29\t{"n": 1}', b'6\tk6\t2024-02-29\t{"n": }'),
        FixtureError,
        ("kinds.tsv: line 7, column doc", "json", "'{\"n\": }'"),
    ),
    "an invalid int": (
        _replace("kinds.tsv", b"7\tk7\t", b"7x\tk7\t"),
        FixtureError,
        ("kinds.tsv: line 8, column id", "integer", "'7x'"),
    ),
    "a missing field": (
        _replace("kinds.tsv", b'8\tk8\t2024-02-29\t{"n": 1}', b"8\tk8\t2024-02-29"),
        FixtureError,
        ("kinds.tsv: line 9", 'missing data for column "doc"'),
    ),
    "a CRLF file": (_crlf, FixtureError, ("kinds.tsv: line 1", "carriage return")),
    "a CRLF row": (
        _replace("kinds.tsv", b'{"n": 1}\n3', b'{"n": 1}\r\n3'),
        FixtureError,
        ("kinds.tsv: line 3", "carriage return"),
    ),
    "a header that is not UTF-8": (
        _replace("kinds.tsv", b"id\tcode", b"id\tc\xf6de"),
        FixtureError,
        ("kinds.tsv: line 1",),
    ),
    "an empty file": (_write("kinds.tsv", b""), FixtureError, ("kinds.tsv", "header")),
    "a header-only file": (_header_only, FixtureError, ("kinds.tsv", "0 rows", "says 10")),
    "a TSV not in the manifest": (
        _write("stray.tsv", b"id\n1\n"),
        FixtureError,
        ("stray.tsv", "not listed in manifest.json"),
    ),
    "a manifest table without its TSV": (
        lambda seed: (seed / "kinds.tsv").unlink(),
        FixtureError,
        ("kinds.tsv", "missing"),
    ),
    "a manifest that is not UTF-8": (
        _manifest(lambda b: b.replace(b'"sha256:test"', b'"sha256:t\xe9st"')),
        FixtureError,
        ("manifest.json", "not UTF-8"),
    ),
    "a truncated manifest": (
        _manifest(lambda b: b[: len(b) // 2]),
        FixtureError,
        ("manifest.json is damaged",),
    ),
    "a manifest that is not JSON": (
        _manifest(lambda b: b"tables: all"),
        FixtureError,
        ("manifest.json is damaged",),
    ),
    "a manifest whose row count disagrees": (
        _manifest(lambda b: b.replace(b'"rows": 10,', b'"rows": 11,')),
        FixtureError,
        ("kinds.tsv", "10 rows", "says 11"),
    ),
    "a deferred reference to nothing": (
        _replace("tagged.tsv", b"4\t5\n", b"4\t99\n"),
        LoadFailed,
        ("tagged", "tagged_kind_id_fkey", "Key (kind_id)=(99)"),
    ),
    "a value past a sequence's MAXVALUE": (
        _replace("small.tsv", b"5\n", b"80\n"),
        LoadFailed,
        ("small_seq", "small.id", "80", "1..50"),
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_damage_is_one_clear_error_and_nothing_moves(case: str, intact: tuple[str, Path]) -> None:
    target, seed = intact
    damage, error, fragments = CASES[case]
    damage(seed)
    before = state(target)
    with pytest.raises(error) as caught:
        # --truncate-first would empty authors and categories if anything were committed.
        import_seed(seed, target, truncate_first=True, cascade=True)
    for fragment in fragments:
        assert fragment in caught.value.message, caught.value.message
    assert caught.value.hint
    assert state(target) == before


def test_a_row_colliding_with_a_different_row_is_an_error_not_already_there(
    intact: tuple[str, Path],
) -> None:
    target, seed = intact
    # Another row holds code k3: the fixture's kind 3 cannot go in, and is not "there".
    run_sql(target, "INSERT INTO kinds VALUES (300, 'k3')")
    before = state(target)
    with pytest.raises(LoadFailed) as caught:
        import_seed(seed, target)
    assert "kinds" in caught.value.message and "kinds_code_key" in caught.value.message
    assert "Key (code)=(k3) already exists" in caught.value.message
    assert "--truncate-first" in caught.value.hint
    assert state(target) == before


def test_the_command_line_says_it_in_one_error_line(
    intact: tuple[str, Path], tmp_path: Path
) -> None:
    target, seed = intact
    for case in ("a key twice in one file", "a deferred reference to nothing", "a CRLF file"):
        broken = tmp_path / case.replace(" ", "_")
        shutil.copytree(seed, broken)
        CASES[case][0](broken)
        before = state(target)
        result = invoke_assert_code(
            2,
            "import_seed_to_test",
            *("--database-url", target, "--input-dir", str(broken), "--verbosity", "quiet"),
        )
        lines = result.stderr.strip().splitlines()
        assert [line.split(":")[0] for line in lines] == ["Error", "Hint"], result.stderr
        assert state(target) == before


def test_a_column_whose_type_changed_in_the_target_says_schema_drift(
    intact: tuple[str, Path],
) -> None:
    target, seed = intact
    run_sql(target, "ALTER TABLE books ALTER COLUMN ref TYPE int USING NULL")
    before = state(target)
    with pytest.raises(FixtureError) as caught:
        import_seed(seed, target)
    assert "books.tsv: line 2, column ref (integer in the target)" in caught.value.message
    assert "schema drift" in caught.value.hint
    assert state(target) == before
