"""The exporter on a schema built to be awkward: cycles, composite keys, partitions, odd types."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from db_helpers import run_sql
from fixture_oracle import dangling, fixture_files, read_rows, snapshot

from genonaut.seed.commands.export import export_seed
from genonaut.seed.core.fixture_format import read_manifest
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import ExportSettings, VirtualRelation
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed

HARD_SCHEMA = """
CREATE SCHEMA ops;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE TABLE owners (id int PRIMARY KEY, name text NOT NULL);
-- A cycle whose foreign keys are all NOT NULL: one is DEFERRABLE, as it must be to load it.
CREATE TABLE teams (id int PRIMARY KEY, captain_id int NOT NULL);
CREATE TABLE players (id int PRIMARY KEY, team_id int NOT NULL REFERENCES teams,
                      mentor_id int REFERENCES players);
ALTER TABLE teams ADD FOREIGN KEY (captain_id) REFERENCES players DEFERRABLE INITIALLY DEFERRED;
-- Composite foreign keys to UNIQUE keys that are not primary keys, sharing a column.
CREATE TABLE folders (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES owners,
                      parent_id int REFERENCES folders, UNIQUE (id, owner_id));
CREATE TABLE notes (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES owners,
                    UNIQUE (id, owner_id));
CREATE TABLE filed (note_id int, folder_id int, owner_id int NOT NULL,
                    PRIMARY KEY (note_id, folder_id),
                    FOREIGN KEY (note_id, owner_id) REFERENCES notes (id, owner_id),
                    FOREIGN KEY (folder_id, owner_id) REFERENCES folders (id, owner_id));
-- Two-level partitions, referenced through the top parent.
CREATE TABLE events (id int, kind text, region text, owner_id int REFERENCES owners,
                     PRIMARY KEY (id, kind, region)) PARTITION BY LIST (kind);
CREATE TABLE events_a PARTITION OF events FOR VALUES IN ('a') PARTITION BY LIST (region);
CREATE TABLE events_a_eu PARTITION OF events_a FOR VALUES IN ('eu');
CREATE TABLE events_a_us PARTITION OF events_a FOR VALUES IN ('us');
CREATE TABLE events_b PARTITION OF events FOR VALUES IN ('b');
CREATE TABLE reactions (id int PRIMARY KEY, event_id int, event_kind text, event_region text,
                        FOREIGN KEY (event_id, event_kind, event_region) REFERENCES events);
-- No primary key, a json column (no equality operator), odd types, a cross-schema reference.
CREATE TABLE ops.audit (at timestamptz NOT NULL, owner_id int REFERENCES owners, doc json,
                        blob bytea, feeling mood, span int4range, tags text[]);
-- Identity and generated columns.
CREATE TABLE counters (id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY, n int NOT NULL,
                       twice int GENERATED ALWAYS AS (n * 2) STORED);
-- A relation no constraint declares, keyed by a discriminator.
CREATE TABLE likes (id int PRIMARY KEY, target_kind text NOT NULL, target_id int NOT NULL);
"""

HARD_DATA = """
INSERT INTO owners SELECT i, 'owner ' || i FROM generate_series(1, 300) i;
BEGIN;
INSERT INTO teams SELECT i, 1000 + i FROM generate_series(1, 150) i;
INSERT INTO players SELECT 1000 + i, 1 + (i % 150), CASE WHEN i > 1 THEN 1000 + i - 1 END
  FROM generate_series(1, 400) i;
COMMIT;
INSERT INTO folders SELECT i, 1 + i % 300, CASE WHEN i > 1 THEN i - 1 END
  FROM generate_series(1, 250) i;
INSERT INTO notes SELECT i, 1 + (i * 7) % 300 FROM generate_series(1, 250) i;
INSERT INTO filed SELECT n.id, f.id, n.owner_id FROM notes n JOIN folders f USING (owner_id);
INSERT INTO events SELECT i, CASE WHEN i % 2 = 0 THEN 'a' ELSE 'b' END,
  CASE WHEN i % 3 = 0 THEN 'eu' ELSE 'us' END, 300 - i % 300 FROM generate_series(1, 900) i;
INSERT INTO reactions SELECT i, e.id, e.kind, e.region
  FROM generate_series(1, 500) i JOIN events e ON e.id = 901 - i;
INSERT INTO ops.audit SELECT '2024-01-01'::timestamptz + i * interval '1 hour',
  CASE WHEN i % 4 <> 0 THEN 300 - i END,
  json_build_object('i', i, 'tab', E'a\\tb'), decode(md5(i::text), 'hex'),
  (ARRAY['sad', 'ok', 'happy'])[1 + i % 3]::mood, int4range(i, i + 5),
  ARRAY['x' || i, NULL, E'quote"and\\\\backslash']
  FROM generate_series(1, 250) i;
INSERT INTO ops.audit SELECT * FROM ops.audit WHERE owner_id = 299;
INSERT INTO counters (n) SELECT i FROM generate_series(1, 120) i;
INSERT INTO likes SELECT i, CASE WHEN i % 2 = 0 THEN 'note' ELSE 'folder' END, 251 - i
  FROM generate_series(1, 260) i;
ANALYZE;
"""

LIKES = (
    VirtualRelation("likes", ("target_id",), "notes", ("id",), "target_kind = 'note'"),
    VirtualRelation("likes", ("target_id",), "folders", ("id",), "target_kind = 'folder'"),
)


@pytest.fixture
def hard_db(empty_db_url: str) -> str:
    run_sql(empty_db_url, HARD_SCHEMA)
    run_sql(empty_db_url, HARD_DATA)
    return empty_db_url


def _export(url: str, out: Path, **changes: object) -> list[str]:
    settings = ExportSettings(url, out, virtual_fks=LIKES).merged(**changes)
    return export_seed(settings).notes


def test_hard_schema_is_closed_and_deterministic(hard_db: str, tmp_path: Path) -> None:
    _export(hard_db, tmp_path / "one")
    _export(hard_db, tmp_path / "two")
    assert snapshot(tmp_path / "one") == snapshot(tmp_path / "two")
    assert dangling(tmp_path / "one") == []


def test_rows_whose_virtual_reference_matches_nothing_are_left_out_and_named(
    hard_db: str, tmp_path: Path
) -> None:
    out = tmp_path / "seed"
    # likes.target_id is 251 - i for i up to 260: ten rows point at ids that do not exist.
    notes = _export(hard_db, out, include=(("likes", "target_id <= 2"),))
    assert any("likes" in n and "matches no row" in n for n in notes)
    assert {r["target_id"] for r in read_rows(out)[TableName("public", "likes")]} >= {"1", "2"}
    assert dangling(out) == []


def test_partition_leaves_get_files_at_every_level(hard_db: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    _export(hard_db, out)
    names = {p.name for p in out.iterdir()}
    assert {"events_a_eu.tsv", "events_a_us.tsv", "events_b.tsv"} <= names
    assert not {"events.tsv", "events_a.tsv"} & names
    manifest = read_manifest(out)
    assert manifest.table(TableName("public", "events_a_eu")).partition_of == TableName(
        "public", "events_a"
    )


def test_self_reference_chain_is_followed_to_its_root(hard_db: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    _export(hard_db, out, default_limit=3)
    players = read_rows(out)[TableName("public", "players")]
    ids = {p["id"] for p in players}
    assert {p["mentor_id"] for p in players if p["mentor_id"]} <= ids
    # The chain of mentors runs from each chosen player down to player 1001.
    assert "1001" in ids


def test_cycle_with_not_null_references_is_closed(hard_db: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    _export(hard_db, out, default_limit=2)
    rows = read_rows(out)
    teams = rows[TableName("public", "teams")]
    players = {p["id"]: p for p in rows[TableName("public", "players")]}
    assert all(t["captain_id"] in players for t in teams)
    assert {p["team_id"] for p in players.values()} <= {t["id"] for t in teams}


def test_table_without_primary_key_keeps_duplicates_and_types(hard_db: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    # With every owner chosen, every audit row points at chosen rows and can be taken.
    _export(hard_db, out, table_limits={"ops.audit": 300, "owners": 300})
    lines = (out / "ops.audit.tsv").read_text().splitlines()
    assert lines[0] == "at\towner_id\tdoc\tblob\tfeeling\tspan\ttags"
    assert len(lines) - 1 == 251  # every row, the duplicated one twice
    assert len(set(lines[1:])) == 250
    sample = next(line for line in lines if line.startswith("2024-01-01 01:00:00+00\t"))
    assert sample == (
        '2024-01-01 01:00:00+00\t299\t{"i" : 1, "tab" : "a\\\\tb"}\t'
        "\\\\xc4ca4238a0b923820dcc509a6f75849b\tok\t[1,6)\t"
        '{x1,NULL,"quote\\\\"and\\\\\\\\backslash"}'
    )


def test_generated_column_left_out_identity_kept(hard_db: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    _export(hard_db, out)
    assert (out / "counters.tsv").read_text().splitlines()[0] == "id\tn"


def test_composite_references_to_unique_keys(hard_db: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    _export(hard_db, out, default_limit=5)
    rows = read_rows(out)
    filed = rows[TableName("public", "filed")]
    assert filed
    notes = {(n["id"], n["owner_id"]) for n in rows[TableName("public", "notes")]}
    folders = {(f["id"], f["owner_id"]) for f in rows[TableName("public", "folders")]}
    for row in filed:
        assert (row["note_id"], row["owner_id"]) in notes
        assert (row["folder_id"], row["owner_id"]) in folders


def test_conditional_relations_each_have_a_row(hard_db: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    _export(hard_db, out, default_limit=2)
    kinds = {r["target_kind"] for r in read_rows(out)[TableName("public", "likes")]}
    assert kinds == {"note", "folder"}


def test_a_deep_self_reference_costs_one_statement_not_one_per_level(
    hard_db: str, tmp_path: Path
) -> None:
    plain = export_seed(ExportSettings(hard_db, tmp_path / "plain", virtual_fks=LIKES))
    # Player 1400's chain of mentors runs 399 levels down to player 1001 ...
    up = export_seed(
        ExportSettings(hard_db, tmp_path / "up", virtual_fks=LIKES).merged(
            include=(("players", "id = 1400"),)
        )
    )
    # ... and player 1001 is the mentor of the mentor ... of every other player.
    down = export_seed(
        ExportSettings(hard_db, tmp_path / "down", virtual_fks=LIKES).merged(
            include=(("players", "id = 1001"),)
        )
    )
    every = {str(i) for i in range(1001, 1401)}
    for name in ("up", "down"):
        players = read_rows(tmp_path / name)[TableName("public", "players")]
        assert every <= {p["id"] for p in players}, name
        assert dangling(tmp_path / name) == [], name
    # An include costs a few statements of its own (checking its condition, following it down,
    # closing over what it brings), whatever the depth: one per level would add about 400.
    assert up.statements <= plain.statements + 5
    assert down.statements <= plain.statements + 20


ODD_NAMES = """
CREATE SCHEMA "My Schema";
CREATE TYPE "My Schema"."Mood" AS ENUM ('a b', 'c');
CREATE TABLE "My Schema"."Parent Table" ("Id Col" int PRIMARY KEY, "odd""name" text,
                                         m "My Schema"."Mood", "tab\tcol" text);
CREATE TABLE "Child" (id serial PRIMARY KEY, "Parent Ref" int REFERENCES "My Schema"."Parent Table",
                      note text);
"""
ODD_ROWS = """
INSERT INTO "My Schema"."Parent Table"
  SELECT i, 'x' || i || E'\\t"q"', 'a b', E'\\\\back' FROM generate_series(1, 150) i;
INSERT INTO "Child" ("Parent Ref", note)
  SELECT 151 - i, E'line\\nbreak %s %% ' || i FROM generate_series(1, 150) i;
"""


def test_quoted_names_odd_values_and_percent_signs_round_trip(
    empty_db_url: str, make_database: Callable[..., str], tmp_path: Path
) -> None:
    run_sql(empty_db_url, ODD_NAMES + ODD_ROWS)
    seed = tmp_path / "seed"
    export_seed(ExportSettings(empty_db_url, seed, where={"Child": "note LIKE '%1%'"}))
    assert (seed / "My Schema.Parent Table.tsv").read_text().splitlines()[0] == (
        'Id Col\todd"name\tm\ttab\\tcol'
    )
    target = make_database()
    run_sql(target, ODD_NAMES)
    assert import_seed(seed, target).inserted > 0
    assert verify_seed(seed, target).ok
    back = tmp_path / "back"
    export_seed(ExportSettings(target, back, default_limit=1000))
    assert fixture_files(back) == fixture_files(seed)


def test_too_few_rows_with_chosen_parents_are_topped_up_with_few_new_parents(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(
        empty_db_url,
        """
        CREATE TABLE people (id int PRIMARY KEY);
        CREATE TABLE topics (id int PRIMARY KEY);
        CREATE TABLE votes (person_id int NOT NULL REFERENCES people,
                            topic_id int NOT NULL REFERENCES topics,
                            PRIMARY KEY (person_id, topic_id));
        INSERT INTO people SELECT generate_series(1, 200);
        INSERT INTO topics SELECT generate_series(1, 200);
        -- Six votes among the first people and topics, the rest by people far down the keys.
        INSERT INTO votes SELECT p, t FROM generate_series(1, 3) p, generate_series(1, 2) t;
        INSERT INTO votes SELECT p, t FROM generate_series(150, 160) p, generate_series(1, 10) t;
        """,
    )
    out = tmp_path / "seed"
    report = export_seed(ExportSettings(empty_db_url, out, default_limit=20))
    by_table = {t.table.name: t for t in report.tables}
    # 6 votes need no new parent; 14 more come from two people (10 + 4 votes): two new
    # parents, well within the budget of twice the limit.
    assert by_table["votes"].rows == 20
    assert by_table["people"].by_closure == 2
    assert dangling(out) == []
