"""Seeded SQLite databases for pytest: a template file built once per session from a schema
file and a fixture directory, and a copy of it per test by SQLite's backup API.

    from genonaut.seed.pytest_plugin import sqlite_seed

    seeded_sqlite = sqlite_seed(Path("test/schema.sqlite"), Path("test/db/input/sqlite_seed"))

    def test_users(seeded_sqlite: Path) -> None:
        ...  # a file of its own, holding the schema and the seed's rows

The template's name is a hash of the schema file and of every file of the fixture directory,
so a changed seed builds a new one; it lives in pytest's base temporary directory.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path
from typing import Any

import pytest

from genonaut.seed.commands.load import import_seed
from genonaut.seed.engines import engine_for
from genonaut.seed.errors import ConfigError

from .sources import directory_digest


def sqlite_seed(schema: Path, fixtures: Path, *, disable_triggers: bool = False) -> Any:
    """A fixture giving each test its own copy of a SQLite database holding the schema of the
    database file `schema` (its rows are not copied) and the rows of `fixtures`."""

    @pytest.fixture
    def seeded_sqlite(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Path:
        template = sqlite_template(
            schema, fixtures, tmp_path_factory.getbasetemp(), disable_triggers=disable_triggers
        )
        copy = tmp_path / "seeded.sqlite"
        url = f"sqlite:///{template}"
        engine_for(url).copy_database(url, str(copy))
        return copy

    return seeded_sqlite


def sqlite_template(
    schema: Path, fixtures: Path, directory: Path, *, disable_triggers: bool = False
) -> Path:
    """The template file for (`schema`, `fixtures`) in `directory`, built when missing."""
    if not schema.is_file():
        raise ConfigError(
            f"no SQLite schema file {schema}", hint="name a database file holding the schema"
        )
    digest = hashlib.sha256(schema.read_bytes() + directory_digest(fixtures)).hexdigest()[:16]
    template = directory / f"sqlite-seed-{digest}.sqlite"
    if template.is_file():
        return template
    from genonaut.seed.engines.sqlite.clone import copy_schema

    scratch = directory / f".sqlite-seed-{digest}.{os.getpid()}.sqlite"
    copy_schema(schema, scratch)
    import_seed(fixtures, f"sqlite:///{scratch}", disable_triggers=disable_triggers)
    os.replace(scratch, template)
    return template
