"""PostgreSQL's answers to the selection's row questions agree with the in-memory ones: the same
decisions over the same rows choose the same rows, however the engine batches its statements."""

from __future__ import annotations

import pytest
from db_helpers import run_sql
from memory_rows import MemoryRows, Row

from genonaut.seed.core.picks import Selection
from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import Schema, TableName
from genonaut.seed.core.selection import plan_selection
from genonaut.seed.engines.postgres.catalog import read_schema
from genonaut.seed.engines.postgres.connection import session
from genonaut.seed.engines.postgres.row_source import PostgresRows

# Parents far down the key order, optional references set only late, a chain of managers, a
# link table with two references: every step of the plan has work to do.
SCHEMA = """
CREATE TABLE users (id int PRIMARY KEY, manager_id int REFERENCES users);
CREATE TABLE posts (id int PRIMARY KEY, user_id int NOT NULL REFERENCES users,
                    editor_id int REFERENCES users);
CREATE TABLE likes (post_id int REFERENCES posts, user_id int REFERENCES users,
                    PRIMARY KEY (post_id, user_id));
INSERT INTO users SELECT i, CASE WHEN i > 1 THEN i - 1 END FROM generate_series(1, 60) i;
INSERT INTO posts SELECT i, 61 - i, CASE WHEN i % 17 = 0 THEN 60 - i % 7 END
                  FROM generate_series(1, 50) i;
INSERT INTO likes SELECT p, u FROM generate_series(1, 50) p, generate_series(1, 60) u
                  WHERE (p * 7 + u * 3) % 11 = 0;
"""


def _chosen(selection: Selection) -> dict[str, dict[tuple[str | None, ...], str]]:
    return {
        leaf.name: {key: row.origin for key, row in pick.rows.items()}
        for leaf, pick in selection.picks.items()
    }


def _rows_as_text(url: str, schema: Schema) -> dict[TableName, list[Row]]:
    rows: dict[TableName, list[Row]] = {}
    for table in schema.tables:
        names = table.column_names
        columns = ", ".join(f"{c}::text" for c in names)
        found = run_sql(url, f"SELECT {columns} FROM {table.name.name} ORDER BY 1")
        rows[table.name] = [dict(zip(names, values, strict=True)) for values in found]
    return rows


@pytest.mark.parametrize("limit", [3, 10, 40])
def test_postgres_and_memory_choose_the_same_rows(empty_db_url: str, limit: int) -> None:
    run_sql(empty_db_url, SCHEMA)
    with session(empty_db_url, read_only=True) as db:
        schema = read_schema(db)
        rules = Rules(schema.data_tables, default_limit=limit, limits={TableName.parse("users"): 2})
        in_postgres = plan_selection(PostgresRows(db, schema), schema, rules)
        statements = db.statements
    memory = MemoryRows(_rows_as_text(empty_db_url, schema))
    in_memory = plan_selection(memory, schema, rules)
    assert _chosen(in_postgres) == _chosen(in_memory)
    assert sum(len(p.rows) for p in in_postgres.picks.values()) > limit
    # Every question the plan asked was one statement, plus the catalog's few.
    asked = sum(memory.calls.values())
    assert statements - asked <= 5
