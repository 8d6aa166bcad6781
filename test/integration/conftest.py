"""Fixtures of the importer's tests: the hand-written schema and its fixture directory."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_helpers import run_sql
from import_fixtures import SCHEMA, seed_rows, write_fixture


@pytest.fixture
def target(empty_db_url: str) -> str:
    run_sql(empty_db_url, SCHEMA)
    return empty_db_url


@pytest.fixture
def seed(tmp_path: Path) -> Path:
    return write_fixture(tmp_path / "seed", seed_rows())
