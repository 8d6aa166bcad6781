"""The committed fixtures fit the app's schema: they load, verify, and keep sequences ahead."""

from __future__ import annotations

from pathlib import Path

from db_helpers import run_sql

from genonaut.db.demo.seed_data_gen import check_fixtures, import_seed, verify_seed
from genonaut.seed.core.fixture_format import read_manifest
from genonaut.seed.core.settings import (
    DEFAULT_CONFIG,
    DEFAULT_OUTPUT_DIR,
    ExportSettings,
    apply_config,
    load_config,
)

REPO = Path(__file__).resolve().parents[2]
SEED = REPO / DEFAULT_OUTPUT_DIR


def test_committed_fixtures_match_the_app_schema(app_db_url: str) -> None:
    settings = ExportSettings(app_db_url, SEED)
    config = REPO / DEFAULT_CONFIG
    settings = apply_config(settings, load_config(config), str(config))
    report = check_fixtures(settings)
    assert not report.is_stale, report.as_text(SEED)


def test_committed_fixtures_load_verify_and_load_again(app_db_url: str) -> None:
    manifest = read_manifest(SEED)
    first = import_seed(SEED, app_db_url, truncate_first=True)
    assert first.inserted == sum(t.rows for t in manifest.tables)
    assert verify_seed(SEED, app_db_url).ok
    assert import_seed(SEED, app_db_url).inserted == 0


def test_the_app_can_insert_after_the_seed(seeded_db: str) -> None:
    # The plugin's template holds the committed seed, loaded and verified once per session.
    (user_id,) = run_sql(seeded_db, "SELECT id FROM users ORDER BY id LIMIT 1")[0]
    (job_id,) = run_sql(
        seeded_db,
        "INSERT INTO generation_jobs (user_id) VALUES (%s) RETURNING id",
        (user_id,),
    )[0]
    assert (
        job_id
        > run_sql(seeded_db, "SELECT max(id) FROM generation_jobs WHERE id <> %s", (job_id,))[0][0]
    )
    (content_id,) = run_sql(
        seeded_db,
        "INSERT INTO content_items_all (source_type, creator_id, title) "
        "VALUES ('auto', %s, 'new') RETURNING id",
        (user_id,),
    )[0]
    (largest,) = run_sql(
        seeded_db, "SELECT max(id) FROM content_items_all WHERE id <> %s", (content_id,)
    )[0]
    assert content_id > largest
