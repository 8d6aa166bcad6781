"""Small helpers for tests that talk to a real PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg2

from genonaut.seed.engines.postgres.connection import to_libpq_dsn


def run_sql(url: str, statements: str, params: Any = None) -> list[tuple[Any, ...]]:
    """Run `statements` in autocommit mode; the rows of the last one, if it returns any."""
    conn = psycopg2.connect(to_libpq_dsn(url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statements, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def with_user(url: str, user: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).set(username=user, password=None).render_as_string(hide_password=False)
