"""The PostgreSQL adapter behind the commands: copies and drops databases for tests, and serves
the public names as before (the committed seed's export is test_export_demo's)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg2
import pytest
from db_helpers import run_sql

from genonaut.seed.engines import engine_for
from genonaut.seed.errors import ConfigError


def test_copy_and_drop_a_database(make_database: Callable[..., str]) -> None:
    source = make_database()
    run_sql(source, "CREATE TABLE t (id int PRIMARY KEY, name text); INSERT INTO t VALUES (1, 'a')")
    engine = engine_for(source)
    name = f"t_copy_{uuid.uuid4().hex[:12]}"
    copy = engine.copy_database(source, name)
    try:
        assert copy.endswith(f"/{name}") or f"/{name}?" in copy
        assert run_sql(copy, "SELECT id, name FROM t") == [(1, "a")]
        run_sql(copy, "INSERT INTO t VALUES (2, 'b')")
        assert run_sql(source, "SELECT count(*) FROM t") == [(1,)]
    finally:
        engine.drop_database(copy)
    with pytest.raises(psycopg2.OperationalError):
        psycopg2.connect(copy)
    with pytest.raises(ConfigError, match=name):
        engine.copy_database(copy, f"{name}_again")
