"""Shared fixtures: a real PostgreSQL (GENONAUT_TEST_DATABASE_URL, or an embedded one) and a
fresh database per test.

The sample-database suite under test/datasets/ runs only when named (`make test-datasets`).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from genonaut.db.utils import to_libpq_dsn

DEMO_SCALE = 0.001
DATASETS = Path(__file__).resolve().parent / "datasets"


def _names_datasets(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == DATASETS or DATASETS in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave test/datasets/ out unless it is named on the command line."""
    if collection_path.resolve() == DATASETS and not _names_datasets(config):
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if DATASETS in item.path.resolve().parents:
            item.add_marker(pytest.mark.datasets)


def _admin(url: str, statement: str) -> None:
    conn = psycopg2.connect(to_libpq_dsn(url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
    finally:
        conn.close()


def _with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_admin_url() -> Iterator[str]:
    """The maintenance database of the test server: GENONAUT_TEST_DATABASE_URL's server, else
    an embedded one started for the session."""
    configured = os.environ.get("GENONAUT_TEST_DATABASE_URL")
    if configured:
        yield _with_database(configured, make_url(configured).database or "postgres")
        return
    from genonaut.db.embedded import EmbeddedServer

    with (
        tempfile.TemporaryDirectory(prefix="genonaut-pg-") as scratch,
        EmbeddedServer(Path(scratch) / "data", keep_data=False) as server,
    ):
        yield server.admin_url


@pytest.fixture(scope="session")
def pg_bin_dir(pg_admin_url: str) -> Path:
    """psql and pg_dump of the server's major version where installed (a newer pg_dump writes
    what an older server cannot read), else the embedded wheel's."""
    from genonaut.db.embedded import bin_dir

    conn = psycopg2.connect(to_libpq_dsn(pg_admin_url))
    major = conn.server_version // 10000
    conn.close()
    candidates = [Path(f"/usr/lib/postgresql/{major}/bin"), bin_dir()]
    found = shutil.which("pg_dump")
    if found:
        candidates.insert(1, Path(found).parent)
    for directory in candidates:
        if (directory / "pg_dump").is_file() and _major(directory) == major:
            return directory
    return bin_dir()


def _major(directory: Path) -> int:
    version = subprocess.run(
        [str(directory / "pg_dump"), "--version"], capture_output=True, text=True, check=True
    ).stdout
    return int(version.split()[-1].split(".")[0])


def _create(admin: str, prefix: str, template: str | None = None) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clause = f' TEMPLATE "{template}"' if template else ""
    _admin(admin, f'CREATE DATABASE "{name}"{clause}')
    return name


def _drop(admin: str, name: str) -> None:
    _admin(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def make_database(pg_admin_url: str) -> Iterator[Callable[..., str]]:
    """A factory of fresh databases (optionally copies of a template), dropped afterwards."""
    made: list[str] = []

    def make(template: str | None = None, name_prefix: str = "t") -> str:
        name = _create(pg_admin_url, name_prefix, template)
        made.append(name)
        return _with_database(pg_admin_url, name)

    yield make
    for name in made:
        _drop(pg_admin_url, name)


@pytest.fixture
def empty_db_url(make_database: Callable[..., str]) -> str:
    """A fresh database with nothing in it."""
    return make_database()


@pytest.fixture(scope="session")
def app_db_template(pg_admin_url: str) -> Iterator[str]:
    """A database with the app's schema, to copy from."""
    from genonaut.db.init_db import create_schema

    name = _create(pg_admin_url, "app_template")
    create_schema(_with_database(pg_admin_url, name))
    yield name
    _drop(pg_admin_url, name)


@pytest.fixture
def app_db_url(make_database: Callable[..., str], app_db_template: str) -> str:
    """A fresh database with the app's schema and no rows."""
    return make_database(template=app_db_template)


@pytest.fixture(scope="session")
def demo_db_template(pg_admin_url: str, app_db_template: str) -> Iterator[str]:
    """A database with the app's schema and demo data at a small scale; copy it to write."""
    from genonaut.db.demo.seed_data_gen.demo_data import generate_demo_data

    name = _create(pg_admin_url, "demo_template", app_db_template)
    url = _with_database(pg_admin_url, name)
    generate_demo_data(url, DEMO_SCALE)
    _admin(url, "VACUUM ANALYZE")
    yield name
    _drop(pg_admin_url, name)


@pytest.fixture(scope="session")
def demo_db_url(pg_admin_url: str, demo_db_template: str) -> str:
    """The demo database itself: read it, never write to it."""
    return _with_database(pg_admin_url, demo_db_template)
