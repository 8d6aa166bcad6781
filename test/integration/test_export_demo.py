"""The exporter on the app's demo database: closed, complete, deterministic, read-only."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from db_helpers import run_sql, with_user
from fixture_oracle import dangling, fixture_files, is_set, read_rows, snapshot

from genonaut.seed.commands.export import check_fixtures, export_seed
from genonaut.seed.core.fixture_format import read_manifest
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import ExportSettings, VirtualRelation, apply_config, load_config
from genonaut.seed.errors import ConfigError, ConnectionFailed, EmptySelection

APP_CONFIG = Path(__file__).resolve().parents[2] / "config" / "seed-export.json"


def _settings(url: str, out: Path, **changes: object) -> ExportSettings:
    base = ExportSettings(database_url=url, output_dir=out)
    base = apply_config(base, load_config(APP_CONFIG), str(APP_CONFIG))
    return base.merged(**changes)


@pytest.fixture(scope="module")
def demo_seed(demo_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seed") / "rdbms_init_from_demo"
    export_seed(_settings(demo_db_url, out))
    return out


def test_nothing_dangles(demo_seed: Path) -> None:
    assert dangling(demo_seed) == []


def test_every_table_with_rows_is_exported(demo_seed: Path, demo_db_url: str) -> None:
    manifest = read_manifest(demo_seed)
    for entry in manifest.tables:
        (count,) = run_sql(
            demo_db_url, f'SELECT count(*) FROM "{entry.name.schema}"."{entry.name.name}"'
        )[0]
        assert (entry.rows > 0) == (count > 0), entry.name
    exported = {t.name.name for t in manifest.tables}
    source = {
        r[0]
        for r in run_sql(
            demo_db_url,
            "SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'public' AND c.relkind = 'r'",
        )
    }
    assert exported == source


def test_partitions_get_files_and_the_parent_none(demo_seed: Path) -> None:
    names = {p.name for p in demo_seed.iterdir()}
    assert {"content_items.tsv", "content_items_auto.tsv"} <= names
    assert "content_items_all.tsv" not in names


def test_generated_columns_are_left_out(demo_seed: Path, demo_db_url: str) -> None:
    generated = run_sql(
        demo_db_url,
        "SELECT c.relname, a.attname FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
        "JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = 'public' AND a.attgenerated <> '' AND c.relkind = 'r'",
    )
    assert generated, "the app schema has a generated column"
    manifest = read_manifest(demo_seed)
    for table, column in generated:
        assert column not in manifest.table(TableName("public", table)).columns


def test_every_relation_with_data_is_exercised(demo_seed: Path, demo_db_url: str) -> None:
    manifest = read_manifest(demo_seed)
    rows = read_rows(demo_seed)
    for fk in manifest.relations:
        holders = manifest.holders(fk.table)
        exercised = any(is_set(fk, row) for leaf in holders for row in rows[leaf])
        test = " AND ".join(f'"{c}" IS NOT NULL' for c in fk.columns)
        if fk.condition:
            test += f" AND ({fk.condition})"
        (in_source,) = run_sql(
            demo_db_url,
            f'SELECT EXISTS (SELECT 1 FROM "{fk.table.schema}"."{fk.table.name}" WHERE {test})',
        )[0]
        assert exercised == in_source, fk.describe()


def test_limit_holds_before_closure(demo_seed: Path) -> None:
    manifest = read_manifest(demo_seed)
    total = sum(t.rows for t in manifest.tables)
    assert all(t.rows >= 1 for t in manifest.tables)
    # Closure adds rows beyond the limit, but few: children prefer parents already chosen.
    assert total <= 1.5 * 100 * len(manifest.tables)


def test_same_source_gives_identical_bytes(
    demo_seed: Path, demo_db_url: str, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    export_seed(_settings(demo_db_url, again))
    assert snapshot(again) == snapshot(demo_seed)


def test_smaller_limit_and_table_limit(demo_db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    report = export_seed(
        _settings(demo_db_url, out, default_limit=5, table_limits={"route_analytics": 2})
    )
    by_table = {t.table.name: t for t in report.tables}
    assert by_table["route_analytics"].by_limit <= 2
    assert all(t.by_limit <= 5 for t in report.tables)
    assert dangling(out) == []


def test_include_brings_a_user_and_everything_that_hangs_off_them(
    demo_db_url: str, tmp_path: Path
) -> None:
    (user_id, items) = run_sql(
        demo_db_url,
        "SELECT creator_id, count(*) FROM content_items GROUP BY creator_id "
        "ORDER BY count(*) DESC, creator_id LIMIT 1",
    )[0]
    out = tmp_path / "seed"
    export_seed(
        _settings(demo_db_url, out, default_limit=3, include=(("users", f"id = '{user_id}'"),))
    )
    rows = read_rows(out)
    assert any(r["id"] == str(user_id) for r in rows[TableName("public", "users")])
    mine = [
        r for r in rows[TableName("public", "content_items")] if r["creator_id"] == str(user_id)
    ]
    assert len(mine) == items
    assert dangling(out) == []


def test_where_filters_the_starting_rows(demo_db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    report = export_seed(_settings(demo_db_url, out, where={"users": "NOT is_active"}))
    users = read_rows(out)[TableName("public", "users")]
    limited = {t.table.name: t for t in report.tables}["users"].by_limit
    assert limited > 0
    assert sum(1 for u in users if u["is_active"] == "f") >= limited


def test_where_matching_nothing_is_an_error(demo_db_url: str, tmp_path: Path) -> None:
    # Nothing references route_analytics_hourly, so no closure can fill it either.
    with pytest.raises(EmptySelection, match="route_analytics_hourly"):
        export_seed(
            _settings(demo_db_url, tmp_path / "s", where={"route_analytics_hourly": "false"})
        )


def test_where_matching_nothing_is_fine_when_closure_fills_the_table(
    demo_db_url: str, tmp_path: Path
) -> None:
    report = export_seed(_settings(demo_db_url, tmp_path / "s", where={"tags": "false"}))
    tags = {t.table.name: t for t in report.tables}["tags"]
    assert tags.by_limit == 0 and tags.by_closure > 0


def test_bad_where_is_reported_before_any_work(demo_db_url: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no_such_column"):
        export_seed(_settings(demo_db_url, tmp_path / "s", where={"users": "no_such_column > 1"}))


def test_failed_export_leaves_previous_fixtures_intact(
    demo_seed: Path, demo_db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "seed"
    export_seed(_settings(demo_db_url, out))
    before = snapshot(out)
    bad = VirtualRelation("content_tags", ("content_id",), "content_items", ("nope",))
    with pytest.raises(ConfigError):
        export_seed(_settings(demo_db_url, out, virtual_fks=(bad,)))
    with pytest.raises(EmptySelection):
        export_seed(_settings(demo_db_url, out, where={"route_analytics_hourly": "false"}))
    assert snapshot(out) == before
    assert sorted(p.name for p in out.parent.iterdir()) == ["seed"]


def test_export_works_for_a_role_that_may_only_select(
    demo_db_url: str, tmp_path: Path, demo_seed: Path
) -> None:
    run_sql(
        demo_db_url,
        "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'seed_reader') "
        "THEN CREATE ROLE seed_reader LOGIN; END IF; END $$; "
        "GRANT USAGE ON SCHEMA public TO seed_reader; "
        "GRANT SELECT ON ALL TABLES IN SCHEMA public TO seed_reader;",
    )
    out = tmp_path / "seed"
    export_seed(_settings(with_user(demo_db_url, "seed_reader"), out))
    assert snapshot(out) == snapshot(demo_seed)


def test_check_says_fresh_then_stale(
    demo_seed: Path, demo_db_template: str, make_database: Callable[..., str]
) -> None:
    url = make_database(template=demo_db_template)
    assert not check_fixtures(_settings(url, demo_seed)).is_stale
    run_sql(
        url, "ALTER TABLE users ADD COLUMN nickname text; CREATE TABLE extra (id int primary key)"
    )
    report = check_fixtures(_settings(url, demo_seed))
    assert report.is_stale
    assert TableName("public", "extra") in report.added
    assert any("nickname" in line for line in report.changed)


def test_unreachable_server_is_one_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConnectionFailed) as info:
        export_seed(_settings("postgresql://nobody@127.0.0.1:1/nowhere", tmp_path / "s"))
    assert "127.0.0.1:1" in info.value.message
    assert "--database-url" in info.value.hint


def test_round_trip_through_an_empty_app_database_is_lossless(
    demo_seed: Path, app_db_url: str, tmp_path: Path
) -> None:
    from genonaut.db.demo.seed_data_gen import import_seed, verify_seed

    report = import_seed(demo_seed, app_db_url)
    # The schema comes with its alembic_version row: that one is already there.
    already = {str(t.table): t.already_there for t in report.tables if t.already_there}
    assert already == {"alembic_version": 1}
    assert report.inserted == sum(t.rows for t in read_manifest(demo_seed).tables) - 1
    assert verify_seed(demo_seed, app_db_url).ok
    assert import_seed(demo_seed, app_db_url).inserted == 0
    back = tmp_path / "back"
    export_seed(_settings(app_db_url, back, default_limit=1_000_000))
    assert fixture_files(back) == fixture_files(demo_seed)


def test_export_reads_one_snapshot_while_the_source_changes(
    demo_db_template: str,
    make_database: Callable[..., str],
    tmp_path: Path,
) -> None:
    url = make_database(template=demo_db_template)
    (first_user,) = run_sql(url, "SELECT id FROM users ORDER BY id LIMIT 1")[0]

    def write_meanwhile(table: TableName, rows: int) -> None:
        if table.name == "users":
            # Committed by another session after the export's snapshot was taken: the first
            # content item of a chosen user, which the export would take if it could see it.
            run_sql(
                url,
                "INSERT INTO content_items_all (id, source_type, creator_id, title) "
                "VALUES (0, 'regular', %s, 'written during the export')",
                (first_user,),
            )

    out = tmp_path / "seed"
    export_seed(_settings(url, out), on_table=write_meanwhile)
    assert run_sql(url, "SELECT count(*) FROM content_items WHERE id = 0")[0][0] == 1
    items = read_rows(out)[TableName("public", "content_items")]
    assert "0" not in {r["id"] for r in items}
    again = tmp_path / "again"
    export_seed(_settings(url, again))
    assert "0" in {r["id"] for r in read_rows(again)[TableName("public", "content_items")]}


@pytest.mark.parametrize("limit", [100, 7])
def test_every_table_is_filled_to_its_limit_where_the_source_has_the_rows(
    demo_db_url: str, tmp_path: Path, limit: int
) -> None:
    report = export_seed(_settings(demo_db_url, tmp_path / "seed", default_limit=limit))
    short = []
    for t in report.tables:
        (count,) = run_sql(
            demo_db_url, f'SELECT count(*) FROM "{t.table.schema}"."{t.table.name}"'
        )[0]
        if t.by_limit != min(limit, count):
            short.append(f"{t.table}: {t.by_limit} by the limit, {count} in the source")
    assert short == []
    assert report.rows <= 1.5 * limit * len(report.tables), report.as_table()
