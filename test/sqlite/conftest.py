"""Small SQLite databases built for each test (see sqlite_helpers for the sample)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlite_helpers import SAMPLE_DATA, SAMPLE_SCHEMA, build


@pytest.fixture
def make_db(tmp_path: Path) -> Callable[..., Path]:
    """`make_db(script, name="db.sqlite", checked=True)`: a new SQLite file built by `script`."""

    def make(script: str, name: str = "db.sqlite", *, checked: bool = True) -> Path:
        return build(tmp_path / name, script, checked=checked)

    return make


@pytest.fixture
def sample_db(make_db: Callable[..., Path]) -> Path:
    return make_db(SAMPLE_SCHEMA + SAMPLE_DATA, "sample.sqlite")
