"""Demo data: the same scale gives the same database, also when it replaces a larger one, and
each table gets the rows its size formula says."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from db_helpers import run_sql

from genonaut.db.demo.seed_data_gen.demo_data import SIZES, counts, generate_demo_data

SCALE = 0.001


def _state(url: str) -> dict[str, Any]:
    """A digest of every table's rows, and every sequence's position."""
    tables = [
        r[0]
        for r in run_sql(
            url,
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind = 'r' ORDER BY 1",
        )
    ]
    state: dict[str, Any] = {
        table: run_sql(
            url,
            f"SELECT count(*), md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t",
        )
        for table in tables
    }
    state["sequences"] = run_sql(
        url,
        "SELECT sequencename, last_value FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1",
    )
    return state


def test_replacing_a_larger_scale_gives_what_a_fresh_database_gets(
    app_db_url: str, make_database: Callable[..., str], app_db_template: str
) -> None:
    fresh = make_database(template=app_db_template)
    generate_demo_data(fresh, SCALE)
    generate_demo_data(app_db_url, SCALE * 3)
    generate_demo_data(app_db_url, SCALE, replace=True)
    assert _state(app_db_url) == _state(fresh)


def test_each_table_has_the_rows_of_its_size_formula(demo_db_url: str) -> None:
    sizes = counts(SCALE)
    for table, expected in sizes.items():
        ((rows,),) = run_sql(demo_db_url, f'SELECT count(*) FROM "{table}"')
        if table == "tag_ratings":  # (user, tag) pairs repeat at tiny scales and are skipped
            assert 0 < rows <= expected
        else:
            assert rows == expected, table
    # content_tags: every other item of each partition.
    ((tags,),) = run_sql(demo_db_url, "SELECT count(*) FROM content_tags")
    assert tags == sizes["content_items"] // 2 + (sizes["content_items_auto"] + 1) // 2


def test_scale_one_has_the_documented_sizes() -> None:
    full = counts(1.0)
    assert full["content_items"] == full["content_items_auto"] == 1_000_000
    assert (full["users"], full["tags"]) == (100_000, 10_000)
    assert set(full) == set(SIZES)
