"""`make reset-test-db` (import_seed_to_test --reset): a changed test database back to the seed."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import invoke_assert_code
from db_helpers import run_sql
from import_fixtures import Spec, write_fixture

from genonaut.seed.core.settings import DEFAULT_OUTPUT_DIR
from genonaut.seed.engines.postgres.load_errors import RESET_HINT
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.reset import reset_to_seed, seed_state
from genonaut.seed.errors import LoadFailed

SEED = Path(__file__).resolve().parents[2] / DEFAULT_OUTPUT_DIR
SCRIPT = "import_seed_to_test"


def _snapshot(url: str) -> list[tuple[object, ...]]:
    return run_sql(
        url,
        "SELECT 'users', id::text, username FROM users UNION ALL "
        "SELECT 'tags', id::text, name FROM tags UNION ALL "
        "SELECT 'tag_ratings', user_id::text || tag_id::text, rating::text FROM tag_ratings "
        "ORDER BY 1, 2",
    )


def test_reset_restores_edited_deleted_and_added_rows(seeded_db: str) -> None:
    # seeded_db: a copy of the plugin's template, which holds the committed seed
    seeded = _snapshot(seeded_db)
    run_sql(
        seeded_db,
        "UPDATE users SET username = 'edited' "
        "WHERE id = (SELECT id FROM users ORDER BY id LIMIT 1);"
        "DELETE FROM tag_ratings WHERE ctid = (SELECT min(ctid) FROM tag_ratings);"
        "INSERT INTO tags (id, name) VALUES (gen_random_uuid(), 'added by a test')",
    )
    assert _snapshot(seeded_db) != seeded
    changed = {s.table.name for s in seed_state(SEED, seeded_db) if not s.is_seed}
    assert changed == {"users", "tags", "tag_ratings"}

    out = invoke_assert_code(0, SCRIPT, "--database-url", seeded_db, "--reset").stdout
    assert "verify: OK" in out
    # The tables that differed are listed with what differed.
    assert "3 of 28 tables differed from the seed" in out
    assert "tag_ratings" in out and "users" in out
    assert _snapshot(seeded_db) == seeded
    assert all(s.is_seed for s in seed_state(SEED, seeded_db))

    # A second run finds the seed and writes nothing.
    before = run_sql(seeded_db, "SELECT sum(n_tup_ins + n_tup_del) FROM pg_stat_user_tables")
    out = invoke_assert_code(0, SCRIPT, "--database-url", seeded_db, "--reset").stdout
    assert "already holds exactly the seed" in out and "nothing changed" in out
    assert reset_to_seed(SEED, seeded_db).changed is False
    after = run_sql(seeded_db, "SELECT sum(n_tup_ins + n_tup_del) FROM pg_stat_user_tables")
    assert after == before


def test_reset_names_referencing_tables_and_asks_for_cascade(seeded_db: str) -> None:
    # seeded_db: a copy of the plugin's template, which holds the committed seed
    run_sql(
        seeded_db,
        "CREATE TABLE app_notes (id int PRIMARY KEY, user_id uuid REFERENCES users);"
        "INSERT INTO app_notes SELECT 1, id FROM users ORDER BY id LIMIT 1;"
        "DELETE FROM user_notifications",
    )
    err = invoke_assert_code(2, SCRIPT, "--database-url", seeded_db, "--reset").stderr
    assert "app_notes" in err and "--cascade" in err
    assert run_sql(seeded_db, "SELECT count(*) FROM app_notes") == [(1,)]

    invoke_assert_code(0, SCRIPT, "--database-url", seeded_db, "--reset", "--cascade")
    assert run_sql(seeded_db, "SELECT count(*) FROM app_notes") == [(0,)]
    assert all(s.is_seed for s in seed_state(SEED, seeded_db))


def test_a_missing_row_in_a_changed_target_points_at_reset(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(
        empty_db_url,
        "CREATE TABLE parent (id int PRIMARY KEY, code text UNIQUE NOT NULL);"
        "CREATE TABLE child (id int PRIMARY KEY, code text REFERENCES parent (code))",
    )
    spec: Spec = {
        "parent": (("id", "code"), [("1", "a")]),
        "child": (("id", "code"), [("1", "a")]),
    }
    seed = write_fixture(tmp_path / "seed", spec, relations=(), partitions={})
    import_seed(seed, empty_db_url)
    # A test changed the parent's unique code: the parent row is "already there" by id.
    run_sql(empty_db_url, "DELETE FROM child; UPDATE parent SET code = 'z'")
    with pytest.raises(LoadFailed) as raised:
        import_seed(seed, empty_db_url)
    assert "references a missing row" in raised.value.message
    assert raised.value.hint.startswith(RESET_HINT)
    assert "make reset-test-db" in raised.value.hint
    assert reset_to_seed(seed, empty_db_url).changed
    assert run_sql(empty_db_url, "SELECT code FROM parent UNION ALL SELECT code FROM child") == [
        ("a",),
        ("a",),
    ]
