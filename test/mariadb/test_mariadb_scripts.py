"""The two scripts on MariaDB: Chinook (MariaDB edition) exported at limits 7 and 100, loaded
into an empty copy of its schema, verified, loaded again, exported again."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import invoke_assert_code
from engine_scripts import check_engine_round_trip, export
from mariadb_helpers import run
from samples import datasets_dir, expected_rows

from genonaut.seed.engines import engine_for
from genonaut.seed.engines.mariadb.clone import clone_database
from genonaut.seed.engines.mariadb.connection import parse_url, session, with_database


@pytest.fixture
def chinook(make_mariadb: Callable[..., str]) -> str:
    script = datasets_dir() / "load_other.sh"
    if not script.is_file():
        pytest.fail(f"no {script}: set DATASETS_DIR to the sample databases")
    url = make_mariadb("chinook")
    subprocess.run([str(script), "chinook_mariadb", url], check=True, capture_output=True)
    return url


def empty_copy(source: str, make_mariadb: Callable[..., str]) -> str:
    target = parse_url(make_mariadb("chinook_copy")).database
    run(with_database(source, ""), f"DROP DATABASE `{target}`")
    with session(source) as db:
        clone_database(db, parse_url(source).database, target, with_rows=False)
    return with_database(source, target)


@pytest.mark.parametrize("limit", [7, 100])
def test_chinook_through_the_scripts(
    limit: int, chinook: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    manifest = check_engine_round_trip(
        chinook,
        empty_copy(chinook, make_mariadb),
        tmp_path,
        limit=limit,
        engine="mariadb",
        source_rows=expected_rows("chinook_mariadb"),
        foreign_keys=11,
    )
    # File names and manifests do not depend on the database's name.
    assert manifest.tables[0].file == f"{manifest.tables[0].name.name}.tsv"


def test_flags_mariadb_cannot_honour_are_refused(chinook: str, tmp_path: Path) -> None:
    seed = export(chinook, tmp_path / "seed", 7)
    for flag in ("--truncate-first", "--disable-triggers"):
        done = invoke_assert_code(
            2,
            "import_seed_to_test",
            "--database-url",
            chinook,
            "--input-dir",
            str(seed.directory),
            flag,
        )
        assert f"Error: {flag} is not supported for MariaDB" in done.stderr


def test_fixtures_of_another_engine_are_refused(chinook: str, tmp_path: Path) -> None:
    seed = export(chinook, tmp_path / "seed", 7)
    done = invoke_assert_code(
        2,
        "import_seed_to_test",
        "--database-url",
        f"sqlite:///{tmp_path / 'target.sqlite'}",
        "--input-dir",
        str(seed.directory),
    )
    assert "were exported from mariadb; this database is sqlite" in done.stderr


def test_the_adapter_copies_and_drops_a_database(
    make_mariadb: Callable[..., str], mariadb_server: str
) -> None:
    source = make_mariadb("adapter")
    run(source, "CREATE TABLE t (id INT PRIMARY KEY, name TEXT)", "INSERT INTO t VALUES (1, 'a')")
    engine = engine_for(source)
    target = parse_url(make_mariadb("adapter_copy")).database
    run(mariadb_server, f"DROP DATABASE `{target}`")
    copy = engine.copy_database(source, target)
    assert run(copy, "SELECT id, name FROM t") == [(1, "a")]
    engine.drop_database(copy)
    assert not run(mariadb_server, f"SHOW DATABASES LIKE '{target}'")


def test_a_trigger_that_rewrites_values_is_named_and_verify_fails(
    make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    source = make_mariadb("trigger_source")
    run(
        source,
        "CREATE TABLE ev (id INT PRIMARY KEY, at DATETIME)",
        "INSERT INTO ev VALUES (1, '2020-01-01 00:00:00'), (2, '2021-01-01 00:00:00')",
    )
    target = make_mariadb("trigger_target")
    run(
        target,
        "CREATE TABLE ev (id INT PRIMARY KEY, at DATETIME)",
        "CREATE TRIGGER ev_stamp BEFORE INSERT ON ev FOR EACH ROW "
        "SET NEW.at = '1999-09-09 09:09:09'",
    )
    seed = export(source, tmp_path / "seed", 7)
    done = invoke_assert_code(
        1,
        "import_seed_to_test",
        *("--database-url", target, "--input-dir", str(seed.directory), "--verify"),
    )
    assert "note: trigger ev: 2 rows no longer hold the fixture's at" in done.stdout
    assert "the tables do not hold exactly the fixtures" in done.stdout
    assert "rows: ev: 0 missing, 2 differing from the fixture" in done.stdout
    assert "verify FAILED" in done.stdout
