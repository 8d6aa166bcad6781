"""The app's schema, read back from the catalog after `create_schema`: every shape the seed
tools must cope with is really there."""

from __future__ import annotations

from db_helpers import run_sql


def _foreign_keys(url: str, table: str) -> set[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(referred table, columns, referred columns) of the top-level FKs of `table`."""
    rows = run_sql(
        url,
        "SELECT c.confrelid::regclass::text,"
        " array(SELECT attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i)"
        "   JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n ORDER BY k.i),"
        " array(SELECT attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i)"
        "   JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n ORDER BY k.i)"
        " FROM pg_constraint c WHERE c.contype = 'f' AND c.conparentid = 0"
        " AND c.conrelid = %s::regclass",
        (table,),
    )
    return {(target, tuple(cols), tuple(refs)) for target, cols, refs in rows}


def _column(url: str, table: str, column: str) -> tuple[str, str, str | None, str, str]:
    """(type, is_nullable, default, identity, generated) of one column."""
    ((type_, nullable, default, identity, generated),) = run_sql(
        url,
        "SELECT format_type(a.atttypid, a.atttypmod), CASE WHEN a.attnotnull THEN 'NO' ELSE"
        " 'YES' END, pg_get_expr(d.adbin, d.adrelid), a.attidentity, a.attgenerated"
        " FROM pg_attribute a LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid"
        " AND d.adnum = a.attnum WHERE a.attrelid = %s::regclass AND a.attname = %s",
        (table, column),
    )
    return type_, nullable, default, identity, generated


def test_content_is_list_partitioned_into_two_leaves(app_db_url: str) -> None:
    ((key,),) = run_sql(app_db_url, "SELECT pg_get_partkeydef('content_items_all'::regclass)")
    assert key == "LIST (source_type)"
    leaves = run_sql(
        app_db_url,
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i"
        " JOIN pg_class c ON c.oid = i.inhrelid"
        " WHERE i.inhparent = 'content_items_all'::regclass ORDER BY 1",
    )
    assert leaves == [
        ("content_items", "FOR VALUES IN ('regular')"),
        ("content_items_auto", "FOR VALUES IN ('auto')"),
    ]


def test_composite_foreign_keys_point_at_unique_keys_that_are_not_primary(
    app_db_url: str,
) -> None:
    assert _foreign_keys(app_db_url, "bookmark_category_members") == {
        ("bookmarks", ("bookmark_id", "user_id"), ("id", "user_id")),
        ("bookmark_categories", ("category_id", "user_id"), ("id", "user_id")),
    }
    for table in ("bookmarks", "bookmark_categories"):
        keys = run_sql(
            app_db_url,
            "SELECT contype, array(SELECT attname FROM unnest(conkey) k(n) JOIN pg_attribute a"
            " ON a.attrelid = conrelid AND a.attnum = k.n) FROM pg_constraint"
            " WHERE conrelid = %s::regclass AND contype IN ('p', 'u') ORDER BY 1",
            (table,),
        )
        assert keys == [("p", ["id"]), ("u", ["id", "user_id"])], table


def test_bookmarks_reference_the_partitioned_parent_on_two_columns(app_db_url: str) -> None:
    assert (
        "content_items_all",
        ("content_id", "content_source_type"),
        ("id", "source_type"),
    ) in _foreign_keys(app_db_url, "bookmarks")


def test_self_references_and_their_nullability(app_db_url: str) -> None:
    assert ("bookmark_categories", ("parent_id",), ("id",)) in _foreign_keys(
        app_db_url, "bookmark_categories"
    )
    assert _column(app_db_url, "bookmark_categories", "parent_id")[1] == "YES"
    assert _foreign_keys(app_db_url, "tag_parents") == {
        ("tags", ("tag_id",), ("id",)),
        ("tags", ("parent_id",), ("id",)),
    }


def test_nullable_foreign_keys_named_in_the_issue(app_db_url: str) -> None:
    nullable = {
        ("generation_jobs", "content_id", "content_items"),
        ("user_notifications", "related_job_id", "generation_jobs"),
        ("user_notifications", "related_content_id", "content_items"),
        ("recommendations", "content_id", "content_items"),
        ("user_interactions", "content_id", "content_items"),
        ("flagged_content", "content_item_id", "content_items"),
        ("flagged_content", "content_item_auto_id", "content_items_auto"),
        ("flagged_content", "reviewed_by", "users"),
        ("generation_events", "user_id", "users"),
        ("route_analytics", "user_id", "users"),
    }
    for table, column, target in nullable:
        assert any(
            t == target and cols == (column,) for t, cols, _ in _foreign_keys(app_db_url, table)
        ), (table, column)
        assert _column(app_db_url, table, column)[1] == "YES", (table, column)
    users = [t for t, _, _ in _foreign_keys(app_db_url, "flagged_content") if t == "users"]
    assert len(users) == 2


def test_sidecars_primary_key_is_their_foreign_key_with_no_sequence(app_db_url: str) -> None:
    for sidecar, partition in (
        ("content_items_ext", "content_items"),
        ("content_items_auto_ext", "content_items_auto"),
    ):
        assert _foreign_keys(app_db_url, sidecar) == {(partition, ("content_id",), ("id",))}
        # A serial default would hand out ids that name no content item.
        assert _column(app_db_url, sidecar, "content_id")[2] is None, sidecar


def test_content_tags_has_no_foreign_key_on_its_content(app_db_url: str) -> None:
    assert _foreign_keys(app_db_url, "content_tags") == {("tags", ("tag_id",), ("id",))}


def test_exactly_one_table_has_no_primary_key(app_db_url: str) -> None:
    rows = run_sql(
        app_db_url,
        "SELECT c.relname FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace"
        " AND c.relkind = 'r' AND NOT EXISTS (SELECT 1 FROM pg_constraint k"
        " WHERE k.conrelid = c.oid AND k.contype = 'p')",
    )
    assert rows == [("route_analytics",)]


def test_identity_serial_generated_and_typed_columns(app_db_url: str) -> None:
    assert _column(app_db_url, "generation_jobs", "id")[3] == "a"  # GENERATED ALWAYS
    assert "nextval" in str(_column(app_db_url, "user_notifications", "id")[2])
    assert _column(app_db_url, "generation_metrics_hourly", "success_rate")[4] == "s"
    expected = {
        ("generation_jobs", "status"): "job_status",
        ("users", "created_at"): "timestamp with time zone",
        ("tag_ratings", "rating"): "numeric(3,1)",
        ("models_checkpoints", "sha256"): "bytea",
        ("users", "preferences"): "jsonb",
        ("users", "favorite_tag_ids"): "uuid[]",
        ("content_items_all", "tags"): "text[]",
        ("users", "id"): "uuid",
        ("content_items_all", "id"): "integer",
    }
    for (table, column), type_ in expected.items():
        assert _column(app_db_url, table, column)[0] == type_, (table, column)
    ((kind,),) = run_sql(app_db_url, "SELECT typtype FROM pg_type WHERE typname = 'job_status'")
    assert kind == "e"


def test_every_table_of_the_issue_is_there_and_alembic_has_one_row(app_db_url: str) -> None:
    tables = {
        r[0]
        for r in run_sql(
            app_db_url,
            "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace"
            " AND relkind IN ('r', 'p')",
        )
    }
    assert len(tables) == 29, sorted(tables)
    assert run_sql(app_db_url, "SELECT count(*) FROM alembic_version") == [(1,)]
