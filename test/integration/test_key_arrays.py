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


def test_keys_of_array_and_time_columns_are_read_in_their_types(empty_db_url: str) -> None:
    run_sql(
        empty_db_url,
        "CREATE TABLE marks (tags int[], at timestamptz, PRIMARY KEY (tags, at));"
        "INSERT INTO marks VALUES ('{1,2}', '2024-01-01 00:00:00+00'),"
        " ('{3}', '2024-02-01 12:30:00+00')",
    )
    conn = connect(empty_db_url)
    try:
        with conn.cursor() as cur:
            for columns, types, keys in (
                (
                    ("tags", "at"),
                    ("integer[]", "timestamp with time zone"),
                    [("{1,2}", "2024-01-01 00:00:00+00")],
                ),
                (("at",), ("timestamp with time zone",), [("2024-02-01 12:30:00+00",)]),
                (("tags",), ("integer[]",), [("{3}",)]),
            ):
                clause, params = key_in(columns, types, keys)
                cur.execute(
                    sql.SQL("SELECT tags::text, at::text FROM marks WHERE {}").format(clause),
                    params,
                )
                found = cur.fetchall()
                assert len(found) == 1
                assert tuple(found[0][["tags", "at"].index(c)] for c in columns) == keys[0]
    finally:
        conn.close()
