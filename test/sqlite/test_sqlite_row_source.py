"""SQLite's answers to the selection's row questions agree with the in-memory ones: the same
decisions over the same rows choose the same rows, in few statements; and SQLite's own
foreign-key check accepts what they choose."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from memory_rows import MemoryRows, Predicate
from sqlite_helpers import url_of
from sqlite_selection import chosen, load_selection, rows_as_text

from genonaut.seed.core.fixture_format import decode_field
from genonaut.seed.core.picks import projection_of
from genonaut.seed.core.row_source import (
    KEY_ORDER,
    Filter,
    Find,
    RefersTo,
    Start,
    Step,
    WalkSelf,
    Where,
)
from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, ForeignKey, Schema, TableName
from genonaut.seed.core.selection import plan_selection
from genonaut.seed.core.sql_fragment import check_condition
from genonaut.seed.engines.sqlite.catalog import Catalog, read_catalog
from genonaut.seed.engines.sqlite.connection import Session, session
from genonaut.seed.engines.sqlite.dump import dump_bytes
from genonaut.seed.engines.sqlite.row_source import SQLiteRows
from genonaut.seed.errors import UnknownColumn

MakeDb = Callable[..., Path]

# Parents far down the key order, optional references set only late, a chain of managers, a
# link table with a composite key, a two-table cycle, a table without a primary key (rowids
# from 0, in the order of its columns, as `MemoryRows` numbers it), a WITHOUT ROWID table
# with a composite text key: every step of the plan has work to do.
SCHEMA = """
CREATE TABLE users (id INTEGER PRIMARY KEY, manager_id INTEGER REFERENCES users);
CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users,
                    editor_id INTEGER REFERENCES users);
CREATE TABLE likes (post_id INTEGER REFERENCES posts, user_id INTEGER REFERENCES users,
                    PRIMARY KEY (post_id, user_id));
CREATE TABLE team (id INTEGER PRIMARY KEY, captain_id INTEGER REFERENCES player);
CREATE TABLE player (id INTEGER PRIMARY KEY, team_id INTEGER NOT NULL REFERENCES team);
CREATE TABLE visits (user_id INTEGER NOT NULL REFERENCES users, post_id INTEGER REFERENCES posts,
                     day INTEGER);
CREATE TABLE region (country TEXT, code TEXT, name TEXT NOT NULL,
                     PRIMARY KEY (country, code)) WITHOUT ROWID;
CREATE TABLE office (id INTEGER PRIMARY KEY, country TEXT NOT NULL, code TEXT NOT NULL,
                     head_id INTEGER REFERENCES users,
                     FOREIGN KEY (country, code) REFERENCES region);
CREATE TABLE notes (id INTEGER PRIMARY KEY, kind TEXT NOT NULL, target_id INTEGER);
CREATE INDEX posts_user ON posts (user_id);
CREATE INDEX office_region ON office (country, code);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
INSERT INTO users SELECT i, CASE WHEN i > 1 THEN i - 1 END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
INSERT INTO posts SELECT i, 61 - i, CASE WHEN i % 17 = 0 THEN 60 - i % 7 END FROM n;
WITH RECURSIVE p(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM p WHERE i < 50),
               u(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM u WHERE i < 60)
INSERT INTO likes SELECT p.i, u.i FROM p, u WHERE (p.i * 7 + u.i * 3) % 11 = 0;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO team SELECT i, CASE WHEN i % 2 = 1 THEN 41 - i END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 40)
INSERT INTO player SELECT i, (i * 7) % 20 + 1 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 45),
     v(u, p, d) AS (SELECT 61 - (i * 13) % 60, CASE WHEN i % 4 > 0 THEN 51 - i END, i % 5
                    FROM n)
INSERT INTO visits (rowid, user_id, post_id, day)
SELECT row_number() OVER (ORDER BY u, p IS NULL, p, d) - 1, u, p, d FROM v;
WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 11)
INSERT INTO region SELECT substr('defritnlesbe', 2 * (i / 2) + 1, 2),
                          substr('aabbcc', 2 * (i % 3) + 1, 2), 'region ' || i FROM n
                   WHERE 1 ON CONFLICT DO NOTHING;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO office SELECT i, r.country, r.code, CASE WHEN i > 25 THEN 60 - i END
FROM n JOIN (SELECT country, code, row_number() OVER (ORDER BY country DESC, code DESC) AS k
             FROM region) AS r ON r.k = 1 + i % 5;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO notes SELECT i, CASE WHEN i % 3 = 0 THEN 'post' ELSE 'user' END, 51 - i FROM n;
"""


def _t(name: str) -> TableName:
    return TableName(DEFAULT_SCHEMA, name)


NOTES = _t("notes")
# A virtual relation with a condition: a note is about a post only when its kind says so.
NOTE_TARGET = ForeignKey(
    "notes_target_id_fkey",
    NOTES,
    ("target_id",),
    _t("posts"),
    ("id",),
    is_virtual=True,
    condition="kind = 'post'",
)

# User conditions in SQLite's own dialect, and what each means for `MemoryRows`.
CONDITIONS: dict[str, Predicate] = {
    "kind = 'post'": lambda row: row["kind"] == "post",
    "printf('%d', id) NOT GLOB '*1'": lambda row: not str(row["id"]).endswith("1"),
    "[post_id] % 2 = 0": lambda row: int(str(row["post_id"])) % 2 == 0,
    "id == 59": lambda row: row["id"] == "59",
}


def _with_notes(catalog: Catalog) -> Schema:
    schema = catalog.schema
    return replace(schema, foreign_keys=(*schema.foreign_keys, NOTE_TARGET))


def _plan(
    path: Path, rules_for: Callable[[Schema], Rules], work: Path | None = None
) -> tuple[dict[str, dict[tuple[str | None, ...], str]], int, MemoryRows]:
    """The rows chosen over SQLite, the statements that took, and the memory source (which
    has made the same choice, asserted equal here)."""
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog = read_catalog(db)
        schema = _with_notes(catalog)
        rules = rules_for(schema)
        before = db.statements
        in_sqlite = plan_selection(SQLiteRows(db, catalog), schema, rules)
        statements = db.statements - before
        memory = MemoryRows(rows_as_text(db, catalog), CONDITIONS)
        if work is not None:
            report = load_selection(db, catalog, in_sqlite, path, work)
            assert report.inserted == sum(len(p.rows) for p in in_sqlite.picks.values())
    in_memory = plan_selection(memory, schema, rules)
    assert chosen(in_sqlite) == chosen(in_memory)
    return chosen(in_sqlite), statements, memory


@pytest.mark.parametrize("limit", [3, 10, 40])
def test_sqlite_and_memory_choose_the_same_rows(
    make_db: MakeDb, tmp_path: Path, limit: int
) -> None:
    path = make_db(SCHEMA)

    def rules(schema: Schema) -> Rules:
        return Rules(schema.data_tables, default_limit=limit, limits={_t("users"): 2})

    found, statements, memory = _plan(path, rules, tmp_path)
    assert sum(len(rows) for rows in found.values()) > limit
    assert all(found[t] for t in ("users", "posts", "likes", "visits", "region", "office"))
    # Each question the plan asked was one statement, plus one read of the unique indexes.
    asked = sum(memory.calls.values())
    assert statements == asked + 1, (statements, dict(memory.calls))


def test_user_conditions_in_sqlite_syntax(make_db: MakeDb, tmp_path: Path) -> None:
    path = make_db(SCHEMA)
    for text in CONDITIONS:
        assert check_condition(text, "--where") == text

    def rules(schema: Schema) -> Rules:
        return Rules(
            schema.data_tables,
            default_limit=5,
            where={
                _t("posts"): "printf('%d', id) NOT GLOB '*1'",
                _t("likes"): "[post_id] % 2 = 0",
            },
            include=((_t("users"), "id == 59"),),
        )

    found, statements, memory = _plan(path, rules, tmp_path)
    assert all(
        not str(key[0]).endswith("1") for key in found["posts"] if found["posts"][key] == "limit"
    )
    # The include pulls user 59, and down the managers' tree user 60, with what references them.
    assert {("59",), ("60",)} <= set(found["users"])
    assert statements == sum(memory.calls.values()) + 1


def test_a_refused_condition_is_named(make_db: MakeDb) -> None:
    path = make_db(SCHEMA)
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog = read_catalog(db)
        rows = SQLiteRows(db, catalog)
        posts = _t("posts")
        errors = rows.condition_errors([(posts, "id > 1"), (posts, "nope = 1"), (posts, "id = ?")])
        assert errors == {1: "no such column: nope"}
        assert "parameter" in rows.condition_errors([(posts, "id = :id")])[0]
        rules = Rules(catalog.schema.data_tables, where={posts: "nope = 1"})
        with pytest.raises(UnknownColumn, match="nope"):
            plan_selection(rows, catalog.schema, rules)
        # The read transaction survives the refused statements.
        assert db.in_transaction


# Keys of every storage class, and references that meet them only the way SQLite's
# foreign-key check compares: through the parent's affinity and collation.
ODD_KEYS = """
CREATE TABLE artist (id INTEGER PRIMARY KEY, name TEXT);
CREATE TABLE song (id INTEGER PRIMARY KEY, artist_ref TEXT REFERENCES artist,
                   loose REFERENCES artist);
CREATE TABLE genre (name TEXT COLLATE NOCASE PRIMARY KEY);
CREATE TABLE track (id INTEGER PRIMARY KEY, genre_name TEXT REFERENCES genre);
CREATE TABLE odd (k PRIMARY KEY, note TEXT);
CREATE TABLE odd_ref (id INTEGER PRIMARY KEY, k REFERENCES odd);
INSERT INTO artist VALUES (1, 'one'), (2, 'two'), (3, 'three');
INSERT INTO song VALUES (1, '01', '2'), (2, '3', 3), (3, NULL, 1.0);
INSERT INTO genre VALUES ('Rock'), ('jazz');
INSERT INTO track VALUES (1, 'rock'), (2, 'JAZZ'), (3, 'Rock');
INSERT INTO odd VALUES (1, 'int'), ('1', 'text'), (1.5, 'real'), (X'00ff', 'blob'),
                       ('a	b\\c', 'tab'), (1e300, 'big'), (-7, 'negative');
INSERT INTO odd_ref VALUES (1, 1.0), (2, '1'), (3, X'00ff'), (4, 1.5), (5, 1e300), (6, NULL);
"""


def _odd(db: Session) -> tuple[Catalog, SQLiteRows]:
    catalog = read_catalog(db)
    return catalog, SQLiteRows(db, catalog)


def _find_all(rows: SQLiteRows, catalog: Catalog, name: str) -> list[tuple[object, ...]]:
    proj = projection_of(catalog.schema, _t(name))
    found = rows.find([Find(proj, (), KEY_ORDER)])[0]
    return [(r.ident, r.refs, r.keys) for r in found]


def test_keys_read_as_the_dump_writes_them(make_db: MakeDb) -> None:
    path = make_db(ODD_KEYS)
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog, rows = _odd(db)
        for name in ("artist", "genre", "odd", "song", "track", "odd_ref"):
            table = _t(name)
            names = catalog.table(table).column_names
            key_at = [names.index(c) for c in catalog.table(table).primary_key]
            dumped = [
                tuple(decode_field(line.split("\t")[i]) for i in key_at)
                for line in dump_bytes(db, catalog, table).decode().splitlines()
            ]
            assert [ident for ident, _, _ in _find_all(rows, catalog, name)] == dumped
        odd = {ident: keys for ident, _, keys in _find_all(rows, catalog, "odd")}
        assert ("\\text:1",) in odd and ("1",) in odd and ("\\x00ff",) in odd


def test_references_meet_keys_as_sqlite_compares_them(make_db: MakeDb, tmp_path: Path) -> None:
    path = make_db(ODD_KEYS)
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog, rows = _odd(db)
        # Read in the parent key's text: '01' in a TEXT column meets artist 1, 1.0 meets the
        # integer 1, 'rock' meets 'Rock' under NOCASE, a blob meets a blob.
        refs = {ident: r for ident, r, _ in _find_all(rows, catalog, "song")}
        assert refs[("1",)] == (("1",), ("2",))
        assert refs[("3",)] == (None, ("1",))
        tracks = {ident: r for ident, r, _ in _find_all(rows, catalog, "track")}
        assert tracks[("1",)] == (("Rock",),) and tracks[("2",)] == (("jazz",),)
        odd_refs = {ident: r for ident, r, _ in _find_all(rows, catalog, "odd_ref")}
        assert odd_refs[("1",)] == (("1",),)  # the real 1.0 meets the integer key 1
        assert odd_refs[("2",)] == (("\\text:1",),)
        assert odd_refs[("3",)] == (("\\x00ff",),)
        assert odd_refs[("6",)] == (None,)

        # The same comparison filters rows (blob and real keys travel as parameters)...
        odd_ref = projection_of(catalog.schema, _t("odd_ref"))
        fk = odd_ref.relations[0]
        wanted = frozenset({("\\x00ff",), ("1.5",), ("1e+300",), ("1",)})
        found = rows.find([Find(odd_ref, (Filter(RefersTo(fk, wanted)),), KEY_ORDER)])[0]
        assert [r.ident for r in found] == [("1",), ("3",), ("4",), ("5",)]
        track = projection_of(catalog.schema, _t("track"))
        rock = RefersTo(track.relations[0], frozenset({("Rock",)}))
        found = rows.find([Find(track, (Filter(rock, is_selective=True),), KEY_ORDER)])[0]
        assert [r.ident for r in found] == [("1",), ("3",)]

        # ... and walks from child to parent.
        song = projection_of(catalog.schema, _t("song"))
        artist = projection_of(catalog.schema, _t("artist"))
        steps = [Step(song.table.name, fk, artist.table.name) for fk in song.relations]
        reached = rows.walk(
            [song, artist], [Start(song.table.name, ("id",), frozenset({("1",)}))], steps
        )
        assert [r.ident for r in reached[artist.table.name]] == [("1",), ("2",)]

        rules = Rules(catalog.schema.data_tables, default_limit=1)
        selection = plan_selection(rows, catalog.schema, rules)
        # SQLite's own foreign-key check accepts the chosen rows in an empty copy.
        report = load_selection(db, catalog, selection, path, tmp_path)
        assert report.inserted == sum(len(p.rows) for p in selection.picks.values())
        assert all(selection.picks[t].rows for t in catalog.schema.data_tables)


def test_walks_up_and_down_a_self_reference(make_db: MakeDb) -> None:
    path = make_db(SCHEMA)
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog = read_catalog(db)
        rows = SQLiteRows(db, catalog)
        users = projection_of(catalog.schema, _t("users"))
        up = WalkSelf(users, Where("id = 5"), (("manager_id",),), ("id",))
        down = WalkSelf(users, Where("id = 57"), (("id",),), ("manager_id",))
        found = rows.find([up, down])
        assert [r.ident for r in found[0]] == [(str(i),) for i in range(1, 6)]
        assert [r.ident for r in found[1]] == [(str(i),) for i in range(57, 61)]
        assert found[0][1].refs == (("1",),)


def _post_is(post: int) -> Predicate:
    return lambda row: row["post_id"] == str(post)


def test_many_requests_in_one_statement(make_db: MakeDb) -> None:
    """More requests than SQLite allows terms in one compound SELECT (500)."""
    path = make_db(SCHEMA)
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog = read_catalog(db)
        rows = SQLiteRows(db, catalog)
        likes = projection_of(catalog.schema, _t("likes"))
        requests = [
            Find(likes, (Filter(Where(f"post_id = {1 + i % 50}")),), KEY_ORDER, 1 + i % 3)
            for i in range(600)
        ]
        before = db.statements
        found = rows.find(requests)
        assert db.statements - before <= 2  # the unique indexes, then the rows
        memory = MemoryRows(
            rows_as_text(db, catalog), {f"post_id = {p}": _post_is(p) for p in range(1, 51)}
        )
        assert found == memory.find(requests)
        assert sum(len(f) for f in found) > 600


def test_excluding_a_legacy_null_key(make_db: MakeDb) -> None:
    """A rowid table's primary key may hold NULL: excluding other keys keeps that row, and
    excluding NULL drops it alone."""
    path = make_db(
        "CREATE TABLE legacy (k TEXT PRIMARY KEY, v INTEGER);"
        "INSERT INTO legacy VALUES ('a', 1), (NULL, 2), ('b', 3);"
    )
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog = read_catalog(db)
        rows = SQLiteRows(db, catalog)
        legacy = projection_of(catalog.schema, _t("legacy"))
        keep_null, drop_null = rows.find(
            [
                Find(legacy, (), KEY_ORDER, exclude=frozenset({("a",)})),
                Find(legacy, (), KEY_ORDER, exclude=frozenset({(None,)})),
            ]
        )
        assert [r.ident for r in keep_null] == [(None,), ("b",)]
        assert [r.ident for r in drop_null] == [("a",), ("b",)]


def test_composite_reference_through_affinities(make_db: MakeDb) -> None:
    """A two-column reference whose text columns meet an INTEGER and a REAL key; the parent
    table is named `c`, as the walk's alias would be, and a virtual relation's condition must
    still see the child row."""
    path = make_db(
        "CREATE TABLE c (a INTEGER, b REAL, name TEXT, PRIMARY KEY (a, b));"
        "CREATE TABLE kid (id INTEGER PRIMARY KEY, x TEXT, y TEXT, kind TEXT,"
        "                  FOREIGN KEY (x, y) REFERENCES c);"
        "INSERT INTO c VALUES (1, 2, 'one-two'), (3, 4.5, 'mixed'), (5, 6, 'unused');"
        "INSERT INTO kid VALUES (1, '1', '2', 'c'), (2, '3', '4.5', 'z'), (3, NULL, NULL, 'c');"
    )
    with session(url_of(path), read_only=True) as db, db.snapshot():
        catalog = read_catalog(db)
        declared = catalog.schema.foreign_keys[0]
        virtual = replace(declared, name="kid_c", is_virtual=True, condition="kind = 'c'")
        schema = replace(catalog.schema, foreign_keys=(declared, virtual))
        rows = SQLiteRows(db, catalog)
        kid = projection_of(schema, _t("kid"))
        found = rows.find([Find(kid, (), KEY_ORDER)])[0]
        assert [r.refs for r in found] == [
            (("1", "2.0"), ("1", "2.0")),
            (("3", "4.5"), None),
            (None, None),
        ]
        matched = rows.find(
            [Find(kid, (Filter(RefersTo(declared, frozenset({("3", "4.5")}))),), KEY_ORDER)]
        )[0]
        assert [r.ident for r in matched] == [("2",)]
        everyone = frozenset({("1",), ("2",), ("3",)})
        parent = projection_of(schema, _t("c"))
        reached = rows.walk(
            [kid, parent],
            [Start(_t("kid"), ("id",), everyone)],
            [Step(_t("kid"), virtual, _t("c"))],
        )
        assert [r.ident for r in reached[_t("c")]] == [("1", "2.0")]
