"""The test server accepts connections, and each `make_database` database stands alone."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from db_helpers import run_sql
from sqlalchemy.engine import make_url


def test_server_answers(pg_admin_url: str) -> None:
    ((version,),) = run_sql(pg_admin_url, "SELECT current_setting('server_version_num')::int")
    assert version >= 150000


def test_client_programs_are_there(pg_bin_dir: Path) -> None:
    assert (pg_bin_dir / "pg_dump").is_file()
    assert (pg_bin_dir / "psql").is_file()


def test_databases_are_isolated(make_database: Callable[..., str]) -> None:
    first, second = make_database(), make_database(name_prefix="iso")
    assert make_url(first).database != make_url(second).database
    assert str(make_url(second).database).startswith("iso_")
    run_sql(first, "CREATE TABLE only_here (id int); INSERT INTO only_here VALUES (1)")
    assert run_sql(first, "SELECT count(*) FROM only_here") == [(1,)]
    tables = "SELECT count(*) FROM pg_tables WHERE tablename = 'only_here'"
    assert run_sql(second, tables) == [(0,)]


def test_template_copies_hold_the_template_rows(make_database: Callable[..., str]) -> None:
    template = make_database(name_prefix="tpl")
    run_sql(template, "CREATE TABLE seeded (id int); INSERT INTO seeded VALUES (7)")
    name = make_url(template).database
    assert name is not None
    copy = make_database(template=name)
    run_sql(copy, "INSERT INTO seeded VALUES (8)")
    assert run_sql(copy, "SELECT count(*) FROM seeded") == [(2,)]
    assert run_sql(template, "SELECT count(*) FROM seeded") == [(1,)]


def test_created_databases_are_dropped_afterwards(
    pg_admin_url: str, make_database: Callable[..., str]
) -> None:
    # The previous tests' databases are gone: only session templates and this test's remain.
    name = make_url(make_database(name_prefix="gone")).database
    rows = run_sql(pg_admin_url, "SELECT datname FROM pg_database WHERE datname ~ '^(iso|tpl)_'")
    assert rows == []
    assert name is not None
