"""The exporter on schemas nobody here designed: odd names, odd key types, odd relations."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from db_helpers import run_sql
from fixture_oracle import dangling, read_rows, snapshot

from genonaut.seed.commands.export import export_seed
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import ExportSettings
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed
from genonaut.seed.errors import ConfigError, FixtureError

PERCENT_NAMES = """
CREATE SCHEMA "50% off";
CREATE TABLE "50% off"."100%" ("id%" int PRIMARY KEY, "na%me" text);
CREATE TABLE "kid %s" (id int PRIMARY KEY, "p%(x)s" int NOT NULL REFERENCES "50% off"."100%",
                       up int REFERENCES "kid %s");
"""
PERCENT_ROWS = """
INSERT INTO "50% off"."100%" SELECT i, 'x%' || i FROM generate_series(1, 40) i;
INSERT INTO "kid %s" SELECT i, 41 - i, NULLIF(i - 1, 0) FROM generate_series(1, 40) i;
"""


def test_percent_signs_in_table_and_column_names(
    empty_db_url: str, make_database: Callable[..., str], tmp_path: Path
) -> None:
    run_sql(empty_db_url, PERCENT_NAMES + PERCENT_ROWS)
    seed = tmp_path / "seed"
    export_seed(ExportSettings(empty_db_url, seed, default_limit=5, where={"kid %s": "id > 30"}))
    rows = read_rows(seed)
    assert len(rows[TableName("public", "kid %s")]) >= 5
    assert (seed / "50%25 off.100%25.tsv").read_text().splitlines()[0] == "id%\tna%me"
    assert dangling(seed) == []
    target = make_database()
    run_sql(target, PERCENT_NAMES)
    assert import_seed(seed, target).inserted > 0
    assert verify_seed(seed, target).ok


KEY_TYPES = """
CREATE TABLE prices (amount numeric(10, 2) PRIMARY KEY, label text);
CREATE TABLE codes (code char(6) PRIMARY KEY);
CREATE TABLE orders (id int PRIMARY KEY,
                     amount int NOT NULL REFERENCES prices,
                     code varchar(6) REFERENCES codes,
                     tip smallint REFERENCES prices);
"""
KEY_ROWS = """
INSERT INTO prices SELECT i, 'p' || i FROM generate_series(1, 50) i;
INSERT INTO codes SELECT 'c' || i FROM generate_series(1, 50) i;
INSERT INTO orders SELECT i, 51 - i, 'c' || (51 - i), CASE WHEN i % 7 = 0 THEN i END
  FROM generate_series(1, 50) i;
"""


def test_references_whose_type_differs_from_the_key(
    empty_db_url: str, make_database: Callable[..., str], tmp_path: Path
) -> None:
    """An int column may reference a numeric(10,2) key: 1 = 1.00, though the text differs."""
    run_sql(empty_db_url, KEY_TYPES + KEY_ROWS)
    seed = tmp_path / "seed"
    report = export_seed(ExportSettings(empty_db_url, seed, default_limit=5))
    assert report.notes == []
    rows = read_rows(seed)
    orders = rows[TableName("public", "orders")]
    assert orders
    assert any(o["tip"] is not None for o in orders)
    # Rows were picked because their parents were chosen, not pulled in as strangers.
    assert len(rows[TableName("public", "prices")]) <= 5 + len(orders)
    assert dangling(seed) == []
    # The target's constraints judge too: every row loads, so every reference holds.
    target = make_database()
    run_sql(target, KEY_TYPES)
    assert import_seed(seed, target).inserted == report.rows
    # And verification, which compares keys in the database, finds no orphan.
    assert verify_seed(seed, target).ok


def test_include_on_a_table_left_out_is_a_clear_error(hard_two: str, tmp_path: Path) -> None:
    for changes in (
        {"exclude": ("b",), "include": (("b", "id = 1"),)},
        {"tables": ("a",), "include": (("b", "id = 1"),)},
    ):
        with pytest.raises(ConfigError, match="--include names b"):
            export_seed(ExportSettings(hard_two, tmp_path / "seed").merged(**changes))
    assert not (tmp_path / "seed").exists()


@pytest.fixture
def hard_two(empty_db_url: str) -> str:
    run_sql(
        empty_db_url,
        "CREATE TABLE a (id int PRIMARY KEY); CREATE TABLE b (id int PRIMARY KEY);"
        "INSERT INTO a VALUES (1); INSERT INTO b VALUES (1);",
    )
    return empty_db_url


TWO_SELF_REFERENCES = """
CREATE TABLE staff (id int PRIMARY KEY, boss int REFERENCES staff, mentor int REFERENCES staff,
                    doc json);
INSERT INTO staff SELECT i, NULLIF(i - 1, 0), CASE WHEN i % 2 = 0 THEN i - 1 END,
  json_build_object('i', i) FROM generate_series(1, 600) i;
ANALYZE;
"""


def test_two_self_references_to_one_key_are_walked_in_one_statement(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, TWO_SELF_REFERENCES)
    plain = export_seed(ExportSettings(empty_db_url, tmp_path / "plain", default_limit=5))
    # Rows 596..600: their chain of bosses runs 595 levels down to row 1.
    deep = export_seed(
        ExportSettings(
            empty_db_url, tmp_path / "deep", default_limit=5, where={"staff": "id > 595"}
        )
    )
    staff = read_rows(tmp_path / "deep")[TableName("public", "staff")]
    assert {s["id"] for s in staff} == {str(i) for i in range(1, 601)}
    assert dangling(tmp_path / "deep") == []
    assert deep.statements <= plain.statements + 5
    export_seed(
        ExportSettings(
            empty_db_url, tmp_path / "again", default_limit=5, where={"staff": "id > 595"}
        )
    )
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "deep")


def test_export_refuses_to_replace_a_directory_it_did_not_write(
    hard_two: str, tmp_path: Path
) -> None:
    precious = tmp_path / "home"
    precious.mkdir()
    (precious / "thesis.txt").write_text("years of work")
    with pytest.raises(FixtureError, match=r"no manifest\.json"):
        export_seed(ExportSettings(hard_two, precious))
    assert (precious / "thesis.txt").read_text() == "years of work"
    # An empty directory, and one the exporter wrote, are replaced.
    seed = tmp_path / "seed"
    seed.mkdir()
    export_seed(ExportSettings(hard_two, seed))
    (seed / "dropped_table.tsv").write_text("id\n1\n")
    export_seed(ExportSettings(hard_two, seed))
    assert sorted(p.name for p in seed.iterdir()) == ["SEED.md", "a.tsv", "b.tsv", "manifest.json"]
