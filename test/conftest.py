"""Shared fixtures: a real PostgreSQL (GENONAUT_TEST_DATABASE_URL, or an embedded one) and a
fresh database per test.

The server is the seed plugin's (genonaut.seed.pytest_plugin): the embedded one runs without
fsync on /dev/shm and keeps its data between sessions, so the templates below (the app's
schema, the demo data) and the seed template are built once and reused while their sources
are unchanged. Tests that need the committed seed use the plugin's `seeded_db` / `seeded_tx`.

The sample-database suite under test/datasets/ runs only when named (`make test-datasets`).
"""

from __future__ import annotations

import hashlib
import inspect
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy.engine import make_url

from genonaut.db.utils import to_libpq_dsn
from genonaut.seed.pytest_plugin import TemplateServer
from genonaut.seed.pytest_plugin.sources import SchemaSource

# pytester runs throwaway projects for the seed plugin's own tests.
pytest_plugins = ["pytester"]

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


# The comment on every database these fixtures make: a killed run's are dropped next time.
_MADE_BY = "genonaut test/conftest.py"


@pytest.fixture(scope="session")
def pg_admin_url(seed_server: TemplateServer) -> str:
    """The maintenance database of the test server: GENONAUT_TEST_DATABASE_URL's server, else
    the embedded one the seed plugin starts for the session (its data outlives the session)."""
    _drop_leftovers(seed_server.admin_url)
    return seed_server.admin_url


def _drop_leftovers(admin: str) -> None:
    """Drop the databases of earlier runs on this host whose process is gone."""
    conn = psycopg2.connect(to_libpq_dsn(admin))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT datname, shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE shobj_description(oid, 'pg_database') LIKE %s",
                (f"{_MADE_BY} %",),
            )
            rows = cur.fetchall()
    finally:
        conn.close()
    for name, comment in rows:
        host, pid = comment.removeprefix(f"{_MADE_BY} ").rsplit(":", 1)
        if host == socket.gethostname() and not _alive(int(pid)):
            _drop(admin, name)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


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
    mark = f"{_MADE_BY} {socket.gethostname()}:{os.getpid()}"
    _admin(admin, f"COMMENT ON DATABASE \"{name}\" IS '{mark}'")
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


def _key(*parts: bytes) -> str:
    hashed = hashlib.sha256()
    for part in parts:
        hashed.update(len(part).to_bytes(8, "big") + part)
    return hashed.hexdigest()


@pytest.fixture(scope="session")
def app_db_template(seed_server: TemplateServer) -> str:
    """A sealed database with the app's schema, to copy from; rebuilt when genonaut/db/
    changes."""
    from genonaut.db.init_db import create_schema

    key = _key(b"app", SchemaSource.parse("app", Path()).digest(), bytes([seed_server.major]))
    seed_server.collect(family="genonaut-test-app", current={key})
    return seed_server.ensure_template(
        f"gnseed_app_{key[:20]}", key=key, family="genonaut-test-app", build=create_schema
    ).name


@pytest.fixture
def app_db_url(make_database: Callable[..., str], app_db_template: str) -> str:
    """A fresh database with the app's schema and no rows."""
    return make_database(template=app_db_template)


@pytest.fixture(scope="session")
def demo_db_template(seed_server: TemplateServer, app_db_template: str) -> str:
    """A sealed database with the app's schema and demo data at a small scale; copy it to
    write. Rebuilt when the schema or the generator changes."""
    from genonaut.db.demo.seed_data_gen import demo_data

    source = inspect.getsource(demo_data).encode()
    key = _key(app_db_template.encode(), source, str(DEMO_SCALE).encode())
    seed_server.collect(family="genonaut-test-demo", current={key})

    def build(url: str) -> None:
        demo_data.generate_demo_data(url, DEMO_SCALE)
        _admin(url, "VACUUM ANALYZE")

    return seed_server.ensure_template(
        f"gnseed_demo_{key[:20]}",
        key=key,
        family="genonaut-test-demo",
        build=build,
        from_template=app_db_template,
    ).name


@pytest.fixture(scope="session")
def demo_db_url(pg_admin_url: str, demo_db_template: str) -> Iterator[str]:
    """A copy of the demo database shared by the session: read it, never write to it (the
    template itself takes no connections)."""
    name = _create(pg_admin_url, "demo", demo_db_template)
    yield _with_database(pg_admin_url, name)
    _drop(pg_admin_url, name)
