"""The public sample databases (DATASETS_DIR, default ../shared/datasets), loaded once a session."""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from db_helpers import run_sql
from samples import datasets_dir
from sqlalchemy.engine import make_url

DATASETS = ("pagila", "chinook", "northwind", "hr", "adventureworks_schema", "musicbrainz_schema")
# What a dataset needs from the server beyond a plain build, checked before loading it.
NEEDS = {
    "adventureworks_schema": "SELECT count(*) = 2 FROM pg_available_extensions "
    "WHERE name IN ('uuid-ossp', 'tablefunc')",
    # Raises "ICU is not supported in this build" on a server built without ICU.
    "musicbrainz_schema": "SELECT 'a' < 'b' COLLATE \"und-x-icu\"",
}


def server_has(url: str, check: str) -> bool:
    try:
        return bool(run_sql(url, check)[0][0])
    except psycopg2.Error:
        return False


@pytest.fixture(scope="session")
def dataset_urls(pg_admin_url: str, pg_bin_dir: Path) -> Iterator[dict[str, str]]:
    """Load each dataset the server can hold; the URL of each, by name."""
    if not (datasets_dir() / "load.sh").is_file():
        pytest.fail(f"no datasets in {datasets_dir()}: set DATASETS_DIR")
    loaded: dict[str, str] = {}
    for name in DATASETS:
        check = NEEDS.get(name)
        if check and not server_has(pg_admin_url, check):
            continue
        database = f"ds_{name}_{uuid.uuid4().hex[:8]}"
        url = make_url(pg_admin_url).set(database=database).render_as_string(hide_password=False)
        env = dict(os.environ, PATH=f"{pg_bin_dir}{os.pathsep}{os.environ['PATH']}")
        # load.sh's own count check needs libxml on the server; the tests count instead.
        subprocess.run(
            [str(datasets_dir() / "load.sh"), "--no-check", name, url.replace("+psycopg2", "")],
            check=True,
            env=env,
            capture_output=True,
        )
        loaded[name] = url
    yield loaded
    for loaded_url in loaded.values():
        dropped = make_url(loaded_url).database
        run_sql(pg_admin_url, f'DROP DATABASE IF EXISTS "{dropped}" WITH (FORCE)')


@pytest.fixture(params=DATASETS)
def dataset(request: pytest.FixtureRequest, dataset_urls: dict[str, str]) -> tuple[str, str]:
    """(name, url) of one loaded dataset."""
    name: str = request.param
    if name not in dataset_urls:
        reason = f"{name} needs server features this PostgreSQL lacks: {NEEDS[name]}"
        if os.environ.get("GENONAUT_REQUIRE_ALL_DATASETS"):
            pytest.fail(reason)
        pytest.skip(reason)
    return name, dataset_urls[name]
