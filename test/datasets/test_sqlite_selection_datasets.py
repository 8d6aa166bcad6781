"""The SQLite sample databases: a selection planned over `SQLiteRows` is closed over foreign
keys (SQLite's own `PRAGMA foreign_key_check` accepts the chosen rows, dumped and loaded into
an empty copy of the schema), no table with rows comes out empty, and the rows chosen are
those the same decisions choose over the rows held in memory."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from memory_rows import MemoryRows
from samples import datasets_dir, expected_rows
from sqlite_selection import chosen, load_selection, rows_as_text

from genonaut.seed.core.rules import Rules
from genonaut.seed.core.selection import plan_selection
from genonaut.seed.engines.sqlite.catalog import read_catalog
from genonaut.seed.engines.sqlite.connection import session
from genonaut.seed.engines.sqlite.row_source import SQLiteRows

SQLITE_DATASETS = ("chinook_sqlite", "sakila_sqlite")


def build(name: str, target: Path) -> Path:
    script = datasets_dir() / "load_other.sh"
    if not script.is_file():
        pytest.fail(f"no {script}: set DATASETS_DIR")
    subprocess.run([str(script), name, str(target)], check=True, capture_output=True)
    return target


@pytest.mark.parametrize("limit", [7, 100])
@pytest.mark.parametrize("name", SQLITE_DATASETS)
def test_sqlite_dataset_selection_is_closed(name: str, limit: int, tmp_path: Path) -> None:
    source = build(name, tmp_path / f"{name}.sqlite")
    with session(f"sqlite:///{source}", read_only=True) as db, db.snapshot():
        catalog = read_catalog(db)
        rules = Rules(catalog.schema.data_tables, default_limit=limit)
        before = db.statements
        selection = plan_selection(SQLiteRows(db, catalog), catalog.schema, rules)
        statements = db.statements - before
        report = load_selection(db, catalog, selection, source, tmp_path / "seed")
        memory = MemoryRows(rows_as_text(db, catalog))
    # The same decisions over the rows held in memory choose the same rows.
    assert chosen(plan_selection(memory, catalog.schema, rules)) == chosen(selection)
    counts = {leaf.name: len(pick.rows) for leaf, pick in selection.picks.items()}
    # The load ran PRAGMA foreign_key_check: every reference of a chosen row found its row.
    assert {t.table.name: t.inserted for t in report.tables} == counts
    assert not selection.dropped
    for table, rows in expected_rows(name).items():
        assert counts[table] > 0 or rows == 0, f"{table} has {rows} rows, none chosen"
        assert counts[table] <= rows
    # A handful of statements per table, whatever the limit: never one per row.
    assert statements <= 2 * len(counts) + 4, statements
