"""The two scripts on the SQLite samples (chinook_sqlite, sakila_sqlite) at limits 7 and 100:
the checks of `engine_scripts.check_engine_round_trip`. Sakila's triggers stamp last_update on
insert, so its fixtures load with --disable-triggers (without it, verify names the rows the
triggers rewrote)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from engine_scripts import check_engine_round_trip
from samples import datasets_dir, expected_rows

from genonaut.seed.engines.sqlite.clone import copy_schema

# Declared foreign keys per dataset, as each README counts them.
FOREIGN_KEYS = {"chinook_sqlite": 11, "sakila_sqlite": 22}


def build(name: str, target: Path) -> Path:
    script = datasets_dir() / "load_other.sh"
    if not script.is_file():
        pytest.fail(f"no {script}: set DATASETS_DIR")
    subprocess.run([str(script), name, str(target)], check=True, capture_output=True)
    return target


@pytest.mark.parametrize("limit", [7, 100])
@pytest.mark.parametrize("name", sorted(FOREIGN_KEYS))
def test_sqlite_sample_through_the_scripts(name: str, limit: int, tmp_path: Path) -> None:
    source = build(name, tmp_path / f"{name}.sqlite")
    target = copy_schema(source, tmp_path / "target.sqlite")
    check_engine_round_trip(
        f"sqlite:///{source}",
        f"sqlite:///{target}",
        tmp_path,
        limit=limit,
        engine="sqlite",
        source_rows=expected_rows(name),
        foreign_keys=FOREIGN_KEYS[name],
        load_flags=("--disable-triggers",),
    )
