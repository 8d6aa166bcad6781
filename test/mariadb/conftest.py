"""The MariaDB engine's suite: a real server (GENONAUT_MARIADB_URL, default the local one) and
a database of its own per test. It runs only when named (`make test-mariadb`), so `make test`
passes on a machine without MariaDB.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pymysql
import pytest
from mariadb_helpers import run

from genonaut.seed.engines.mariadb.connection import quote, with_database

HERE = Path(__file__).resolve().parent
DEFAULT_URL = "mysql://root@127.0.0.1:3306/"


def _named(config: pytest.Config) -> bool:
    for arg in config.args:
        path = Path(config.invocation_params.dir, arg.split("::")[0]).resolve()
        if path == HERE or HERE in path.parents:
            return True
    return False


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    """Leave this folder's tests out unless it (or a file in it) is named on the command line."""
    if HERE in collection_path.resolve().parents and not _named(config):
        return True
    return None


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.mariadb)


@pytest.fixture(scope="session")
def mariadb_server() -> str:
    """The server's URL without a database; the suite fails (never skips) without one."""
    url = os.environ.get("GENONAUT_MARIADB_URL", DEFAULT_URL)
    try:
        run(url, "SELECT 1")
    except pymysql.err.MySQLError as exc:
        pytest.fail(f"no MariaDB server at {url} ({exc}): start one or set GENONAUT_MARIADB_URL")
    return with_database(url, "")


@pytest.fixture
def make_mariadb(mariadb_server: str) -> Iterator[Callable[..., str]]:
    """A factory of fresh, uniquely named databases (utf8mb4), dropped afterwards."""
    made: list[str] = []

    def make(prefix: str = "gs") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:12]}"
        run(mariadb_server, f"CREATE DATABASE {quote(name)} CHARACTER SET utf8mb4")
        made.append(name)
        return with_database(mariadb_server, name)

    yield make
    for name in made:
        run(mariadb_server, f"DROP DATABASE IF EXISTS {quote(name)}")


@pytest.fixture
def mariadb_url(make_mariadb: Callable[..., str]) -> str:
    """A fresh empty database."""
    return make_mariadb()
