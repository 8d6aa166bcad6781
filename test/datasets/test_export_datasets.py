"""The exporter on schemas written elsewhere: nothing dangles, nothing empty, same bytes twice."""

from __future__ import annotations

from pathlib import Path

from db_helpers import run_sql
from fixture_oracle import dangling, read_rows, snapshot
from samples import expected_rows

from genonaut.seed.commands.export import export_seed
from genonaut.seed.core.fixture_format import read_manifest
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import ExportSettings


def test_dataset_loaded_as_published(dataset: tuple[str, str]) -> None:
    name, url = dataset
    for table, count in expected_rows(name).items():
        schema, _, rel = table.partition(".")
        assert run_sql(url, f'SELECT count(*) FROM "{schema}"."{rel}"')[0][0] == count, table


def test_export_is_closed_complete_and_deterministic(
    dataset: tuple[str, str], tmp_path: Path
) -> None:
    name, url = dataset
    first, second = tmp_path / "first", tmp_path / "second"
    report = export_seed(ExportSettings(url, first))
    export_seed(ExportSettings(url, second))

    assert snapshot(first) == snapshot(second)
    assert dangling(first) == []
    counts = expected_rows(name)
    manifest = read_manifest(first)
    exported = {t.name.qualified: t.rows for t in manifest.tables}
    for table, count in counts.items():
        if table in exported:
            assert (exported[table] > 0) == (count > 0), table
    # Partitioned parents hold no rows of their own and get no file.
    assert set(exported) <= set(counts)
    assert report.rows == sum(exported.values())


def test_hr_cycle_and_self_reference_come_with_their_rows(
    dataset_urls: dict[str, str], tmp_path: Path
) -> None:
    out = tmp_path / "hr"
    export_seed(ExportSettings(dataset_urls["hr"], out, default_limit=5))
    rows = read_rows(out)
    employees = rows[TableName("hr", "employees")]
    departments = rows[TableName("hr", "departments")]
    assert any(d["manager_id"] is not None for d in departments)
    assert any(e["manager_id"] is not None for e in employees)
    assert any(e["department_id"] is not None for e in employees)
    # Every manager of a chosen employee is in the seed, up to the root of the hierarchy.
    ids = {e["employee_id"] for e in employees}
    assert {e["manager_id"] for e in employees if e["manager_id"]} <= ids
    assert dangling(out) == []


def test_every_table_is_filled_to_its_limit_where_the_source_allows(
    dataset: tuple[str, str], tmp_path: Path
) -> None:
    """Each table holds at least min(limit, its rows): rows that closure brought in before the
    table's turn count against its limit, the limit rule fills the rest."""
    name, url = dataset
    limit = 7
    report = export_seed(ExportSettings(url, tmp_path / "seed", default_limit=limit))
    counts = expected_rows(name)
    short = [
        f"{t.table}: {t.rows} of {min(limit, counts[t.table.qualified])}"
        for t in report.tables
        if t.rows < min(limit, counts[t.table.qualified])
    ]
    assert short == []
    assert dangling(tmp_path / "seed") == []
