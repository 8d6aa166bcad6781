"""The demo data: every table filled, deterministic, skewed, with far-down children."""

from __future__ import annotations

from collections.abc import Callable

from db_helpers import run_sql

from genonaut.db.demo.seed_data_gen.demo_data import generate_demo_data
from genonaut.seed.engines.postgres.catalog import read_schema
from genonaut.seed.engines.postgres.connection import session

NULLABLE_REFERENCES = [
    ("generation_jobs", "content_id"),
    ("user_notifications", "related_job_id"),
    ("user_notifications", "related_content_id"),
    ("user_interactions", "content_id"),
    ("recommendations", "content_id"),
    ("flagged_content", "content_item_id"),
    ("flagged_content", "content_item_auto_id"),
    ("flagged_content", "reviewed_by"),
    ("generation_events", "user_id"),
    ("generation_events", "job_id"),
    ("route_analytics", "user_id"),
    ("bookmark_categories", "parent_id"),
]


def _tables(url: str) -> list[str]:
    with session(url) as db:
        return [t.name.name for t in read_schema(db, ["public"]).tables if not t.is_partitioned]


def test_every_table_has_rows(demo_db_url: str) -> None:
    for table in _tables(demo_db_url):
        assert run_sql(demo_db_url, f'SELECT count(*) FROM "{table}"')[0][0] > 0, table


def test_same_scale_gives_the_same_rows(
    app_db_url: str, make_database: Callable[..., str], app_db_template: str
) -> None:
    other = make_database(template=app_db_template)
    generate_demo_data(app_db_url, 0.001)
    generate_demo_data(other, 0.001)
    for table in _tables(app_db_url):
        digest = f"SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM \"{table}\" t"
        assert run_sql(app_db_url, digest) == run_sql(other, digest), table


def test_nullable_references_are_sometimes_set_and_sometimes_not(demo_db_url: str) -> None:
    for table, column in NULLABLE_REFERENCES:
        set_, unset = run_sql(
            demo_db_url,
            f'SELECT count("{column}"), count(*) - count("{column}") FROM "{table}"',
        )[0]
        assert set_ > 0 and unset > 0, (table, column)


def test_some_children_belong_only_to_users_far_down_the_key_order(demo_db_url: str) -> None:
    # The first half of the users by key: a seed's first N users come from there.
    first_half = "SELECT id FROM users ORDER BY id LIMIT (SELECT count(*) / 2 FROM users)"
    for table in ("user_search_history", "tag_ratings", "user_notifications"):
        near = run_sql(
            demo_db_url, f'SELECT count(*) FROM "{table}" WHERE user_id IN ({first_half})'
        )
        assert near[0][0] == 0, table
        assert run_sql(demo_db_url, f'SELECT count(*) FROM "{table}"')[0][0] > 0


def test_a_few_users_own_most_content(demo_db_url: str) -> None:
    (top_share,) = run_sql(
        demo_db_url,
        "SELECT sum(n)::float / (SELECT count(*) FROM content_items) FROM ("
        "SELECT count(*) n FROM content_items GROUP BY creator_id ORDER BY n DESC LIMIT 10) x",
    )[0]
    assert top_share > 0.3


def test_content_tags_point_at_the_partition_their_source_names(demo_db_url: str) -> None:
    dangling = run_sql(
        demo_db_url,
        "SELECT count(*) FROM content_tags t WHERE NOT EXISTS (SELECT 1 FROM content_items_all c "
        "WHERE c.id = t.content_id AND c.source_type = t.content_source)",
    )[0][0]
    assert dangling == 0
    sources = {
        r[0] for r in run_sql(demo_db_url, "SELECT DISTINCT content_source FROM content_tags")
    }
    assert sources == {"regular", "auto"}
