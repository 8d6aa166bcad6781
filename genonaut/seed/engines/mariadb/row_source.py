"""The selection's row questions (`core.row_source.RowSource`) answered by MariaDB.

Each batch of requests is one statement: every request (and each `otherwise` of it) becomes a
common table expression, and one UNION ALL reads them all, each row tagged with its request's
number and its rank in the request's order. Rows of different tables share the result's
columns: every value is read as utf8mb4 text (`row_queries.select_list`), and shorter rows are
padded with NULLs. A request asked only if another came back short, or an `otherwise`, is
guarded by a count of, or `NOT EXISTS` over, the expression it waits on. Recursive walks
(`walk`, `WalkSelf`) are `WITH RECURSIVE` expressions. The export's transaction is READ ONLY,
so nothing is written: no scratch tables, key lists travel as row constructors.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pymysql

from genonaut.seed.core.row_source import (
    AnyOf,
    Condition,
    Find,
    FoundRow,
    IsSet,
    Key,
    Not,
    Order,
    Projection,
    RefersTo,
    Request,
    Start,
    Step,
    WalkSelf,
    Where,
)
from genonaut.seed.core.schema_graph import Column, ForeignKey, Schema, TableName

from .connection import Session, ident
from .row_queries import (
    CTID,
    Clause,
    applies,
    column_sql,
    key_in,
    key_order,
    lexing_problem,
    select_list,
    sort_term,
    source,
    user_sql,
    width,
)
from .values import to_text

# MariaDB ends a recursive expression after max_recursive_iterations rounds (1000 by default
# since 10.6) without an error, which would cut a walk up a longer chain short; each statement
# lifts it for itself. A walk ends anyway: each round adds rows not found before, or none.
_UNBOUNDED = "SET STATEMENT max_recursive_iterations = 4294967295 FOR "
_REQUEST = "_gs_r"
_RANK = "_gs_n"


def _value(k: int) -> str:
    return f"_gs_v{k}"


def _sort(k: int) -> str:
    return f"_gs_s{k}"


class MariaDBRows:
    """`RowSource` over a session inside the export's consistent, read-only snapshot.

    Example: `plan_selection(MariaDBRows(db, schema), schema, rules)` with `db` from
    `session(url, read_only=True)`.
    """

    def __init__(self, db: Session, schema: Schema) -> None:
        self.db = db
        self.schema = schema

    # -- RowSource --------------------------------------------------------------------------

    def tables_with_rows(self, tables: Sequence[TableName]) -> set[TableName]:
        """Which tables have any row, asked in one statement for all of them."""
        if not tables:
            return set()
        query = "SELECT " + ", ".join(f"EXISTS (SELECT 1 FROM {ident(t)})" for t in tables)
        (flags,) = self.db.fetch(query)
        return {t for t, flag in zip(tables, flags, strict=True) if int(flag)}

    def condition_errors(self, checks: Sequence[tuple[TableName, str]]) -> dict[int, str]:
        """A condition that MariaDB would read differently from the check it passed (a
        backslash in a quoted string, a `#` comment), then every condition run once on no rows,
        all in one statement. A failed statement leaves MariaDB's transaction and snapshot as
        they were, so when it fails each condition is run alone to name the one at fault."""
        refused = {i: why for i, (_, text) in enumerate(checks) if (why := lexing_problem(text))}
        if refused or not checks:
            return refused
        probes = [
            f"(SELECT 1 FROM {source(self.schema.table(t))} WHERE {user_sql(c)} LIMIT 0)"
            for t, c in checks
        ]
        try:
            self.db.fetch("SELECT " + ", ".join(probes), ())
            return {}
        except pymysql.err.MySQLError:
            pass
        for position, probe in enumerate(probes):
            try:
                self.db.fetch("SELECT " + probe, ())
            except pymysql.err.MySQLError as exc:
                return {position: str(exc.args[1] if len(exc.args) > 1 else exc)}
        return {}

    def find(self, requests: Sequence[Request]) -> list[list[FoundRow]]:
        """All requests in one statement (see the module docstring)."""
        if not requests:
            return []
        ctes: list[str] = []
        params: list[Any] = []
        # Per request, its expressions (an `otherwise` chain) and how many sort columns each has.
        named: list[list[tuple[str, int]]] = []
        for number, request in enumerate(requests):
            name = f"_gs_q{number}"
            if isinstance(request, WalkSelf):
                named.append([self._walk_self(request, name, ctes, params)])
            else:
                named.append(self._find(request, name, ctes, params))
        names = [[n for n, _ in chain] for chain in named]
        total = max(width(r.projection) for r in requests)
        parts: list[str] = []
        for number, request in enumerate(requests):
            guard: list[str] = []
            after = request.only_if_short if isinstance(request, Find) else None
            if after is not None:
                waited = requests[after]
                if (
                    not isinstance(waited, Find)
                    or waited.limit is None
                    or waited.only_if_short is not None
                ):
                    raise ValueError(f"request {number} waits on one without a limit")
                guard.append(f"{_count(names[after])} < {waited.limit}")
            for k, (name, sorts) in enumerate(named[number]):
                tests = [*guard, *(f"NOT EXISTS (SELECT 1 FROM {n})" for n in names[number][:k])]
                parts.append(_part(number, name, width(request.projection), total, sorts, tests))
        query = (
            f"{_UNBOUNDED}WITH RECURSIVE {', '.join(ctes)} SELECT * FROM ("
            + " UNION ALL ".join(parts)
            + f") AS _gs_all ORDER BY {_REQUEST}, {_RANK}"
        )
        found: list[list[FoundRow]] = [[] for _ in requests]
        for row in self.db.fetch(query, params):
            number = int(row[0])
            found[number].append(self._found(requests[number].projection, row[2:]))
        return found

    def walk(
        self, tables: Sequence[Projection], starts: Sequence[Start], steps: Sequence[Step]
    ) -> dict[TableName, list[FoundRow]]:
        """The rows of `starts` and every row they reach through `steps`, across tables and
        cycles, in one recursive statement. The walk's rows are (table tag, identity): each
        table has identity columns of its own (NULL in other tables' rows), typed by the first
        half of the expression, so that they compare with the table's keys through its index."""
        by_leaf = {p.table.name: p for p in tables}
        leaves = list(by_leaf)
        tag = {leaf: i for i, leaf in enumerate(leaves)}
        offset: dict[TableName, int] = {}
        slots = 0
        for leaf in leaves:
            offset[leaf] = slots
            slots += len(by_leaf[leaf].identity)
        names = ["_gs_tag", *(f"_gs_i{k}" for k in range(slots))]

        def row_of(leaf: TableName, prefix: str) -> str:
            values = ["NULL"] * slots
            for k, column in enumerate(by_leaf[leaf].identity):
                values[offset[leaf] + k] = column_sql(column, prefix)
            return ", ".join([str(tag[leaf]), *values])

        params: list[Any] = []
        firsts: list[str] = []
        for leaf in leaves:
            table = by_leaf[leaf].table
            tests: list[str] = []
            for start in starts:
                if start.leaf == leaf:
                    typed = [None if c == CTID else table.column(c) for c in start.columns]
                    clause, values = key_in(table, start.columns, typed, start.keys)
                    tests.append(clause)
                    params.extend(values)
            where = " OR ".join(tests) if tests else "FALSE"
            firsts.append(f"SELECT {row_of(leaf, '')} FROM {source(table)} WHERE {where}")
        nexts: list[str] = []
        for step in steps:
            child = by_leaf[step.child]
            parent = by_leaf[step.parent].table
            found = " AND ".join(
                f"{column_sql(c, '_gs_c.')} = _gs_w.{names[1 + offset[step.child] + k]}"
                for k, c in enumerate(child.identity)
            )
            pairs = " AND ".join(
                f"_gs_p.{column_sql(rc)} = _gs_c.{column_sql(c)}"
                for c, rc in zip(step.fk.columns, step.fk.referred_columns, strict=True)
            )
            nexts.append(
                f"SELECT {row_of(step.parent, '_gs_p.')} FROM _gs_walk AS _gs_w "
                f"JOIN (SELECT * FROM {source(child.table)} WHERE {applies(step.fk)}) AS _gs_c "
                f"ON _gs_w._gs_tag = {tag[step.child]} AND {found} "
                f"JOIN {source(parent, '_gs_p')} ON {pairs}"
            )
        total = max(width(p) for p in tables)
        reads: list[str] = []
        for leaf in leaves:
            proj = by_leaf[leaf]
            own = ", ".join(names[1 + offset[leaf] + k] for k in range(len(proj.identity)))
            values = self._select(proj)
            padding = ["NULL"] * (total - len(values))
            listed = ", ".join(f"{v} AS {_value(k)}" for k, v in enumerate([*values, *padding]))
            reads.append(
                f"SELECT {tag[leaf]} AS {_REQUEST}, 0 AS {_RANK}, {listed} "
                f"FROM {source(proj.table)} WHERE ({_columns(proj.identity)}) IN "
                f"(SELECT {own} FROM _gs_walk WHERE _gs_tag = {tag[leaf]})"
            )
        query = (
            f"{_UNBOUNDED}WITH RECURSIVE _gs_walk ({', '.join(names)}) AS ("
            + " UNION ".join([*firsts, *nexts])
            + ") "
            + " UNION ALL ".join(reads)
        )
        result: dict[TableName, list[FoundRow]] = {}
        for row in self.db.fetch(query, params):
            leaf = leaves[int(row[0])]
            result.setdefault(leaf, []).append(self._found(by_leaf[leaf], row[2:]))
        return result

    # -- one request as common table expressions ---------------------------------------------

    def _find(
        self, find: Find, name: str, ctes: list[str], params: list[Any]
    ) -> list[tuple[str, int]]:
        """The expressions of a `Find` and of its `otherwise` chain, named `name`, `name_o`..."""
        proj = find.projection
        sorts, sort_params = self._order(proj, find.order)
        where, where_params = self._where(find)
        values = self._select(proj)
        columns = [
            *(f"{v} AS {_value(k)}" for k, v in enumerate(values)),
            *(f"{s} AS {_sort(k)}" for k, s in enumerate(sorts)),
        ]
        order = f" ORDER BY {', '.join(_sort(k) for k in range(len(sorts)))}" if sorts else ""
        limit = f" LIMIT {int(find.limit)}" if find.limit is not None else ""
        ctes.append(
            f"{name} AS (SELECT {', '.join(columns)} FROM {source(proj.table)} "
            f"WHERE {where}{order}{limit})"
        )
        params.extend([*sort_params, *where_params])
        if find.otherwise is None:
            return [(name, len(sorts))]
        return [(name, len(sorts)), *self._find(find.otherwise, name + "_o", ctes, params)]

    def _walk_self(
        self, walk: WalkSelf, name: str, ctes: list[str], params: list[Any]
    ) -> tuple[str, int]:
        """Rows matching `start`, then rows whose `match` columns hold one of the `carry`
        column lists of rows found, recursively. The walk's rows are (identity, carried
        values); UNION keeps each once, so a cycle ends."""
        proj = walk.projection
        table = proj.table
        ids = [f"_gs_i{k}" for k in range(len(proj.identity))]
        keys = [f"_gs_k{k}" for k in range(len(walk.match))]
        choose = (
            "("
            + " UNION ALL ".join(f"SELECT {j} AS _gs_j" for j in range(len(walk.carry)))
            + ") AS _gs_sel"
        )

        def carried(prefix: str) -> list[str]:
            return [
                "CASE _gs_sel._gs_j "
                + " ".join(
                    f"WHEN {j} THEN {column_sql(columns[k], prefix)}"
                    for j, columns in enumerate(walk.carry)
                )
                + " END"
                for k in range(len(walk.match))
            ]

        start, start_params = self._condition(table.name, walk.start)
        identity = [column_sql(c) for c in proj.identity]
        following = [column_sql(c, "_gs_n.") for c in proj.identity]
        matches = " AND ".join(
            f"{column_sql(m, '_gs_n.')} = _gs_w.{k}" for m, k in zip(walk.match, keys, strict=True)
        )
        walked = f"{name}_w"
        ctes.append(
            f"{walked} ({', '.join([*ids, *keys])}) AS ("
            f"SELECT {', '.join([*identity, *carried('')])} FROM {source(table)} "
            f"JOIN {choose} WHERE {start} "
            f"UNION SELECT {', '.join([*following, *carried('_gs_n.')])} "
            f"FROM {source(table, '_gs_n')} JOIN {walked} AS _gs_w ON {matches} JOIN {choose})"
        )
        params.extend(start_params)
        values = self._select(proj)
        sorts = key_order(table)
        columns = [
            *(f"{v} AS {_value(k)}" for k, v in enumerate(values)),
            *(f"{s} AS {_sort(k)}" for k, s in enumerate(sorts)),
        ]
        ctes.append(
            f"{name} AS (SELECT {', '.join(columns)} FROM {source(table)} "
            f"WHERE ({_columns(proj.identity)}) IN (SELECT {', '.join(ids)} FROM {walked}))"
        )
        return name, len(sorts)

    def _select(self, proj: Projection) -> list[str]:
        return select_list(proj, [self._referred(fk) for fk in proj.relations])

    def _referred(self, fk: ForeignKey) -> list[Column]:
        target = self.schema.table(fk.referred_table)
        return [target.column(c) for c in fk.referred_columns]

    def _where(self, find: Find) -> Clause:
        clauses: list[str] = []
        params: list[Any] = []
        table = find.projection.table
        for item in find.filters:
            clause, values = self._condition(table.name, item.condition)
            clauses.append(clause)
            params.extend(values)
        if find.exclude:
            identity = find.projection.identity
            typed = [None if c == CTID else table.column(c) for c in identity]
            clause, values = key_in(table, identity, typed, find.exclude, negate=True)
            clauses.append(clause)
            params.extend(values)
        return (" AND ".join(clauses) if clauses else "TRUE"), params

    def _condition(self, leaf: TableName, condition: Condition) -> Clause:
        if isinstance(condition, IsSet):
            return applies(condition.fk), []
        if isinstance(condition, RefersTo):
            fk = condition.fk
            table = self.schema.table(leaf)
            return key_in(table, fk.columns, self._referred(fk), condition.keys)
        if isinstance(condition, Where):
            return user_sql(condition.text), []
        if isinstance(condition, Not):
            clause, params = self._condition(leaf, condition.part)
            return f"NOT {clause}", params
        if not condition.parts:
            return ("FALSE" if isinstance(condition, AnyOf) else "TRUE"), []
        joiner = " OR " if isinstance(condition, AnyOf) else " AND "
        parts = [self._condition(leaf, part) for part in condition.parts]
        return (
            "(" + joiner.join(c for c, _ in parts) + ")",
            [v for _, values in parts for v in values],
        )

    def _order(self, proj: Projection, order: Order | None) -> tuple[list[str], list[Any]]:
        """The sort terms of an order (none for no order) and their parameters."""
        table = proj.table
        if order is None:
            return [], []
        terms: list[str] = []
        params: list[Any] = []
        if order.unmet:
            fails = []
            for condition in order.unmet:
                clause, values = self._condition(table.name, condition)
                fails.append(f"(CASE WHEN {clause} THEN 0 ELSE 1 END)")
                params.extend(values)
            terms.append("(" + " + ".join(fails) + ")")
        for column in order.grouped:
            terms += [f"{column_sql(column)} IS NULL", sort_term(table, column)]
        return [*terms, *key_order(table)], params

    def _found(self, proj: Projection, values: Sequence[Any]) -> FoundRow:
        """A row of `select_list` texts as the plan's row."""
        table = proj.table
        position = 0

        def take(columns: Sequence[Column | None]) -> Key:
            nonlocal position
            raw = values[position : position + len(columns)]
            position += len(columns)
            return tuple(
                _plain(v) if c is None else to_text(c, v) for c, v in zip(columns, raw, strict=True)
            )

        def own(names: Sequence[str]) -> list[Column | None]:
            return [None if n == CTID else table.column(n) for n in names]

        identity = take(own(proj.identity))
        refs: list[Key | None] = []
        for fk in proj.relations:
            ref = take(self._referred(fk))
            refs.append(None if ref[0] is None else ref)
        keys = tuple(take(own(key)) for key in proj.keys)
        return FoundRow(identity, tuple(refs), keys)


def _plain(raw: Any) -> str | None:
    if raw is None:
        return None
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def _columns(names: Sequence[str]) -> str:
    return ", ".join(column_sql(n) for n in names)


def _count(names: Sequence[str]) -> str:
    """How many rows a request with an `otherwise` chain (`names`) gives: the first
    expression's, or when it has none, the next one's."""
    if len(names) == 1:
        return f"(SELECT COUNT(*) FROM {names[0]})"
    return (
        f"(CASE WHEN EXISTS (SELECT 1 FROM {names[0]}) THEN (SELECT COUNT(*) FROM {names[0]}) "
        f"ELSE {_count(names[1:])} END)"
    )


def _part(number: int, name: str, own: int, total: int, sorts: int, tests: list[str]) -> str:
    """One expression's rows in the batch's shape: request number, rank, values padded."""
    ranked = f"ORDER BY {', '.join(_sort(k) for k in range(sorts))}" if sorts else ""
    values = [
        *(_value(k) for k in range(own)),
        *(f"NULL AS {_value(k)}" for k in range(own, total)),
    ]
    where = f" WHERE {' AND '.join(tests)}" if tests else ""
    return (
        f"SELECT {number} AS {_REQUEST}, ROW_NUMBER() OVER ({ranked}) "
        f"AS {_RANK}, {', '.join(values)} FROM {name}{where}"
    )
