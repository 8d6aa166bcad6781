"""The public Chinook sample (MariaDB edition): read its schema, dump every table, load it into
an empty copy of the schema, verify, dump the copy: the same bytes.

Needs `load_other.sh` and chinook_mariadb in DATASETS_DIR (`make test-mariadb
DATASETS_DIR=/work/shared/datasets`), and the mysql client it runs.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from mariadb_helpers import export_all, files_of, fixture_files, load_all, run
from samples import datasets_dir, expected_rows

from genonaut.seed.engines.mariadb.catalog import read_schema
from genonaut.seed.engines.mariadb.clone import clone_database
from genonaut.seed.engines.mariadb.connection import parse_url, session, with_database
from genonaut.seed.engines.mariadb.verify import check_rows, orphans, relations_of


@pytest.fixture
def chinook(make_mariadb: Callable[..., str]) -> str:
    script = datasets_dir() / "load_other.sh"
    if not script.is_file():
        pytest.fail(f"no {script}: set DATASETS_DIR to the sample databases")
    url = make_mariadb("chinook")
    subprocess.run([str(script), "chinook_mariadb", url], check=True, capture_output=True)
    return url


@pytest.mark.parametrize("load_data", [True, False], ids=["load-data", "inserts"])
def test_chinook_round_trips_byte_for_byte(
    load_data: bool, chinook: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    started = time.perf_counter()
    manifest = export_all(chinook, tmp_path / "a")
    exported = time.perf_counter() - started
    expected = expected_rows("chinook_mariadb")
    assert {t.name.name: t.rows for t in manifest.tables} == expected
    assert len(manifest.relations) == 11
    with session(chinook) as db:
        schema = read_schema(db)
    assert len(schema.foreign_keys) == 11
    assert [fk.name for fk in schema.foreign_keys if fk.is_self_referencing] == [
        "FK_EmployeeReportsTo"
    ]

    target = parse_url(make_mariadb("chinook_copy")).database
    run(with_database(chinook, ""), f"DROP DATABASE `{target}`")
    with session(chinook) as db:
        clone_database(db, parse_url(chinook).database, target, with_rows=False)
    copy = with_database(chinook, target)
    started = time.perf_counter()
    report = load_all(copy, tmp_path / "a", load_data=load_data)
    loaded = time.perf_counter() - started
    assert report.inserted == sum(expected.values())
    assert report.faithful

    with session(copy) as db:
        copy_schema = read_schema(db)
        checks = check_rows(db, copy_schema, fixture_files(tmp_path / "a"))
        found = orphans(db, copy_schema, relations_of(copy_schema, copy_schema.data_tables))
    assert all(c.ok for c in checks) and len(checks) == len(expected)
    assert all(r.orphans == 0 for r in found) and len(found) == 11

    export_all(copy, tmp_path / "b")
    first, second = files_of(tmp_path / "a"), files_of(tmp_path / "b")
    assert {n: b for n, b in first.items() if n.endswith(".tsv")} == {
        n: b for n, b in second.items() if n.endswith(".tsv")
    }
    how = "LOAD DATA" if load_data else "INSERTs"
    print(f"chinook_mariadb: export {exported:.2f}s, load ({how}) {loaded:.2f}s")
