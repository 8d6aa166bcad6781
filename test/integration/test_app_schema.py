"""The app's schema: partitions route rows, keys hold, computed columns compute."""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from db_helpers import run_sql

from genonaut.db.init_db import create_schema


def _user(url: str) -> str:
    user_id = str(uuid.uuid4())
    run_sql(
        url,
        "INSERT INTO users (id, username, email) VALUES (%s, %s, 'x@example.com')",
        (user_id, user_id[:8]),
    )
    return user_id


def test_create_schema_twice_is_harmless(app_db_url: str) -> None:
    assert create_schema(app_db_url) is False
    assert run_sql(app_db_url, "SELECT version_num FROM alembic_version") == [("b7e2c41d9f03",)]


def test_partitions_route_rows_by_source(app_db_url: str) -> None:
    user = _user(app_db_url)
    run_sql(
        app_db_url,
        "INSERT INTO content_items_all (source_type, creator_id, title) "
        "VALUES ('regular', %s, 'a'), ('auto', %s, 'b')",
        (user, user),
    )
    assert run_sql(app_db_url, "SELECT count(*) FROM content_items")[0][0] == 1
    assert run_sql(app_db_url, "SELECT count(*) FROM content_items_auto")[0][0] == 1


def test_generated_column_computes(app_db_url: str) -> None:
    run_sql(
        app_db_url,
        "INSERT INTO generation_metrics_hourly (hour, model_name, total, succeeded) "
        "VALUES (now(), 'm', 4, 3)",
    )
    assert (
        str(run_sql(app_db_url, "SELECT success_rate FROM generation_metrics_hourly")[0][0])
        == "0.7500"
    )


def test_category_membership_needs_the_same_user_on_both_sides(app_db_url: str) -> None:
    alice, bob = _user(app_db_url), _user(app_db_url)
    run_sql(
        app_db_url,
        "INSERT INTO content_items_all (id, source_type, creator_id, title) "
        "VALUES (1, 'regular', %s, 'a');"
        "INSERT INTO bookmarks (id, user_id, content_id, content_source_type) "
        "VALUES ('00000000-0000-0000-0000-000000000001', %s, 1, 'regular');"
        "INSERT INTO bookmark_categories (id, user_id, name) "
        "VALUES ('00000000-0000-0000-0000-000000000002', %s, 'mine')",
        (alice, alice, bob),
    )
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        run_sql(
            app_db_url,
            "INSERT INTO bookmark_category_members (bookmark_id, category_id, user_id) VALUES "
            "('00000000-0000-0000-0000-000000000001', '00000000-0000-0000-0000-000000000002', %s)",
            (alice,),
        )


def test_bookmark_must_point_at_content_of_its_source(app_db_url: str) -> None:
    user = _user(app_db_url)
    run_sql(
        app_db_url,
        "INSERT INTO content_items_all (id, source_type, creator_id, title) "
        "VALUES (7, 'regular', %s, 'a')",
        (user,),
    )
    with pytest.raises(psycopg2.errors.ForeignKeyViolation):
        run_sql(
            app_db_url,
            "INSERT INTO bookmarks (user_id, content_id, content_source_type) "
            "VALUES (%s, 7, 'auto')",
            (user,),
        )
