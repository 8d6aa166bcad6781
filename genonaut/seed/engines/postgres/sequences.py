"""Sequences moved past the rows a load wrote: every privilege checked first, then, last before
COMMIT, `ALTER SEQUENCE ... RESTART` inside the transaction where the role owns the sequence,
`setval` (not undone by a rollback) where it only may UPDATE it."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from psycopg2 import sql

from genonaut.seed.core.load_plan import is_number
from genonaut.seed.core.schema_graph import Schema, TableName
from genonaut.seed.errors import ConfigError, LoadFailed

from .connection import Session, ident
from .load_errors import PRIVILEGE_HINT


def advance_sequences(
    db: Session, schema: Schema, tables: Iterable[TableName]
) -> list[tuple[TableName, int]]:
    """Move each sequence feeding a loaded table past the values in every table it feeds
    (several tables may share one): past the largest for an ascending sequence, the smallest
    for a descending one. A sequence is never moved backwards.

    `setval` is not undone by a rollback, so nothing moves until every check has passed: one
    statement reads every sequence, whether the role may move it (UPDATE) and own it, and the
    values; a missing privilege or a value outside a sequence's bounds raises before any move.
    A sequence the role owns is then moved inside the transaction: `ALTER SEQUENCE ... RESTART`
    gives it new storage that a rollback throws away, with the `setval` that follows. The
    others (UPDATE granted, not owned) move by `setval` alone, in the import's last statement
    before COMMIT.
    """
    loaded = {a for t in tables for a in schema.ancestors(t)}
    chosen: list[tuple[TableName, list[tuple[TableName, str]]]] = []
    for seq in schema.sequences:
        if not loaded & {t for t, _ in seq.feeds}:
            continue
        feeds = [(t, c) for t, c in seq.feeds if is_number(schema, t, c)]
        if feeds:
            chosen.append((seq.name, feeds))
    if not chosen:
        return []
    check_sequence_privileges(db, [name for name, _ in chosen])

    def extreme(function: str, feeds: list[tuple[TableName, str]]) -> sql.Composable:
        return sql.SQL(", ").join(
            sql.SQL("(SELECT {}({})::numeric FROM {})").format(
                sql.SQL(function), sql.Identifier(c), ident(t)
            )
            for t, c in feeds
        )

    parts = [
        sql.SQL(
            "SELECT {}::int, q.seqincrement, q.seqmin, q.seqmax, s.last_value, s.is_called, "
            "greatest({}), least({}), pg_has_role(c.relowner, 'USAGE') "
            "FROM pg_sequence q JOIN pg_class c ON c.oid = q.seqrelid, {} s "
            "WHERE q.seqrelid = {}"
        ).format(
            sql.Literal(i),
            extreme("max", feeds),
            extreme("min", feeds),
            ident(name),
            _regclass(name),
        )
        for i, (name, feeds) in enumerate(chosen)
    ]
    moves: list[tuple[TableName, int]] = []
    owned: list[TableName] = []
    for i, step, low, high, last, is_called, largest, smallest, is_owner in db.fetch(
        sql.SQL(" UNION ALL ").join(sql.SQL("({})").format(p) for p in parts)
    ):
        name, feeds = chosen[i]
        value = largest if step > 0 else smallest
        if value is None or value != int(value):
            continue
        value = int(value)
        ahead = value > last if step > 0 else value < last
        if not (ahead or (value == last and not is_called)):
            continue
        if not low <= value <= high:
            columns = ", ".join(f"{t}.{c}" for t, c in feeds)
            raise LoadFailed(
                f"sequence {name} feeds {columns}, which now hold {value}, outside the "
                f"sequence's range {low}..{high}: its next value would collide",
                hint=f"widen the sequence (ALTER SEQUENCE {name.qualified} MINVALUE/MAXVALUE), "
                "or re-export the fixtures",
            )
        moves.append((name, value))
        if is_owner:
            owned.append(name)
    if moves:
        # One round trip: the RESTARTs, then every setval.
        restarts = [sql.SQL("ALTER SEQUENCE {} RESTART").format(ident(n)) for n in owned]
        setvals = sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(
                sql.SQL("setval({}, {})").format(_regclass(name), sql.Literal(value))
                for name, value in moves
            )
        )
        db.execute(sql.SQL("; ").join([*restarts, setvals]))
    return moves


def check_sequence_privileges(db: Session, names: Sequence[TableName]) -> None:
    """Raise ConfigError naming every sequence the role may not move (setval needs UPDATE),
    before any of them moves."""
    rows = db.fetch(
        sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(
                sql.SQL("has_sequence_privilege({}, 'UPDATE')").format(_regclass(n)) for n in names
            )
        )
    )
    refused = [str(n) for n, allowed in zip(names, rows[0], strict=True) if not allowed]
    if refused:
        raise ConfigError(
            f"permission denied for sequence(s) {', '.join(refused)}; nothing was loaded",
            hint=PRIVILEGE_HINT,
        )


def _regclass(name: TableName) -> sql.Composable:
    return sql.SQL("to_regclass(quote_ident({}) || '.' || quote_ident({}))").format(
        sql.Literal(name.schema), sql.Literal(name.name)
    )
