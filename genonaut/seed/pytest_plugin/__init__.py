"""Seeded test databases for pytest: a template built once from the seed, a copy per test.

Installed with the package and registered through the `pytest11` entry point, so a project
gets the fixtures with no conftest code (`pytest --fixtures` lists them): `seed_template`,
`seeded_db`, `seeded_conn`, `seeded_engine`, `seeded_orm_session`, `seeded_tx`. A module adds
its own rows on top of the seed with `seed_layer`:

    from genonaut.seed.pytest_plugin import seed_layer

    admins_db = seed_layer("admins", add_admins)   # add_admins(url) writes the rows

For SQLite, `sqlite_seed(schema_file, fixtures)` makes a fixture that gives each test a copy
of a template file (the backup API):

    seeded_sqlite = sqlite_seed(Path("test/schema.sqlite"), Path("test/sqlite_seed"))

docs/testing.md tells how to configure it (server, fixture directory, schema).
"""

from __future__ import annotations

from genonaut.seed.engines.postgres.templates import (
    Template,
    TemplateBusy,
    TemplateError,
    TemplateServer,
)

from .plugin import seed_layer
from .sqlite import sqlite_seed

__all__ = [
    "Template",
    "TemplateBusy",
    "TemplateError",
    "TemplateServer",
    "seed_layer",
    "sqlite_seed",
]
