"""Closure through references that chain across tables: statements must not grow with depth."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from db_helpers import run_sql
from fixture_oracle import dangling, read_rows, snapshot

from genonaut.seed.commands.export import ExportReport, export_seed
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import ExportSettings, VirtualRelation

# a(depth) -> b(depth) -> a(depth - 1) -> ... -> a(1) -> b(1), whose reference is unset.
# a has a json column (no equality), b a composite primary key.
ALTERNATING = """
CREATE TABLE a (id int PRIMARY KEY, bx int, by int, doc json);
CREATE TABLE b (x int, y int, a_id int, note text, PRIMARY KEY (x, y));
INSERT INTO b SELECT i, -i, NULLIF(i - 1, 0), 'b' || i FROM generate_series(1, %(depth)s) i;
INSERT INTO a SELECT i, i, -i, json_build_object('i', i) FROM generate_series(1, %(depth)s) i;
ALTER TABLE a ADD FOREIGN KEY (bx, by) REFERENCES b;
ALTER TABLE b ADD FOREIGN KEY (a_id) REFERENCES a;
ANALYZE;
"""


def _alternating(db: str, out: Path, depth: int) -> ExportReport:
    run_sql(db, ALTERNATING, {"depth": depth})
    return export_seed(ExportSettings(db, out, default_limit=1, where={"a": f"id = {depth}"}))


def test_an_alternating_chain_across_two_tables_is_closed_in_as_many_statements_at_any_depth(
    make_database: Callable[..., str], tmp_path: Path
) -> None:
    shallow = _alternating(make_database(), tmp_path / "shallow", 10)
    deep = _alternating(make_database(), tmp_path / "deep", 1000)
    rows = read_rows(tmp_path / "deep")
    assert {r["id"] for r in rows[TableName("public", "a")]} == {str(i) for i in range(1, 1001)}
    assert len(rows[TableName("public", "b")]) == 1000
    assert dangling(tmp_path / "deep") == []
    assert dangling(tmp_path / "shallow") == []
    assert deep.statements == shallow.statements


# p(i) -> q(i) -> r(i) -> p(i - 1): q is partitioned, r has a composite key and reaches p
# through a conditional virtual relation to p's UNIQUE (not primary) key; p has a json column.
# r(1) is of another kind: its target names no row, and must not be followed.
THREE_TABLE_CYCLE = """
CREATE TABLE p (id int PRIMARY KEY, code text NOT NULL UNIQUE, q_id int, doc json);
CREATE TABLE q (id int PRIMARY KEY, r1 int, r2 int) PARTITION BY RANGE (id);
CREATE TABLE q_low PARTITION OF q FOR VALUES FROM (MINVALUE) TO (%(half)s);
CREATE TABLE q_high PARTITION OF q FOR VALUES FROM (%(half)s) TO (MAXVALUE);
CREATE TABLE r (r1 int, r2 int, kind text NOT NULL, target text, PRIMARY KEY (r1, r2));
INSERT INTO r SELECT i, i %% 7, CASE WHEN i = 1 THEN 'x' ELSE 'p' END, 'c' || (i - 1)
  FROM generate_series(1, %(depth)s) i;
INSERT INTO q SELECT i, i, i %% 7 FROM generate_series(1, %(depth)s) i;
INSERT INTO p SELECT i, 'c' || i, i, json_build_object('i', i)
  FROM generate_series(1, %(depth)s) i;
ALTER TABLE p ADD FOREIGN KEY (q_id) REFERENCES q;
ALTER TABLE q ADD FOREIGN KEY (r1, r2) REFERENCES r;
ANALYZE;
"""
R_TO_P = (VirtualRelation("r", ("target",), "p", ("code",), "kind = 'p'"),)


def _cycle(db: str, out: Path, depth: int) -> ExportReport:
    run_sql(db, THREE_TABLE_CYCLE, {"depth": depth, "half": depth // 2})
    settings = ExportSettings(db, out, default_limit=1, virtual_fks=R_TO_P)
    return export_seed(settings.merged(where={"p": f"id = {depth}"}))


def test_a_chain_through_a_three_table_cycle_is_closed_in_as_many_statements_at_any_depth(
    make_database: Callable[..., str], tmp_path: Path
) -> None:
    shallow = _cycle(make_database(), tmp_path / "shallow", 10)
    db = make_database()
    deep = _cycle(db, tmp_path / "deep", 1000)
    rows = read_rows(tmp_path / "deep")
    every = {str(i) for i in range(1, 1001)}
    assert {r["id"] for r in rows[TableName("public", "p")]} == every
    assert {r["r1"] for r in rows[TableName("public", "r")]} == every
    q = rows[TableName("public", "q_low")] + rows[TableName("public", "q_high")]
    assert {r["id"] for r in q} == every
    for name in ("shallow", "deep"):
        assert dangling(tmp_path / name) == [], name
    assert deep.statements == shallow.statements
    settings = ExportSettings(db, tmp_path / "again", default_limit=1, virtual_fks=R_TO_P)
    export_seed(settings.merged(where={"p": "id = 1000"}))
    assert snapshot(tmp_path / "again") == snapshot(tmp_path / "deep")


# One table, but not one `_ancestry` walks: partitions of a table that references itself
# (one partition, or two that reference each other), a conditional self-reference, and
# self-references to two keys. Row i references row i - 1; row 1 references nothing.
SELF_CHAINS = {
    "one partition": """
        CREATE TABLE t (id int PRIMARY KEY, up int REFERENCES t, doc json) PARTITION BY RANGE (id);
        CREATE TABLE t_all PARTITION OF t DEFAULT;
        INSERT INTO t SELECT i, NULLIF(i - 1, 0), '{}' FROM generate_series(1, %(depth)s) i;
    """,
    "two partitions": """
        CREATE TABLE t (id int PRIMARY KEY, up int REFERENCES t, doc json) PARTITION BY RANGE (id);
        CREATE TABLE t_odd PARTITION OF t FOR VALUES FROM (MINVALUE) TO (%(half)s);
        CREATE TABLE t_even PARTITION OF t DEFAULT;
        INSERT INTO t SELECT i, NULLIF(i - 1, 0), '{}' FROM generate_series(1, %(depth)s) i;
    """,
    "a condition": """
        CREATE TABLE t (id int PRIMARY KEY, kind text NOT NULL, up int, doc json);
        INSERT INTO t SELECT i, CASE WHEN i = 1 THEN 'root' ELSE 'child' END, i - 1, '{}'
          FROM generate_series(1, %(depth)s) i;
    """,
    "two keys": """
        CREATE TABLE t (id int PRIMARY KEY, code text NOT NULL UNIQUE, up int, up_code text,
                        doc json);
        INSERT INTO t SELECT i, 'c' || i, CASE WHEN i %% 2 = 0 THEN i - 1 END,
          CASE WHEN i %% 2 = 1 AND i > 1 THEN 'c' || (i - 1) END, '{}'
          FROM generate_series(1, %(depth)s) i;
        ALTER TABLE t ADD FOREIGN KEY (up) REFERENCES t;
        ALTER TABLE t ADD FOREIGN KEY (up_code) REFERENCES t (code);
    """,
}
UP_WHEN_CHILD = (VirtualRelation("t", ("up",), "t", ("id",), "kind = 'child'"),)


def _self_chain(db: str, out: Path, case: str, depth: int) -> ExportReport:
    run_sql(db, SELF_CHAINS[case] + "ANALYZE;", {"depth": depth, "half": depth // 2})
    virtual = UP_WHEN_CHILD if case == "a condition" else ()
    settings = ExportSettings(db, out, default_limit=1, virtual_fks=virtual)
    leaves = {"one partition": ["t_all"], "two partitions": ["t_odd", "t_even"]}
    where = {leaf: f"id = {depth}" for leaf in leaves.get(case, ["t"])}
    return export_seed(settings.merged(where=where))


@pytest.mark.parametrize("case", sorted(SELF_CHAINS))
def test_a_self_reference_beyond_one_key_costs_as_many_statements_at_any_depth(
    case: str, make_database: Callable[..., str], tmp_path: Path
) -> None:
    shallow = _self_chain(make_database(), tmp_path / "shallow", case, 10)
    deep = _self_chain(make_database(), tmp_path / "deep", case, 400)
    rows = read_rows(tmp_path / "deep")
    assert {r["id"] for leaf in rows for r in rows[leaf]} == {str(i) for i in range(1, 401)}
    for name in ("shallow", "deep"):
        assert dangling(tmp_path / name) == [], name
    assert deep.statements == shallow.statements


# g -> c -> p. c(100) and g(300) hang below p(1) beside the chain of g(1).
UNDER_ONE_PARENT = """
CREATE TABLE p (id int PRIMARY KEY);
CREATE TABLE c (id int PRIMARY KEY, p_id int REFERENCES p);
CREATE TABLE g (id int PRIMARY KEY, c_id int REFERENCES c);
INSERT INTO p SELECT generate_series(1, 50);
INSERT INTO c SELECT i, i FROM generate_series(1, 50) i;
INSERT INTO c VALUES (100, 1);
INSERT INTO g SELECT i, i FROM generate_series(1, 50) i;
INSERT INTO g VALUES (300, 100);
"""


def test_an_include_brings_what_references_rows_an_earlier_include_pulled_in(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, UNDER_ONE_PARENT)
    # g(1) pulls in c(1) and p(1) by closure; the second include names p(1) itself.
    include = (("g", "id = 1"), ("p", "id = 1"))
    export_seed(ExportSettings(empty_db_url, tmp_path / "seed", default_limit=1, include=include))
    rows = read_rows(tmp_path / "seed")
    assert {"1", "100"} <= {r["id"] for r in rows[TableName("public", "c")]}
    assert {"1", "300"} <= {r["id"] for r in rows[TableName("public", "g")]}
    assert dangling(tmp_path / "seed") == []
