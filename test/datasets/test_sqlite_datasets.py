"""The SQLite sample databases: read the schema, dump every table, load into an empty copy of
the schema, verify, load again, and dump the copy byte for byte the same."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from samples import datasets_dir, expected_rows

from genonaut.seed.core.fixture_format import read_manifest
from genonaut.seed.engines.sqlite.catalog import Catalog, read_catalog
from genonaut.seed.engines.sqlite.clone import copy_schema
from genonaut.seed.engines.sqlite.connection import session
from genonaut.seed.engines.sqlite.dump import dump_directory
from genonaut.seed.engines.sqlite.load import import_directory
from genonaut.seed.engines.sqlite.verify import verify_directory

SQLITE_DATASETS = ("chinook_sqlite", "sakila_sqlite")
# Declared foreign keys per dataset, as each README counts them.
FOREIGN_KEYS = {"chinook_sqlite": 11, "sakila_sqlite": 22}


def build(name: str, target: Path) -> Path:
    script = datasets_dir() / "load_other.sh"
    if not script.is_file():
        pytest.fail(f"no {script}: set DATASETS_DIR")
    subprocess.run([str(script), name, str(target)], check=True, capture_output=True)
    return target


def url(path: Path) -> str:
    return f"sqlite:///{path}"


def catalog_of(path: Path) -> Catalog:
    with session(url(path), read_only=True) as db:
        return read_catalog(db)


def dump(path: Path, directory: Path) -> Path:
    with session(url(path), read_only=True) as db:
        dump_directory(db, read_catalog(db), directory)
    return directory


@pytest.mark.parametrize("name", SQLITE_DATASETS)
def test_sqlite_dataset_round_trip(name: str, tmp_path: Path) -> None:
    source = build(name, tmp_path / f"{name}.sqlite")
    catalog = catalog_of(source)
    expected = expected_rows(name)
    assert sorted(t.name for t in catalog.schema.data_tables) == sorted(expected)
    assert len(catalog.schema.foreign_keys) == FOREIGN_KEYS[name]

    fixtures = dump(source, tmp_path / "fixtures")
    manifest = read_manifest(fixtures)
    assert {t.name.name: t.rows for t in manifest.tables} == expected

    target = copy_schema(source, tmp_path / "target.sqlite")
    report = import_directory(fixtures, url(target), disable_triggers=True)
    assert {t.table.name: t.inserted for t in report.tables} == expected
    assert not report.differing
    assert len(report.triggers_disabled) == sum(len(t) for t in catalog.triggers.values())
    # The triggers dropped for the load are back, the same; so is every other schema object.
    assert catalog_of(target) == catalog
    assert schema_sql(target) == schema_sql(source)

    verified = verify_directory(fixtures, url(target))
    assert verified.ok
    assert len(verified.relations) == FOREIGN_KEYS[name]
    assert not any(r.orphans for r in verified.relations)

    again = import_directory(fixtures, url(target), disable_triggers=True)
    assert again.inserted == 0
    assert sum(t.already_there for t in again.tables) == sum(expected.values())

    copy = dump(target, tmp_path / "again")
    assert files_of(copy) == files_of(fixtures)


def schema_sql(path: Path) -> list[tuple[str, str, str]]:
    with session(url(path), read_only=True) as db:
        rows = db.fetch(
            "SELECT type, name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
        )
    return [(str(kind), str(name), str(text)) for kind, name, text in rows]


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}
