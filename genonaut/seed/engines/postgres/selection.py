"""Which rows go into the seed, on PostgreSQL: the core's plan (`core.selection`) asking
`PostgresRows` its row questions."""

from __future__ import annotations

from genonaut.seed.core.picks import CLOSURE, INCLUDE, LIMIT, Selection, TablePick
from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import Schema
from genonaut.seed.core.selection import OnTable, plan_selection
from genonaut.seed.engines.postgres.connection import Session
from genonaut.seed.engines.postgres.row_source import PostgresRows

__all__ = ["CLOSURE", "INCLUDE", "LIMIT", "Selection", "TablePick", "select_rows"]


def select_rows(
    db: Session, schema: Schema, rules: Rules, on_table: OnTable | None = None
) -> Selection:
    """Choose the seed's rows. `db` must be inside one REPEATABLE READ transaction.

    Example: `select_rows(db, read_schema(db), Rules(tables=schema.data_tables))`.
    """
    return plan_selection(PostgresRows(db, schema), schema, rules, on_table)
