"""Key lists sent as one array literal: PostgreSQL reads back exactly the values sent."""

from __future__ import annotations

from db_helpers import run_sql
from psycopg2 import sql

from genonaut.seed.engines.postgres.connection import connect
from genonaut.seed.engines.postgres.row_queries import array_literal, key_in

AWKWARD = ["plain", 'with "quotes"', "back\\slash", "comma,brace{}", " spaced ", "", "NULL", "é✓"]


def test_awkward_text_values_come_back_as_sent(empty_db_url: str) -> None:
    values = [*AWKWARD, None]
    (row,) = run_sql(empty_db_url, "SELECT %s::text[]", (array_literal(values),))
    assert row[0] == values


def test_a_composite_key_list_finds_exactly_its_rows(empty_db_url: str) -> None:
    keys = [(text, str(i)) for i, text in enumerate(AWKWARD)]
    run_sql(
        empty_db_url,
        "CREATE TABLE pairs (a text, b int, PRIMARY KEY (a, b));"
        "INSERT INTO pairs SELECT * FROM unnest(%s::text[], %s::int[])",
        ([a for a, _ in keys], [int(b) for _, b in keys]),
    )
    wanted = keys[1:4]
    clause, params = key_in(("a", "b"), ("text", "integer"), wanted)
    conn = connect(empty_db_url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                sql.SQL("SELECT a, b::text FROM pairs WHERE {} ORDER BY b").format(clause), params
            )
            assert cur.fetchall() == wanted
    finally:
        conn.close()
