"""MariaDB's answers to the selection's row questions agree with the in-memory ones: the same
decisions over the same rows choose the same rows, in few statements; user conditions are
spliced in as MariaDB SQL, and a refused one is named. On the Chinook sample, the selection is
closed over foreign keys and leaves no table with rows empty."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from dataclasses import replace

import pytest
from mariadb_helpers import run
from memory_rows import MemoryRows, Row
from samples import datasets_dir

from genonaut.seed.core.picks import Selection, projection_of
from genonaut.seed.core.row_source import (
    KEY_ORDER,
    Filter,
    Find,
    Projection,
    RefersTo,
    Start,
    Where,
)
from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName
from genonaut.seed.core.selection import plan_selection
from genonaut.seed.engines.mariadb.catalog import read_schema
from genonaut.seed.engines.mariadb.connection import Session, session
from genonaut.seed.engines.mariadb.dump import select_statement
from genonaut.seed.engines.mariadb.row_source import MariaDBRows
from genonaut.seed.engines.mariadb.values import to_text
from genonaut.seed.errors import ConfigError, UnknownColumn

# Parents far down the key order, optional references set only late, a chain of managers, a
# link table with a composite key and two references, a two-table cycle, text keys whose byte
# order is not their case-insensitive order, tables without a primary key (one referenced by a
# unique key): every step of the plan has work to do.
SCHEMA = (
    "CREATE TABLE users (id INT PRIMARY KEY, manager_id INT REFERENCES users (id))",
    """CREATE TABLE posts (id INT PRIMARY KEY, user_id INT NOT NULL REFERENCES users (id),
        editor_id INT REFERENCES users (id), status VARCHAR(10) NOT NULL)""",
    """CREATE TABLE likes (post_id INT REFERENCES posts (id), user_id INT REFERENCES users (id),
        PRIMARY KEY (post_id, user_id))""",
    "CREATE TABLE tags (code VARCHAR(10) PRIMARY KEY) COLLATE utf8mb4_general_ci",
    """CREATE TABLE post_tags (post_id INT REFERENCES posts (id),
        tag VARCHAR(10) REFERENCES tags (code), PRIMARY KEY (post_id, tag))""",
    "CREATE TABLE teams (id INT PRIMARY KEY, lead_id INT)",
    "CREATE TABLE members (id INT PRIMARY KEY, team_id INT NOT NULL REFERENCES teams (id))",
    "ALTER TABLE teams ADD FOREIGN KEY (lead_id) REFERENCES members (id)",
    "CREATE TABLE notes (post_id INT REFERENCES posts (id), body VARCHAR(20))",
    "CREATE TABLE codes (code INT NOT NULL UNIQUE, label VARCHAR(10))",
    """CREATE TABLE uses (id INT PRIMARY KEY, code INT NOT NULL REFERENCES codes (code),
        note_code INT REFERENCES codes (code))""",
    "INSERT INTO codes SELECT 100 - seq, CONCAT('c', seq) FROM seq_1_to_30",
    "INSERT INTO uses SELECT seq, 70 + seq, IF(seq % 9 = 0, 99 - seq, NULL) FROM seq_1_to_29",
    "INSERT INTO users SELECT seq, IF(seq > 1, seq - 1, NULL) FROM seq_1_to_60",
    """INSERT INTO posts SELECT seq, 61 - seq, IF(seq % 17 = 0, 60 - seq % 7, NULL),
        ELT(1 + seq % 3, 'draft', 'live', 'gone') FROM seq_1_to_50""",
    """INSERT INTO likes SELECT p.seq, u.seq FROM seq_1_to_50 p, seq_1_to_60 u
        WHERE (p.seq * 7 + u.seq * 3) % 11 = 0""",
    "INSERT INTO tags VALUES ('c'), ('D'), ('a'), ('B'), ('e')",
    """INSERT INTO post_tags SELECT seq, ELT(1 + seq % 5, 'c', 'D', 'a', 'B', 'e')
        FROM seq_1_to_50 WHERE seq % 4 = 0""",
    "SET SESSION FOREIGN_KEY_CHECKS = 0",
    "INSERT INTO teams SELECT seq, IF(seq % 2 = 0, 21 - seq, NULL) FROM seq_1_to_20",
    "INSERT INTO members SELECT seq, 21 - seq FROM seq_1_to_20",
    "SET SESSION FOREIGN_KEY_CHECKS = 1",
    """INSERT INTO notes VALUES (40, 'zeta'), (3, 'alpha'), (NULL, 'loose'), (40, 'zeta'),
        (12, 'Beta')""",
)

# The conditions the tests write, as MariaDB SQL and as the same test in Python.
CONDITIONS: dict[str, Callable[[Row], bool]] = {
    "`status` <> 'gone'": lambda row: row["status"] != "gone",
    "id % 3 = 1": lambda row: int(row["id"] or 0) % 3 == 1,
    "status = 'live'": lambda row: row["status"] == "live",
    "id = 55": lambda row: row["id"] == "55",
}


def _chosen(selection: Selection) -> dict[str, dict[tuple[str | None, ...], str]]:
    return {
        leaf.name: {key: row.origin for key, row in pick.rows.items()}
        for leaf, pick in selection.picks.items()
    }


def _rows_as_text(db: Session, schema: Schema) -> dict[TableName, list[Row]]:
    """Every row as the dump writes it, in dump order (a table without a primary key is
    addressed by position in that order)."""
    rows: dict[TableName, list[Row]] = {}
    for table in schema.tables:
        columns = table.stored_columns
        rows[table.name] = [
            {c.name: to_text(c, v) for c, v in zip(columns, values, strict=True)}
            for values in db.fetch(select_statement(table))
        ]
    return rows


def _compare(url: str, rules_of: Callable[[Schema], Rules]) -> tuple[Selection, int, int]:
    """The selection over MariaDB and over memory; asserts they agree. Returns the MariaDB
    one, its statements beyond the catalog's, and the questions the plan asked."""
    with session(url, read_only=True) as db:
        schema = read_schema(db)
        rules = rules_of(schema)
        before = db.statements
        in_mariadb = plan_selection(MariaDBRows(db, schema), schema, rules)
        statements = db.statements - before
        rows = _rows_as_text(db, schema)
    memory = MemoryRows(rows, CONDITIONS)
    in_memory = plan_selection(memory, schema, rules)
    assert _chosen(in_mariadb) == _chosen(in_memory)
    return in_mariadb, statements, sum(memory.calls.values())


@pytest.mark.parametrize("limit", [1, 3, 10, 40])
def test_mariadb_and_memory_choose_the_same_rows(mariadb_url: str, limit: int) -> None:
    run(mariadb_url, *SCHEMA)

    def rules(schema: Schema) -> Rules:
        users = next(t for t in schema.data_tables if t.name == "users")
        return Rules(schema.data_tables, default_limit=limit, limits={users: 2})

    selection, statements, asked = _compare(mariadb_url, rules)
    assert sum(len(p.rows) for p in selection.picks.values()) > limit
    # Every question the plan asked was one statement.
    assert statements == asked
    print(f"limit {limit}: {statements} statements")


def test_user_conditions_are_mariadb_sql(mariadb_url: str) -> None:
    run(mariadb_url, *SCHEMA)

    def rules(schema: Schema) -> Rules:
        by_name = {t.name: t for t in schema.data_tables}
        return Rules(
            schema.data_tables,
            default_limit=5,
            where={by_name["posts"]: "`status` <> 'gone'", by_name["users"]: "id % 3 = 1"},
            # The first include walks down the chain of managers (`WalkSelf`).
            include=((by_name["users"], "id = 55"), (by_name["posts"], "status = 'live'")),
        )

    selection, statements, asked = _compare(mariadb_url, rules)
    picks = {leaf.name: pick for leaf, pick in selection.picks.items()}
    assert {k for k, r in picks["users"].rows.items() if r.origin == "include"} == {
        (str(i),) for i in range(55, 61)
    }
    assert picks["posts"].rows and statements == asked


def test_a_refused_condition_is_named(mariadb_url: str) -> None:
    run(mariadb_url, *SCHEMA)
    with session(mariadb_url, read_only=True) as db:
        schema = read_schema(db)
        posts = next(t for t in schema.data_tables if t.name == "posts")
        source = MariaDBRows(db, schema)
        checks = [(posts, "status = 'live'"), (posts, "`no_such` = 1"), (posts, "id > 2")]
        errors = source.condition_errors(checks)
        assert list(errors) == [1] and "no_such" in errors[1]
        # The snapshot survives the failed statement: the rows are still there to read.
        (found,) = source.find([Find(_projection(schema, posts), (Filter(Where("id > 48")),))])
        assert sorted(r.ident for r in found) == [("49",), ("50",)]
        # A backslash in a string, or a `#` comment: MariaDB would read past the parentheses.
        sneaky = [(posts, "status = 'a\\' AND 1 = ') OR (1 = 1'"), (posts, "id = 1 # )")]
        assert set(source.condition_errors(sneaky)) == {0, 1}
        with pytest.raises(UnknownColumn, match="no_such"):
            plan_selection(source, schema, Rules(schema.data_tables, where={posts: "no_such"}))
        with pytest.raises(ConfigError, match="backslash"):
            plan_selection(source, schema, Rules(schema.data_tables, where={posts: sneaky[0][1]}))


def _projection(schema: Schema, leaf: TableName) -> Projection:
    return projection_of(schema, leaf)


@pytest.fixture
def chinook(make_mariadb: Callable[..., str]) -> str:
    script = datasets_dir() / "load_other.sh"
    if not script.is_file():
        pytest.fail(f"no {script}: set DATASETS_DIR to the sample databases")
    url = make_mariadb("chinook")
    subprocess.run([str(script), "chinook_mariadb", url], check=True, capture_output=True)
    return url


@pytest.mark.parametrize("limit", [7, 100])
def test_chinook_selection_is_closed(chinook: str, limit: int) -> None:
    with session(chinook, read_only=True) as db:
        schema = read_schema(db)
        before = db.statements
        source = MariaDBRows(db, schema)
        selection = plan_selection(source, schema, Rules(schema.data_tables, default_limit=limit))
        statements = db.statements - before
        nonempty = source.tables_with_rows(schema.data_tables)
        memory = MemoryRows(_rows_as_text(db, schema))
    # The same decisions over the same rows in memory choose the same rows.
    rules = Rules(schema.data_tables, default_limit=limit)
    assert _chosen(selection) == _chosen(plan_selection(memory, schema, rules))
    assert statements == sum(memory.calls.values())
    picks = selection.picks
    assert {leaf for leaf, pick in picks.items() if pick.rows} == nonempty
    assert len(nonempty) == len(schema.data_tables)
    for leaf, pick in picks.items():
        for row in pick.rows.values():
            for fk, ref in zip(pick.projection.relations, row.refs, strict=True):
                if ref is None:
                    continue
                parent = picks[fk.referred_table]
                index = parent.projection.keys.index(fk.referred_columns)
                held = {r.keys[index] for r in parent.rows.values()}
                assert ref in held, f"{leaf} {row.ident} -> {fk.referred_table} {ref}"
    counted = {leaf.name: len(p.rows) for leaf, p in picks.items()}
    print(f"chinook limit {limit}: {statements} statements, rows {counted}")
    assert statements <= 12


# One key column of each type the catalog reports, with values at its edges, and a child that
# references it: the key the row source reads is the text the dump writes.
KEY_TYPES = {
    "int": ("INT", "-2147483648, 0, 7"),
    "ubig": ("BIGINT UNSIGNED", "18446744073709551615, 9007199254740993, 9007199254740992, 1"),
    "dec": ("DECIMAL(30,10)", "12345678901234567890.0123456789, -0.0000000001, 1.5"),
    "day": ("DATE", "'1000-01-01', '2024-02-29'"),
    "stamp": ("DATETIME(3)", "'2024-01-02 03:04:05.678', '1970-01-01 00:00:00'"),
    "clock": ("TIME(2)", "'-838:59:59.99', '00:00:00.01'"),
    "yr": ("YEAR", "1901, 2155"),
    "txt": ("VARCHAR(10)", "'x', 'Y', 'caf\u00e9', '\U0001f3a8', 'a\\tb'"),
    "raw": ("VARBINARY(8)", "x'00ff', x'00', x'ff00', ''"),
    "bits": ("BIT(4)", "b'0101', b'0000', b'1111'"),
    "fixed": ("BINARY(3)", "x'000000', x'0a0b0c'"),
    "pick": ("ENUM('small','Large')", "'small', 'Large'"),
}


def test_keys_read_as_the_dump_writes_them(mariadb_url: str) -> None:
    statements = []
    for name, (kind, values) in KEY_TYPES.items():
        statements += [
            f"CREATE TABLE p_{name} (k {kind} PRIMARY KEY) CHARACTER SET utf8mb4",
            f"CREATE TABLE c_{name} (id INT PRIMARY KEY, k {kind} REFERENCES p_{name} (k)) "
            "CHARACTER SET utf8mb4",
            f"INSERT INTO p_{name} (k) VALUES ({values.replace(', ', '), (')})",
            f"INSERT INTO c_{name} SELECT ROW_NUMBER() OVER (ORDER BY k), k FROM p_{name}",
        ]
    run(mariadb_url, *statements)
    with session(mariadb_url, read_only=True) as db:
        schema = read_schema(db)
        source = MariaDBRows(db, schema)
        dumped = _rows_as_text(db, schema)
        for name in KEY_TYPES:
            parent = next(t for t in schema.data_tables if t.name == f"p_{name}")
            child = next(t for t in schema.data_tables if t.name == f"c_{name}")
            (fk,) = schema.relations_from(child)
            keys = [(row["k"],) for row in dumped[parent]]
            assert len(keys) >= 2
            proj, child_proj = _projection(schema, parent), _projection(schema, child)
            everything, *one_each = source.find(
                [
                    Find(proj, (), KEY_ORDER),
                    *(Find(proj, (), KEY_ORDER, exclude=frozenset(keys) - {k}) for k in keys),
                    *(Find(child_proj, (Filter(RefersTo(fk, frozenset({k}))),)) for k in keys),
                ]
            )
            # Key order is the dump's order, and each key finds its own row and nothing else.
            assert [r.ident for r in everything] == keys, name
            assert [[r.ident for r in found] for found in one_each[: len(keys)]] == [
                [k] for k in keys
            ], name
            assert [[r.refs[0] for r in found] for found in one_each[len(keys) :]] == [
                [k] for k in keys
            ], name
            walked = source.walk([child_proj, proj], [Start(parent, ("k",), frozenset(keys))], [])
            assert sorted(r.ident for r in walked[parent]) == sorted(keys), name
        # Text keys are equal by their bytes, whatever the column's collation: 'X' is not 'x'.
        text = next(t for t in schema.data_tables if t.name == "p_txt")
        (left,) = source.find([Find(_projection(schema, text), (), exclude=frozenset({("X",)}))])
        assert ("x",) in {r.ident for r in left}


def test_a_chain_longer_than_the_servers_recursion_limit(mariadb_url: str) -> None:
    """MariaDB stops a recursive expression after max_recursive_iterations rounds (1000 by
    default) without an error: a walk up a longer chain must still reach its top."""
    run(
        mariadb_url,
        "CREATE TABLE staff (id INT PRIMARY KEY, boss_id INT REFERENCES staff (id))",
        "SET SESSION FOREIGN_KEY_CHECKS = 0",
        "INSERT INTO staff SELECT seq, IF(seq < 1500, seq + 1, NULL) FROM seq_1_to_1500",
    )

    def rules(schema: Schema) -> Rules:
        return Rules(schema.data_tables, default_limit=1)

    selection, statements, asked = _compare(mariadb_url, rules)
    (pick,) = selection.picks.values()
    assert len(pick.rows) == 1500 and statements == asked


def test_long_key_lists(mariadb_url: str) -> None:
    """Key lists beyond in_predicate_conversion_threshold (1000), which MariaDB turns into a
    subquery over VALUES: single text keys and composite keys keep their exact matches."""
    run(
        mariadb_url,
        "CREATE TABLE word (w VARCHAR(20) PRIMARY KEY) COLLATE utf8mb4_general_ci",
        "INSERT INTO word SELECT CONCAT(IF(seq % 2, 'k', 'K'), seq) FROM seq_1_to_3000",
        """CREATE TABLE pair (a INT, w VARCHAR(20) REFERENCES word (w), PRIMARY KEY (a, w))
            COLLATE utf8mb4_general_ci""",
        "INSERT INTO pair SELECT SUBSTRING(w, 2) % 7, w FROM word",
    )
    with session(mariadb_url, read_only=True) as db:
        schema = read_schema(db)
        source = MariaDBRows(db, schema)
        word, pair = sorted(schema.data_tables, key=lambda t: t.name != "word")
        (fk,) = schema.relations_from(pair)
        words = [(f"{'k' if i % 2 else 'K'}{i}",) for i in range(1, 3001)]
        pairs = [(str(i % 7), f"{'k' if i % 2 else 'K'}{i}") for i in range(1, 3001)]
        # Keys in the wrong case match nothing, though the collation ignores case.
        wrong = [(w[0].swapcase(),) for w in words[:1500]]
        kept, found, kept_pairs = source.find(
            [
                Find(_projection(schema, word), (), exclude=frozenset(words[:1500] + wrong)),
                Find(
                    _projection(schema, pair),
                    (Filter(RefersTo(fk, frozenset(words[1500:] + wrong))),),
                ),
                Find(_projection(schema, pair), (), exclude=frozenset(pairs[:2000])),
            ]
        )
    assert sorted(r.ident for r in kept) == sorted(words[1500:])
    assert sorted(r.ident for r in found) == sorted(pairs[1500:])
    assert sorted(r.ident for r in kept_pairs) == sorted(pairs[2000:])


def test_a_virtual_relation_reads_references_in_the_parents_type(mariadb_url: str) -> None:
    """An INT column that a virtual relation (with a condition) points at a DECIMAL(6,2) key:
    references read as the key's text ('7.00'), only where the condition holds."""
    run(
        mariadb_url,
        "CREATE TABLE prices (amount DECIMAL(6,2) PRIMARY KEY)",
        "INSERT INTO prices SELECT seq FROM seq_1_to_20",
        "CREATE TABLE items (id INT PRIMARY KEY, kind VARCHAR(5) NOT NULL, ref INT NOT NULL)",
        "INSERT INTO items SELECT seq, IF(seq % 2, 'p', 'x'), 21 - seq % 20 FROM seq_1_to_30",
    )
    with session(mariadb_url, read_only=True) as db:
        declared = read_schema(db)
        items, prices = sorted(declared.data_tables, key=lambda t: t.name)
        virtual = ForeignKey(
            "items_price",
            items,
            ("ref",),
            prices,
            ("amount",),
            is_virtual=True,
            condition="kind = 'p'",
        )
        schema = replace(declared, foreign_keys=(virtual,))
        selection = plan_selection(
            MariaDBRows(db, schema), schema, Rules(schema.data_tables, default_limit=4)
        )
    chosen_prices = set(selection.picks[prices].rows)
    refs = {int(str(row.ident[0])): row.refs[0] for row in selection.picks[items].rows.values()}
    assert refs and all((ref is None) == (ident % 2 == 0) for ident, ref in refs.items())
    pointed = {ref for ref in refs.values() if ref is not None}
    assert pointed and pointed <= chosen_prices
    assert all(ref[0] == f"{21 - i % 20}.00" for i, ref in refs.items() if ref)
