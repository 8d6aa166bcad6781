"""The selection's row questions (`core.row_source.RowSource`) answered by PostgreSQL.

Each batch of requests is one statement: every request becomes one `ARRAY(...)` of json
records in a single `SELECT`, so independent lookups (closure over several tables, the
candidates of several references) cost one round trip; requests of one batch that read the
same children of the same chosen parents read them once (`shared_scans`). The records are the
text arrays of `row_queries.select_list`, which json carries unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg2
from psycopg2 import sql

from genonaut.seed.core.row_source import (
    AnyOf,
    Condition,
    Find,
    FoundRow,
    IsSet,
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
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName
from genonaut.seed.engines.postgres.connection import Session, first_line, ident
from genonaut.seed.engines.postgres.row_queries import (
    applies,
    key_filter,
    key_in,
    order_by,
    relation_step,
    select_list,
    self_walk,
    user_sql,
)

# Rows read in key order before a selective filter is asked through its index instead.
_HEAD_ROWS = 5000

Clause = tuple[sql.Composable, list[Any]]


class PostgresRows:
    """`RowSource` over a session inside one REPEATABLE READ transaction.

    Example: `plan_selection(PostgresRows(db, schema), schema, rules)`.
    """

    def __init__(self, db: Session, schema: Schema) -> None:
        self.db = db
        self.schema = schema

    def tables_with_rows(self, tables: Sequence[TableName]) -> set[TableName]:
        """Which tables have any row, asked in one statement for all of them."""
        if not tables:
            return set()
        query = sql.SQL("SELECT ARRAY[{}]").format(
            sql.SQL(", ").join(
                sql.SQL("EXISTS (SELECT 1 FROM {})").format(ident(t)) for t in tables
            )
        )
        flags = self.db.fetch(query, [])[0][0]
        return {t for t, has_rows in zip(tables, flags, strict=True) if has_rows}

    def condition_errors(self, checks: Sequence[tuple[TableName, str]]) -> dict[int, str]:
        """Every condition run once on no rows, all in one statement. When PostgreSQL refuses
        it, the transaction is rolled back (the export stops there) and each condition is
        run alone to name the one at fault."""
        if not checks:
            return {}
        probes = [
            sql.SQL("(SELECT 1 FROM {} WHERE ({}) LIMIT 0)").format(ident(t), user_sql(c))
            for t, c in checks
        ]
        try:
            self.db.fetch(sql.SQL("SELECT {}").format(sql.SQL(", ").join(probes)), [])
            return {}
        except psycopg2.Error:
            self.db.conn.rollback()
        for position, probe in enumerate(probes):
            try:
                self.db.fetch(sql.SQL("SELECT {}").format(probe), [])
            except psycopg2.Error as exc:
                self.db.conn.rollback()
                return {position: first_line(exc)}
        return {}

    def find(self, requests: Sequence[Request]) -> list[list[FoundRow]]:
        """All requests in one statement, one json array per request. A request asked only if
        another came back short reads that one's array; its own subquery runs only then."""
        if not requests:
            return []
        shared = shared_scans(requests)
        parts = [self._request(r, shared) for r in requests]
        firsts = [i for i, r in enumerate(requests) if not _depends(r)]
        column = {i: sql.Identifier(f"r{n}") for n, i in enumerate(firsts)}
        columns: list[sql.Composable] = []
        params: list[Any] = []
        for i, request in enumerate(requests):
            if isinstance(request, Find) and request.only_if_short is not None:
                after = requests[request.only_if_short]
                if not isinstance(after, Find) or after.limit is None or _depends(after):
                    raise ValueError(f"request {i} waits on one without a limit")
                expr, values = parts[i]
                columns.append(
                    sql.SQL("CASE WHEN cardinality(b.{}) < {} THEN {} END").format(
                        column[request.only_if_short], sql.Literal(after.limit), expr
                    )
                )
                params.extend(values)
            else:
                columns.append(sql.SQL("b.{}").format(column[i]))
        inner = sql.SQL(", ").join(
            sql.SQL("{} AS {}").format(parts[i][0], column[i]) for i in firsts
        )
        params.extend(v for i in firsts for v in parts[i][1])
        # OFFSET 0 keeps each array from being inlined, and so computed, more than once.
        query = sql.SQL("SELECT {} FROM (SELECT {} OFFSET 0) AS b").format(
            sql.SQL(", ").join(columns), inner
        )
        if shared:
            scans, scan_params = self._scans(shared)
            query = sql.SQL("WITH {} {}").format(scans, query)
            params = [*scan_params, *params]
        answer = self.db.fetch(query, params)[0]
        return [
            [_found(r.projection, record) for record in records or []]
            for r, records in zip(requests, answer, strict=True)
        ]

    def walk(
        self, tables: Sequence[Projection], starts: Sequence[Start], steps: Sequence[Step]
    ) -> dict[TableName, list[FoundRow]]:
        """The rows of `starts` and every row they reach through `steps`, across tables and
        cycles, in one recursive statement instead of one round per level. The walk carries
        (table tag, ctid) pairs, which have the equality UNION needs where json columns have
        none; each row comes back with its tag as one json record of what `select_list`
        reads, so that tables of different shapes share one result."""
        by_leaf = {p.table.name: p for p in tables}
        tag = {leaf: i for i, leaf in enumerate(by_leaf)}
        firsts: list[sql.Composable] = []
        params: list[Any] = []
        for start in starts:
            clause, values = key_filter(by_leaf[start.leaf], start.columns, start.keys)
            firsts.append(
                sql.SQL("SELECT {}, ctid FROM {} WHERE {}").format(
                    sql.Literal(tag[start.leaf]), ident(start.leaf), clause
                )
            )
            params.extend(values)
        walk_steps = [
            relation_step(
                step.child,
                by_leaf[step.child].table,
                step.fk,
                self._referred_types(step.fk),
                child_tag=tag[step.child],
                parent=step.parent,
                parent_tag=tag[step.parent],
            )
            for step in steps
        ]
        reads = [
            sql.SQL(
                "SELECT {tag}, row_to_json(ROW({select})) FROM {table} "
                "WHERE ctid = ANY(ARRAY(SELECT w.tid FROM walk w WHERE w.tag = {tag}))"
            ).format(tag=sql.Literal(tag[leaf]), select=select_list(proj), table=ident(leaf))
            for leaf, proj in by_leaf.items()
        ]
        recursion = (
            sql.SQL(
                " UNION SELECT x.tag, x.tid FROM walk w CROSS JOIN LATERAL ({}) AS x(tag, tid)"
            ).format(sql.SQL(" UNION ALL ").join(walk_steps))
            if walk_steps
            else sql.SQL("")
        )
        query = sql.SQL(
            "WITH RECURSIVE walk (tag, tid) AS (SELECT * FROM ({firsts}) AS s{recursion}) {reads}"
        ).format(
            firsts=sql.SQL(" UNION ALL ").join(firsts),
            recursion=recursion,
            reads=sql.SQL(" UNION ALL ").join(reads),
        )
        leaves = list(by_leaf)
        found: dict[TableName, list[FoundRow]] = {}
        for number, record in self.db.fetch(query, params):
            leaf = leaves[number]
            found.setdefault(leaf, []).append(_found(by_leaf[leaf], record))
        return found

    # -- one request as one expression ------------------------------------------------------

    def _scans(self, shared: dict[_Scan, sql.Identifier]) -> Clause:
        """The rows each shared scan reads, once for the whole statement: a MATERIALIZED CTE
        runs when a request first reads it, and only then."""
        parts: list[sql.Composable] = []
        params: list[Any] = []
        for (leaf, condition), name in shared.items():
            clause, values = self._condition(condition)
            parts.append(
                sql.SQL("{} AS MATERIALIZED (SELECT ctid, * FROM {} WHERE {})").format(
                    name, ident(leaf), clause
                )
            )
            params.extend(values)
        return sql.SQL(", ").join(parts), params

    def _request(self, request: Request, shared: dict[_Scan, sql.Identifier]) -> Clause:
        if isinstance(request, WalkSelf):
            proj = request.projection
            start, params = self._condition(request.start)
            walk = self_walk(
                proj.table.name,
                start,
                _record(proj),
                carry=request.carry,
                match=request.match,
            )
            return sql.SQL("ARRAY({})").format(walk), params
        return self._find(request, shared)

    def _find(self, find: Find, shared: dict[_Scan, sql.Identifier]) -> Clause:
        """The rows of one `Find` as a json array. A selective filter is first tried on the
        head of the table in key order, and only if that holds too few matches through the
        index, in one expression whose second half runs only when needed."""
        proj = find.projection
        table = ident(proj.table.name)
        where, params = self._where(find)
        record = _record(proj)
        selective = any(f.is_selective for f in find.filters)
        if find.limit is None or not selective:
            order, order_params = self._order(proj, find.order)
            expr = sql.SQL("ARRAY(SELECT {} FROM {} WHERE {}{}{})").format(
                record,
                table,
                where,
                sql.SQL(" ORDER BY {}").format(order) if find.order is not None else sql.SQL(""),
                sql.SQL(" LIMIT {}").format(sql.Literal(find.limit))
                if find.limit is not None
                else sql.SQL(""),
            )
            return self._otherwise(find, expr, [*params, *order_params], shared)
        # The planner guesses how many rows a key list matches. Guessing many, it walks the
        # primary key and filters (a million rows to find three); guessing few, it reads every
        # match through the index (a hundred thousand rows of one busy parent). So: first the
        # head of the table in key order (unless the chosen parents' share of their table
        # says it holds too few: `expected_in_head`); only if the head comes up short, the
        # matches through the index (OFFSET 0 keeps the planner from merging the two). Both
        # give the first rows by key, so the result does not depend on which one answers.
        order, order_params = self._order(proj, find.order)
        limit = sql.Literal(find.limit)
        # Several requests of the statement that start from the same key list read its
        # matches once (`shared_scans`).
        scan = _scan_of(find)
        matches = table if scan is None else shared.get(scan, table)
        through_index = sql.SQL(
            "ARRAY(SELECT {} FROM (SELECT ctid, * FROM {} WHERE {} OFFSET 0) AS t "
            "ORDER BY {} LIMIT {})"
        ).format(record, matches, where, order, limit)
        index_params = [*params, *order_params]
        head_rows = max(_HEAD_ROWS, 50 * find.limit)
        if not _has_head(find) or expected_in_head(self.schema, find, head_rows) < find.limit:
            return self._otherwise(find, through_index, index_params, shared)
        head = sql.SQL(
            "ARRAY(SELECT {} FROM (SELECT ctid, * FROM {} ORDER BY {} LIMIT {}) AS t "
            "WHERE {} ORDER BY {} LIMIT {})"
        ).format(record, table, order, sql.Literal(head_rows), where, order, limit)
        # An uncorrelated subquery runs when its value is first needed: the index half only
        # when the head came up short. OFFSET 0 keeps the head from being inlined twice.
        expr = sql.SQL(
            "(SELECT CASE WHEN cardinality(h.a) = {} THEN h.a ELSE {} END "
            "FROM (SELECT {} AS a OFFSET 0) AS h)"
        ).format(limit, through_index, head)
        return self._otherwise(find, expr, [*index_params, *params], shared)

    def _otherwise(
        self,
        find: Find,
        expr: sql.Composable,
        params: list[Any],
        shared: dict[_Scan, sql.Identifier],
    ) -> Clause:
        if find.otherwise is None:
            return expr, params
        other, other_params = self._find(find.otherwise, shared)
        return (
            sql.SQL(
                "(SELECT CASE WHEN cardinality(f.a) > 0 THEN f.a ELSE {} END "
                "FROM (SELECT {} AS a OFFSET 0) AS f)"
            ).format(other, expr),
            [*other_params, *params],
        )

    def _where(self, find: Find) -> Clause:
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        for item in find.filters:
            clause, values = self._condition(item.condition)
            clauses.append(clause)
            params.extend(values)
        if find.exclude:
            proj = find.projection
            clause, values = key_filter(proj, proj.identity, find.exclude, negate=True)
            clauses.append(clause)
            params.extend(values)
        where = sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("true")
        return where, params

    def _condition(self, condition: Condition) -> Clause:
        if isinstance(condition, IsSet):
            return applies(condition.fk), []
        if isinstance(condition, RefersTo):
            fk = condition.fk
            return key_in(fk.columns, self._referred_types(fk), condition.keys)
        if isinstance(condition, Where):
            return sql.SQL("({})").format(user_sql(condition.text)), []
        if isinstance(condition, Not):
            clause, params = self._condition(condition.part)
            return sql.SQL("NOT {}").format(clause), params
        joiner = sql.SQL(" OR " if isinstance(condition, AnyOf) else " AND ")
        parts = [self._condition(part) for part in condition.parts]
        return (
            sql.SQL("({})").format(joiner.join(c for c, _ in parts)),
            [v for _, values in parts for v in values],
        )

    def _order(self, proj: Projection, order: Order | None) -> Clause:
        """The order's SQL and its parameters (those of `unmet`)."""
        if order is None or order.is_key_order:
            return order_by(proj), []
        parts: list[sql.Composable] = []
        params: list[Any] = []
        if order.unmet:
            fails = []
            for condition in order.unmet:
                clause, values = self._condition(condition)
                fails.append(sql.SQL("(CASE WHEN {} THEN 0 ELSE 1 END)").format(clause))
                params.extend(values)
            parts.append(sql.SQL("({})").format(sql.SQL(" + ").join(fails)))
        parts.extend(sql.SQL("{} NULLS LAST").format(sql.Identifier(c)) for c in order.grouped)
        parts.append(order_by(proj))
        return sql.SQL(", ").join(parts), params

    def _referred_types(self, fk: ForeignKey) -> tuple[str, ...]:
        target = self.schema.table(fk.referred_table)
        return tuple(target.column(c).type for c in fk.referred_columns)


def expected_in_head(schema: Schema, find: Find, head_rows: int) -> float:
    """How many of a table's first `head_rows` rows in key order match `find`, were its
    references spread evenly over their parents: each key list matches its share of the
    parent table's estimated rows. Below the request's limit the head is not tried: it would
    come up short, and the matches through the index be read anyway."""
    share = 1.0
    for item in find.filters:
        condition = item.condition
        if item.is_selective and isinstance(condition, RefersTo):
            parents = schema.table(condition.fk.referred_table).estimated_rows
            if parents > 0:
                share *= min(1.0, len(condition.keys) / parents)
    return head_rows * share


# A table and the selective condition a request reads it through.
_Scan = tuple[TableName, Condition]


def _scan_of(find: Find) -> _Scan | None:
    """The table and the first selective condition of a request read through an index."""
    if find.limit is None:
        return None
    first = next((f for f in find.filters if f.is_selective), None)
    return None if first is None else (find.projection.table.name, first.condition)


def shared_scans(requests: Sequence[Request]) -> dict[_Scan, sql.Identifier]:
    """Scans that more than one request of a batch reads through an index whatever the data,
    each with a name for the statement: a table's turn asks for the rows of each reference
    whose other references point at chosen rows, each reading the same children of the same
    chosen parents. A request in key order (which may try the head of the table first) and a
    fallback when another finds nothing do not count: a shared scan reads every match, where
    a scan of its own may stop early or not run; sharing those too was measured slower."""
    counts: dict[_Scan, int] = {}
    for request in requests:
        if not isinstance(request, Find):
            continue
        scan = _scan_of(request)
        if scan is not None and not _has_head(request):
            counts[scan] = counts.get(scan, 0) + 1
    shared = [scan for scan, count in counts.items() if count > 1]
    return {scan: sql.Identifier(f"s{n}") for n, scan in enumerate(shared)}


def _has_head(find: Find) -> bool:
    """Whether a request through an index first tries the head of the table in key order."""
    return bool(find.projection.table.primary_key) and (
        find.order is not None and find.order.is_key_order
    )


def _depends(request: Request) -> bool:
    return isinstance(request, Find) and request.only_if_short is not None


def _record(proj: Projection) -> sql.Composable:
    return sql.SQL("row_to_json(ROW({}))").format(select_list(proj))


def _found(proj: Projection, record: dict[str, Any]) -> FoundRow:
    """A json record of `select_list` (fields f1, f2, ..., in that order) as the plan's row."""
    fields = list(record.values())
    count = len(proj.relations)
    return FoundRow(
        tuple(fields[0]),
        tuple(None if v is None else tuple(v) for v in fields[1 : 1 + count]),
        tuple(tuple(v) for v in fields[1 + count :]),
    )
