"""Every table comes out with its limit of rows where the source has them, at little closure.

Each schema here is built so that the rows whose parents are chosen are too few: children of
parents far down the key order, extension tables whose key is their foreign key, link tables
whose two parents must share a user, rows whose optional references are set or not.
"""

from __future__ import annotations

from pathlib import Path

from db_helpers import run_sql
from fixture_oracle import dangling, read_rows, snapshot

from genonaut.seed.commands.export import ExportReport, TableReport, export_seed
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import ExportSettings

EXTENSION = """
CREATE TABLE owners (id int PRIMARY KEY);
CREATE TABLE items (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES owners);
CREATE TABLE items_ext (item_id int PRIMARY KEY REFERENCES items, note text);
INSERT INTO owners SELECT generate_series(1, 100);
INSERT INTO items SELECT i, 1 + i % 100 FROM generate_series(1, 1000) i;
-- One item in three has an extension row.
INSERT INTO items_ext SELECT i, 'note ' || i FROM generate_series(3, 1000, 3) i;
ANALYZE;
"""

# Bookmark i and category i belong to user 1 + i % 500, so a user's categories are i and
# i + 500. Link rows must pair a bookmark and a category of one user: three pair bookmark i
# with category i, the others bookmark i with category i +- 500. With a limit of 20, users
# 1-20, bookmarks and categories 1-19 and 500 are chosen, and only three link rows have both.
SHARED_USER = """
CREATE TABLE users (id int PRIMARY KEY);
CREATE TABLE bookmarks (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users,
                        UNIQUE (id, user_id));
CREATE TABLE categories (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users,
                         UNIQUE (id, user_id));
CREATE TABLE members (bookmark_id int, category_id int, user_id int NOT NULL,
                      PRIMARY KEY (bookmark_id, category_id),
                      FOREIGN KEY (bookmark_id, user_id) REFERENCES bookmarks (id, user_id),
                      FOREIGN KEY (category_id, user_id) REFERENCES categories (id, user_id));
CREATE INDEX ON members (category_id, user_id);
INSERT INTO users SELECT generate_series(1, 500);
INSERT INTO bookmarks SELECT i, 1 + i % 500 FROM generate_series(1, 1000) i;
INSERT INTO categories SELECT i, 1 + i % 500 FROM generate_series(1, 1000) i;
INSERT INTO members SELECT i, i, 1 + i % 500 FROM generate_series(1, 3) i;
INSERT INTO members SELECT i, CASE WHEN i <= 500 THEN i + 500 ELSE i - 500 END, 1 + i % 500
  FROM generate_series(1, 1000) i;
ANALYZE;
"""

# Reports by authors far down the key order; most set an item or a reviewer that is not
# chosen either, a quarter of them (i % 4 = 0, i % 3 <> 0) set neither.
OPTIONAL = """
CREATE TABLE users (id int PRIMARY KEY);
CREATE TABLE items (id int PRIMARY KEY, owner_id int NOT NULL REFERENCES users);
CREATE TABLE reports (id int PRIMARY KEY, author_id int NOT NULL REFERENCES users,
                      item_id int REFERENCES items, reviewer_id int REFERENCES users);
CREATE INDEX ON reports (author_id);
INSERT INTO users SELECT generate_series(1, 300);
INSERT INTO items SELECT i, i FROM generate_series(1, 300) i;
INSERT INTO reports SELECT i, 200 + i % 100,
  CASE WHEN i % 4 <> 0 THEN 100 + i % 200 END,
  CASE WHEN i % 3 = 0 THEN 100 + i % 50 END
  FROM generate_series(1, 600) i;
ANALYZE;
"""

# Every vote is by a person and on a topic far down the key order.
FAR_ON_BOTH_SIDES = """
CREATE TABLE people (id int PRIMARY KEY);
CREATE TABLE topics (id int PRIMARY KEY);
CREATE TABLE votes (person_id int NOT NULL REFERENCES people,
                    topic_id int NOT NULL REFERENCES topics, PRIMARY KEY (person_id, topic_id));
CREATE INDEX ON votes (topic_id);
INSERT INTO people SELECT generate_series(1, 200);
INSERT INTO topics SELECT generate_series(1, 200);
INSERT INTO votes SELECT p, t FROM generate_series(150, 159) p, generate_series(150, 159) t;
ANALYZE;
"""


def _export(url: str, out: Path, **changes: object) -> dict[str, TableReport]:
    report: ExportReport = export_seed(ExportSettings(url, out).merged(**changes))
    return {t.table.name: t for t in report.tables}


def _ids(out: Path, table: str, column: str) -> set[int]:
    return {int(str(r[column])) for r in read_rows(out)[TableName("public", table)]}


def test_extension_table_whose_key_is_its_foreign_key_is_filled(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, EXTENSION)
    out = tmp_path / "seed"
    by_table = _export(empty_db_url, out, default_limit=10)
    # The first ten items of the first ten owners: 1-9 and 100; only 3, 6 and 9 have an
    # extension row. Those come first, seven more bring their item (and its owner) along.
    ext = _ids(out, "items_ext", "item_id")
    assert by_table["items_ext"].by_limit == 10
    assert {3, 6, 9} <= ext
    assert by_table["items"].by_closure == 7
    assert dangling(out) == []


def test_extension_table_is_filled_with_rows_its_where_allows(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, EXTENSION)
    out = tmp_path / "seed"
    by_table = _export(empty_db_url, out, default_limit=10, where={"items_ext": "item_id > 990"})
    # Three rows match (993, 996, 999): all of them, and none that the condition excludes.
    assert _ids(out, "items_ext", "item_id") == {993, 996, 999}
    assert by_table["items_ext"].by_limit == 3
    assert dangling(out) == []


def test_link_table_whose_parents_share_a_user_is_filled_with_one_new_parent_a_row(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, SHARED_USER)
    out = tmp_path / "seed"
    by_table = _export(empty_db_url, out, default_limit=20)
    assert by_table["members"].by_limit == 20
    assert {(1, 1), (2, 2), (3, 3)} <= {
        (int(str(r["bookmark_id"])), int(str(r["category_id"])))
        for r in read_rows(out)[TableName("public", "members")]
    }
    # The other 17 have their bookmark or their category chosen already and need the other.
    assert by_table["bookmarks"].by_closure + by_table["categories"].by_closure == 17
    assert dangling(out) == []
    again = tmp_path / "again"
    _export(empty_db_url, again, default_limit=20)
    assert snapshot(again) == snapshot(out)


def test_rows_that_leave_optional_references_unset_come_before_rows_that_need_more(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, OPTIONAL)
    out = tmp_path / "seed"
    by_table = _export(empty_db_url, out, default_limit=10)
    assert by_table["reports"].by_limit == 10
    reports = read_rows(out)[TableName("public", "reports")]
    with_optional = [r for r in reports if r["item_id"] is not None or r["reviewer_id"] is not None]
    # One row for each optional relation, so that tests can follow it (the reviewer's row
    # sets both); the other eight need only their author, and share two: 200 has the rows
    # 100, 200, 400, 500 that set neither, 204 has 4, 104, 304, 404.
    assert len(with_optional) == 2
    assert any(r["item_id"] for r in with_optional) and any(r["reviewer_id"] for r in with_optional)
    assert {r["author_id"] for r in reports if r not in with_optional} == {"200", "204"}
    assert dangling(out) == []


def test_link_table_far_down_the_keys_on_both_sides_is_filled(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, FAR_ON_BOTH_SIDES)
    out = tmp_path / "seed"
    by_table = _export(empty_db_url, out, default_limit=10)
    # No vote has a chosen person or topic: ten votes of one person, eleven new parents.
    assert by_table["votes"].by_limit == 10
    assert by_table["people"].by_closure + by_table["topics"].by_closure == 11
    assert dangling(out) == []


def test_filling_a_hundred_rows_takes_no_more_statements_than_ten(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, SHARED_USER + EXTENSION)
    statements = []
    for limit in (10, 100):
        report = export_seed(
            ExportSettings(empty_db_url, tmp_path / str(limit), default_limit=limit)
        )
        assert {t.by_limit for t in report.tables} == {limit}
        statements.append(report.statements)
    # Ten times the rows, not one statement more (at 100 every owner is
    # chosen before an extension row needs one, so the closure asks one statement less).
    assert statements[1] <= statements[0]
