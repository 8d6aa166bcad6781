"""Which rows go into the seed: limits, filters, includes, and closure over foreign keys.

The plan runs inside the database, one table at a time in dependency order, with batched
queries (`= ANY(array)`, joins against `unnest`): never a query per row. The client keeps
only the keys of the chosen rows, so its memory follows the seed, not the source.

For each table:
1. rows whose references all point at rows already chosen, first by primary key;
2. if those are too few, rows that need new parents, those needing the fewest first, until
   the table holds its limit or the parents they pull in reach twice the limit: first rows
   that miss just one reference, grouped by it so that they share the new parent, then rows
   that satisfy none; their parents come along;
3. one row per nullable or conditional relation that is set in the source but not yet in the
   seed, so tests can follow every join;
4. every row the chosen rows reference is pulled in, recursively (closure): a table that
   references itself, or a cycle through several tables, in one recursive statement.
`include` rows come first, with everything that references them, and do not count against
the limit.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg2 import sql

from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import (
    ForeignKey,
    Schema,
    Table,
    TableName,
    dependency_order,
    leaf_edges,
)
from genonaut.seed.engines.postgres.connection import Session, first_line, ident
from genonaut.seed.engines.postgres.row_queries import (
    Filter,
    Key,
    Projection,
    applies,
    key_in,
    relation_step,
    self_walk,
    user_sql,
)
from genonaut.seed.errors import ConfigError, EmptySelection, UnknownColumn

log = logging.getLogger(__name__)

# A parent a row needs: the table and key it references, and the key's values.
_Need = tuple[TableName, tuple[str, ...], Key]
OnTable = Callable[[TableName, int], None]

LIMIT = "limit"
# Rows read in key order before a selective filter is asked through its index instead.
_HEAD_ROWS = 5000
CLOSURE = "closure"
INCLUDE = "include"


@dataclass
class _Row:
    ident: Key
    refs: tuple[Key | None, ...]  # per outgoing relation: the referenced key, None when unset
    keys: tuple[Key, ...]  # per referred key of this table: this row's values
    origin: str


@dataclass
class TablePick:
    """The rows chosen from one table, by identity, with how each came in."""

    projection: Projection
    rows: dict[Key, _Row] = field(default_factory=dict)

    def count(self, origin: str) -> int:
        return sum(1 for r in self.rows.values() if r.origin == origin)


@dataclass
class Selection:
    picks: dict[TableName, TablePick]
    order: list[tuple[TableName, ...]]
    dropped: list[str] = field(default_factory=list)


class Planner:
    """Chooses the rows of every table; see the module docstring for the rules."""

    def __init__(
        self, db: Session, schema: Schema, rules: Rules, on_table: OnTable | None = None
    ) -> None:
        self.db = db
        self.schema = schema
        self.rules = rules
        self.on_table = on_table
        self.edges = leaf_edges(schema, rules.tables)
        self.order = dependency_order(rules.tables, self.edges)
        self.group_of = {leaf: i for i, group in enumerate(self.order) for leaf in group}
        # Per group of `order`, the relations a walk through the group follows (see
        # `_chain_steps`).
        self.steps: dict[int, list[tuple[TableName, ForeignKey, TableName]]] = {}
        self.picks = {t: TablePick(self._projection(t)) for t in rules.tables}
        self.done: set[TableName] = set()
        # Referenced keys the source does not have (a virtual relation over untidy data).
        self.absent: dict[tuple[TableName, tuple[str, ...]], set[Key]] = {}
        self.nonempty: set[TableName] = set()
        # Keys of the chosen rows, by (table, columns) for every table a relation may name:
        # the leaf itself and the partitioned tables above it.
        self.present: dict[tuple[TableName, tuple[str, ...]], set[Key]] = {}
        # Rows whose referencing rows `_include` has pulled in.
        self.followed: dict[TableName, set[Key]] = {}
        # Rows added since their references were last checked.
        self.unchecked: list[tuple[TableName, _Row]] = []

    def _projection(self, leaf: TableName) -> Projection:
        table = self.schema.table(leaf)
        relations = self.schema.relations_from(leaf)
        keys = sorted({fk.referred_columns for fk in self.schema.relations_to(leaf)})
        identity = table.primary_key or ("ctid",)
        referred = tuple(self._referred_types(fk) for fk in relations)
        return Projection(table, identity, relations, tuple(keys), referred)

    def _referred_types(self, fk: ForeignKey) -> tuple[str, ...]:
        target = self.schema.table(fk.referred_table)
        return tuple(target.column(c).type for c in fk.referred_columns)

    # -- the plan ---------------------------------------------------------------------------

    def run(self) -> Selection:
        self._check_includes()
        self._check_filters()
        self.nonempty = self._tables_with_rows()
        for table, condition in self.rules.include:
            self._include(table, condition)
        for group in self.order:
            for leaf in group:
                self._choose(leaf)
                self._close()
                self.done.add(leaf)
                if self.on_table is not None:
                    self.on_table(leaf, len(self.picks[leaf].rows))
        dropped = self._drop_dangling()
        self._check_not_empty()
        return Selection(self.picks, self.order, dropped)

    def _choose(self, leaf: TableName) -> None:
        if leaf not in self.nonempty:
            return
        pick = self.picks[leaf]
        proj = pick.projection
        want = self.rules.limit(leaf) - sum(1 for r in pick.rows.values() if r.origin != INCLUDE)
        if want > 0:
            usable = [fk for fk in proj.relations if self._is_constrainable(fk, leaf)]
            sats = {fk.name: self._satisfied(fk) for fk in usable}
            # 1. Every reference points at a row already chosen: no closure needed.
            short = want - self._take(leaf, list(sats.values()), proj.order_by(), want)
            if short > 0 and usable:
                # 2. Too few: rows that need new parents, the fewest first, within a budget.
                self._top_up(leaf, usable, sats, short)
            if not pick.rows:
                # 3. Even the cheapest rows need more new parents than the budget allows: one
                # reference satisfied, grouped by the others' values so that the rows share
                # few new parents.
                for fk in usable:
                    others = [c for f in usable if f is not fk for c in f.columns]
                    if self._take(leaf, [sats[fk.name]], _grouped(others, proj), want):
                        break
            if not pick.rows:
                # 4. Anything, grouped by references, and the parents come along.
                grouped = _grouped([c for f in proj.relations for c in f.columns], proj)
                self._take(leaf, [], grouped, want)
        self._cover(leaf)

    def _top_up(
        self, leaf: TableName, usable: list[ForeignKey], sats: dict[str, Filter], short: int
    ) -> None:
        """Rows whose references are not all chosen yet, those that need the fewest new parents
        first, while the parents they pull in stay within twice the table's limit.

        The candidates are, per reference, the rows that satisfy all the others, ordered by it
        so that rows sharing the new parent come together (one statement per reference); when
        those run out, rows that satisfy none, those leaving optional references unset first.
        A table with one reference (an extension table whose primary key is its foreign key)
        has only the second kind.
        """
        proj = self.picks[leaf].projection
        # Twice the limit: enough for rows that need two new parents each (a link table whose
        # rows reference rows far down the key order on both sides).
        budget = 2 * self.rules.limit(leaf)
        pulled: set[_Need] = set()
        found: list[tuple[Any, ...]] = []
        if len(usable) > 1:  # with one, step 1 already took every row that satisfies it
            for fk in usable:
                others = [f for f in usable if f is not fk]
                filters = [sats[f.name] for f in others]
                if not any(f.is_selective for f in filters):
                    anchor = self._references_any_chosen(others)
                    if anchor is None:
                        continue
                    filters.append(anchor)
                found += self._find(leaf, filters, _grouped(fk.columns, proj), short)
        short -= self._add(leaf, self._cheapest(leaf, found, short, budget, pulled), LIMIT)
        if short > 0 and len(pulled) < budget:
            # Rows that satisfy no reference: those leaving optional ones unset or pointing at
            # chosen rows first (a mandatory reference fails in every one of them).
            order = _grouped([c for f in usable for c in f.columns], proj)
            optional = [sats[f.name] for f in usable if _is_optional(f, proj.table)]
            unmet, params = _unmet(optional)
            if optional:
                order = sql.SQL("{}, {}").format(unmet, order)
            found = self._find(leaf, [], order, short, order_params=params)
            self._add(leaf, self._cheapest(leaf, found, short, budget, pulled), LIMIT)

    def _cheapest(
        self,
        leaf: TableName,
        found: list[tuple[Any, ...]],
        wanted: int,
        budget: int,
        pulled: set[_Need],
    ) -> list[tuple[Any, ...]]:
        """Up to `wanted` of the rows `found`, greedily the one needing the fewest parents not
        chosen and not yet `pulled` (ties in the order found), while `pulled` stays within
        `budget`. Takes the parents of the rows returned into `pulled`."""
        pick = self.picks[leaf]
        rows: dict[Key, tuple[Any, ...]] = {}
        for raw in found:
            key = tuple(raw[0])
            if key not in pick.rows:
                rows.setdefault(key, raw)
        needs = {key: self._needs(leaf, raw) for key, raw in rows.items()}
        waiting: dict[_Need, list[Key]] = {}
        for key, need in needs.items():
            for parent in need:
                waiting.setdefault(parent, []).append(key)
        rank = {key: i for i, key in enumerate(rows)}
        cost = {key: len(need - pulled) for key, need in needs.items()}
        # Costs only fall as parents come in: each fall pushes a fresh entry, stale ones are
        # skipped, so the top of the heap is always the cheapest row.
        heap = [(cost[key], rank[key]) for key in rows]
        heapq.heapify(heap)
        order = list(rows)
        taken: list[tuple[Any, ...]] = []
        done: set[Key] = set()
        while heap and len(taken) < wanted:
            price, position = heapq.heappop(heap)
            key = order[position]
            if key in done or price != cost[key]:
                continue
            if len(pulled) + price > budget:
                break
            done.add(key)
            taken.append(rows[key])
            for parent in needs[key] - pulled:
                pulled.add(parent)
                for other in waiting[parent]:
                    if other not in done:
                        cost[other] -= 1
                        heapq.heappush(heap, (cost[other], rank[other]))
        return taken

    def _needs(self, leaf: TableName, raw: tuple[Any, ...]) -> frozenset[_Need]:
        """The parents a row found by `_find` references that are not chosen yet."""
        relations = self.picks[leaf].projection.relations
        return frozenset(
            (rel.referred_table, rel.referred_columns, tuple(ref))
            for rel, ref in zip(relations, raw[1 : 1 + len(relations)], strict=True)
            if ref is not None
            and tuple(ref) not in self._chosen_keys(rel.referred_table, rel.referred_columns)
        )

    def _tables_with_rows(self) -> set[TableName]:
        """Which tables have any row, asked in one statement for all of them."""
        tables = list(self.rules.tables)
        if not tables:
            return set()
        query = sql.SQL("SELECT ARRAY[{}]").format(
            sql.SQL(", ").join(
                sql.SQL("EXISTS (SELECT 1 FROM {})").format(ident(t)) for t in tables
            )
        )
        flags = self.db.fetch(query, [])[0][0]
        return {t for t, has_rows in zip(tables, flags, strict=True) if has_rows}

    def _is_constrainable(self, fk: ForeignKey, leaf: TableName) -> bool:
        targets = self.schema.leaves(fk.referred_table)
        return leaf not in targets and all(t in self.done for t in targets)

    def _satisfied(self, fk: ForeignKey) -> Filter:
        """Rows whose reference is unset or points at a row already chosen."""
        chosen = self._chosen_keys(fk.referred_table, fk.referred_columns)
        table = self.schema.table(fk.table)
        # The chosen keys are in the referred columns' text form: read them as that type.
        types = self._referred_types(fk)
        if not chosen:
            return Filter(sql.SQL("NOT {}").format(applies(fk)), [])
        clause, params = key_in(fk.columns, types, chosen)
        if fk.condition is None and not any(table.column(c).is_nullable for c in fk.columns):
            return Filter(clause, params, is_selective=True)
        return Filter(sql.SQL("(NOT {} OR {})").format(applies(fk), clause), params)

    def _references_chosen(self, fk: ForeignKey) -> Filter | None:
        """Rows whose reference is set and points at a row already chosen (None if none is)."""
        chosen = self._chosen_keys(fk.referred_table, fk.referred_columns)
        if not chosen:
            return None
        clause, params = key_in(fk.columns, self._referred_types(fk), chosen)
        if fk.condition:
            clause = sql.SQL("({} AND {})").format(applies(fk), clause)
        return Filter(clause, params, is_selective=True)

    def _references_any_chosen(self, relations: Sequence[ForeignKey]) -> Filter | None:
        """Rows with at least one of `relations` set and pointing at a chosen row: a filter an
        index answers (one bitmap per relation), where `_satisfied` of a nullable relation
        also matches every row that leaves it unset."""
        parts = [f for f in (self._references_chosen(fk) for fk in relations) if f is not None]
        if not parts:
            return None
        clause = sql.SQL("({})").format(sql.SQL(" OR ").join(f.clause for f in parts))
        return Filter(clause, [p for f in parts for p in f.params], is_selective=True)

    def _chosen_keys(self, table: TableName, columns: tuple[str, ...]) -> set[Key]:
        return self.present.get((table, columns), set())

    def _index(self, leaf: TableName, row: _Row) -> None:
        proj = self.picks[leaf].projection
        for columns, values in zip(proj.keys, row.keys, strict=True):
            for owner in self.schema.ancestors(leaf):
                self.present.setdefault((owner, columns), set()).add(values)

    def _take(
        self,
        leaf: TableName,
        filters: list[Filter],
        order: sql.Composable,
        limit: int,
        origin: str = LIMIT,
    ) -> int:
        """Add up to `limit` rows matching all `filters` that are not chosen yet."""
        return self._add(leaf, self._find(leaf, filters, order, limit, origin), origin)

    def _find(
        self,
        leaf: TableName,
        filters: list[Filter],
        order: sql.Composable,
        limit: int,
        origin: str = LIMIT,
        order_params: Sequence[Any] = (),
    ) -> list[tuple[Any, ...]]:
        """Up to `limit` rows matching all `filters` that are not chosen yet, in `order`
        (whose own parameters, if any, are `order_params`)."""
        pick = self.picks[leaf]
        proj = pick.projection
        clauses: list[sql.Composable] = []
        params: list[Any] = []
        condition = self.rules.where.get(leaf)
        if condition and origin != CLOSURE:
            clauses.append(sql.SQL("({})").format(user_sql(condition)))
        for item in filters:
            clauses.append(item.clause)
            params.extend(item.params)
        if pick.rows:
            clause, values = proj.key_filter(proj.identity, pick.rows, negate=True)
            clauses.append(clause)
            params.extend(values)
        where = sql.SQL(" AND ").join(clauses) if clauses else sql.SQL("true")
        if not any(item.is_selective for item in filters):
            query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {} LIMIT {}").format(
                proj.select_list(), ident(leaf), where, order, sql.Literal(limit)
            )
            return self.db.fetch(query, [*params, *order_params])
        # The planner guesses how many rows a key list matches. Guessing many, it walks the
        # primary key and filters (a million rows to find three); guessing few, it reads every
        # match through the index (a hundred thousand rows of one busy parent). So: first the
        # head of the table in key order; only if that holds too few matches, the matches
        # through the index (OFFSET 0 keeps the planner from merging the two). Both give the
        # first rows by key, so the result does not depend on which one answers.
        if proj.table.primary_key and order == proj.order_by() and not order_params:
            head = sql.SQL(
                "SELECT {} FROM (SELECT ctid, * FROM {} ORDER BY {} LIMIT {}) AS t "
                "WHERE {} ORDER BY {} LIMIT {}"
            ).format(
                proj.select_list(),
                ident(leaf),
                order,
                sql.Literal(max(_HEAD_ROWS, 50 * limit)),
                where,
                order,
                sql.Literal(limit),
            )
            rows = self.db.fetch(head, params)
            if len(rows) == limit:
                return rows
        query = sql.SQL(
            "SELECT {} FROM (SELECT ctid, * FROM {} WHERE {} OFFSET 0) AS t ORDER BY {} LIMIT {}"
        ).format(proj.select_list(), ident(leaf), where, order, sql.Literal(limit))
        return self.db.fetch(query, [*params, *order_params])

    def _add(self, leaf: TableName, rows: list[tuple[Any, ...]], origin: str) -> int:
        pick = self.picks[leaf]
        count_refs = len(pick.projection.relations)
        added = 0
        for raw in rows:
            key = tuple(raw[0])
            if key in pick.rows:
                continue
            refs = tuple(None if v is None else tuple(v) for v in raw[1 : 1 + count_refs])
            keys = tuple(tuple(v) for v in raw[1 + count_refs :])
            row = _Row(key, refs, keys, origin)
            pick.rows[key] = row
            self._index(leaf, row)
            self.unchecked.append((leaf, row))
            added += 1
        return added

    def _cover(self, leaf: TableName) -> None:
        """One row for each optional relation that has data but no row in the seed yet. They
        count against the limit: the last rows chosen by it make room for them."""
        pick = self.picks[leaf]
        proj = pick.projection
        usable = [fk for fk in proj.relations if self._is_constrainable(fk, leaf)]
        covering: set[Key] = set()
        for index, fk in enumerate(proj.relations):
            if any(r.refs[index] is not None for r in pick.rows.values()):
                continue
            if not _is_optional(fk, proj.table):
                continue  # every row references something, so this is covered if rows exist
            set_here = Filter(applies(fk), [])
            others = [self._satisfied(f) for f in usable if f is not fk]
            order = proj.order_by()
            before = set(pick.rows)
            if not self._take(leaf, [set_here, *others], order, 1) and others:
                self._take(leaf, [set_here], order, 1)
            covering |= set(pick.rows) - before
        self._make_room(leaf, covering)

    def _make_room(self, leaf: TableName, keep: set[Key]) -> None:
        """Hold the limit after coverage rows came in: drop the last rows the limit chose."""
        pick = self.picks[leaf]
        excess = pick.count(LIMIT) - self.rules.limit(leaf)
        if excess <= 0 or not keep:
            return
        chosen = [k for k, r in pick.rows.items() if r.origin == LIMIT and k not in keep]
        dropped = set(chosen[len(chosen) - min(excess, len(chosen)) :])
        for key in dropped:
            del pick.rows[key]
        self.unchecked = [(t, r) for t, r in self.unchecked if t != leaf or r.ident not in dropped]
        self._reindex()

    def _close(self) -> None:
        """Pull in every row that a chosen row references, until nothing is missing."""
        while True:
            missing = self._missing()
            if not missing:
                return
            walks: dict[int, list[tuple[TableName, tuple[str, ...], set[Key]]]] = {}
            for (table, columns), keys in sorted(missing.items()):
                for leaf in self.schema.leaves(table):
                    group = self.group_of.get(leaf)
                    if group is not None and self._chain_steps(group):
                        walks.setdefault(group, []).append((leaf, columns, keys))
                        continue
                    proj = self.picks[leaf].projection
                    clause, params = proj.key_filter(columns, keys)
                    query = self._ancestry(leaf, columns, clause) or sql.SQL(
                        "SELECT {} FROM {} WHERE {}"
                    ).format(proj.select_list(), ident(leaf), clause)
                    self._add(leaf, self.db.fetch(query, params), CLOSURE)
            for group, starts in sorted(walks.items()):
                self._walk_group(group, starts)
            for (table, columns), keys in missing.items():
                found: set[Key] = set()
                for leaf in self.schema.leaves(table):
                    index = self.picks[leaf].projection.keys.index(columns)
                    found.update(r.keys[index] for r in self.picks[leaf].rows.values())
                gone = keys - found
                if gone:
                    self.absent.setdefault((table, columns), set()).update(gone)

    def _chain_steps(self, group: int) -> list[tuple[TableName, ForeignKey, TableName]]:
        """For a cycle through several tables: each (child, relation, parent) inside it that
        `_walk_group` follows. Only relations to a key unique across the referred table: the
        walk takes every row a reference matches, where one round at a time stops at the first
        already chosen, and the two agree only when a reference matches one row.

        Nothing for a table that references only itself, through one key and no condition:
        `_ancestry` walks that."""
        if group not in self.steps:
            members = self.order[group]
            steps = [
                (child, fk, parent)
                for child in members
                for fk in self.picks[child].projection.relations
                if self._is_unique_target(fk)
                for parent in self.schema.leaves(fk.referred_table)
                if parent in members
            ]
            alone = (
                len(members) == 1
                and self.schema.table(members[0]).partition_of is None
                and len({fk.referred_columns for _, fk, _ in steps}) <= 1
                and not any(fk.condition for _, fk, _ in steps)
            )
            self.steps[group] = [] if alone else steps
        return self.steps[group]

    def _is_unique_target(self, fk: ForeignKey) -> bool:
        if not fk.is_virtual:
            return True  # PostgreSQL requires a unique key on the referred columns
        target = self.schema.table(fk.referred_table)
        return fk.referred_columns in (target.primary_key, *target.unique_keys)

    def _walk_group(
        self, group: int, starts: list[tuple[TableName, tuple[str, ...], set[Key]]]
    ) -> None:
        """The missing rows of a cycle through several tables (a.b_id -> b, b.a_id -> a) and
        every row they reference inside it, in one recursive statement instead of one round
        per level. The walk carries (table tag, ctid) pairs, which have the equality UNION
        needs where json columns have none; each row comes back with its tag as one json
        record of what `Projection.select_list` reads, so that tables of different shapes
        share one result."""
        members = self.order[group]
        tag = {leaf: i for i, leaf in enumerate(members)}
        firsts: list[sql.Composable] = []
        params: list[Any] = []
        for leaf, columns, keys in starts:
            clause, values = self.picks[leaf].projection.key_filter(columns, keys)
            firsts.append(
                sql.SQL("SELECT {}, ctid FROM {} WHERE {}").format(
                    sql.Literal(tag[leaf]), ident(leaf), clause
                )
            )
            params.extend(values)
        steps = [
            relation_step(
                child,
                self.picks[child].projection.table,
                fk,
                self._referred_types(fk),
                child_tag=tag[child],
                parent=parent,
                parent_tag=tag[parent],
            )
            for child, fk, parent in self._chain_steps(group)
        ]
        reads = [
            sql.SQL(
                "SELECT {tag}, row_to_json(ROW({select})) FROM {table} "
                "WHERE ctid = ANY(ARRAY(SELECT w.tid FROM walk w WHERE w.tag = {tag}))"
            ).format(
                tag=sql.Literal(tag[leaf]),
                select=self.picks[leaf].projection.select_list(),
                table=ident(leaf),
            )
            for leaf in members
        ]
        query = sql.SQL(
            "WITH RECURSIVE walk (tag, tid) AS ("
            "SELECT * FROM ({firsts}) AS s "
            "UNION SELECT x.tag, x.tid FROM walk w CROSS JOIN LATERAL ({steps}) AS x(tag, tid)) "
            "{reads}"
        ).format(
            firsts=sql.SQL(" UNION ALL ").join(firsts),
            steps=sql.SQL(" UNION ALL ").join(steps),
            reads=sql.SQL(" UNION ALL ").join(reads),
        )
        found: dict[int, list[tuple[Any, ...]]] = {}
        for number, record in self.db.fetch(query, params):
            fields = [record[f"f{i}"] for i in range(1, len(record) + 1)]
            found.setdefault(number, []).append(tuple(fields))
        for leaf in members:
            self._add(leaf, found.get(tag[leaf], []), CLOSURE)

    def _ancestry(
        self, leaf: TableName, columns: tuple[str, ...], start: sql.Composable
    ) -> sql.Composable | None:
        """For a table that references itself through one key (a tree of categories, a chain
        of managers): the missing rows and all their ancestors in one recursive statement,
        instead of one round per level."""
        selfs = [
            fk
            for fk in self.picks[leaf].projection.relations
            if fk.referred_table == leaf and fk.referred_columns == columns and not fk.condition
        ]
        if not selfs or self.schema.table(leaf).partition_of is not None:
            return None
        # Several self-references to one key (a boss and a mentor) are walked together.
        proj = self.picks[leaf].projection
        return self_walk(proj, leaf, start, carry=tuple(fk.columns for fk in selfs), match=columns)

    def _missing(self) -> dict[tuple[TableName, tuple[str, ...]], set[Key]]:
        """References of the rows added since the last call that point at no chosen row."""
        missing: dict[tuple[TableName, tuple[str, ...]], set[Key]] = {}
        for leaf, row in self.unchecked:
            for fk, ref in zip(self.picks[leaf].projection.relations, row.refs, strict=True):
                if ref is None:
                    continue
                target = (fk.referred_table, fk.referred_columns)
                if ref not in self._chosen_keys(*target) and ref not in self.absent.get(target, ()):
                    missing.setdefault(target, set()).add(ref)
        self.unchecked.clear()
        return missing

    def _include(self, table: TableName, condition: str) -> None:
        """Rows the user wants, plus everything that references them, recursively."""
        frontier: dict[TableName, set[Key]] = {}
        for leaf in self.schema.leaves(table):
            proj = self.picks[leaf].projection
            query = sql.SQL("SELECT {} FROM {} WHERE ({}) ORDER BY {}").format(
                proj.select_list(), ident(leaf), user_sql(condition), proj.order_by()
            )
            matched = self.db.fetch(query, [])
            self._add(leaf, matched, INCLUDE)
            frontier[leaf] = self._unfollowed(leaf, matched)
        while any(frontier.values()):
            for parent, new in frontier.items():
                self.followed.setdefault(parent, set()).update(new)
            next_frontier: dict[TableName, set[Key]] = {}
            for parent, new in sorted(frontier.items()):
                if not new:
                    continue
                parent_pick = self.picks[parent]
                for fk in self.schema.relations_to(parent):
                    index = parent_pick.projection.keys.index(fk.referred_columns)
                    keys = {parent_pick.rows[k].keys[index] for k in new}
                    keys = {k for k in keys if None not in k}
                    for child in self.schema.leaves(fk.table):
                        if child not in self.picks or not keys:
                            continue
                        child_table = self.schema.table(child)
                        types = list(self._referred_types(fk))
                        clause, params = key_in(fk.columns, types, keys)
                        proj = self.picks[child].projection
                        start = sql.SQL("{} AND {}").format(applies(fk), clause)
                        if (
                            child == parent
                            and not fk.condition
                            and child_table.partition_of is None
                        ):
                            # Down a self-reference: the whole subtree in one statement.
                            found = self_walk(
                                proj, child, start, carry=(fk.referred_columns,), match=fk.columns
                            )
                        else:
                            found = sql.SQL("SELECT {} FROM {} WHERE {}").format(
                                proj.select_list(), ident(child), start
                            )
                        rows = self.db.fetch(found, params)
                        self._add(child, rows, INCLUDE)
                        unfollowed = self._unfollowed(child, rows)
                        next_frontier.setdefault(child, set()).update(unfollowed)
            frontier = next_frontier
        self._close()

    def _unfollowed(self, leaf: TableName, rows: list[tuple[Any, ...]]) -> set[Key]:
        """The identities of `rows` whose referencing rows no `include` has looked for yet:
        new rows, and rows already chosen otherwise (by an earlier include's closure)."""
        return {tuple(raw[0]) for raw in rows} - self.followed.get(leaf, set())

    # -- checks -----------------------------------------------------------------------------

    def _check_includes(self) -> None:
        for table, _ in self.rules.include:
            outside = [leaf for leaf in self.schema.leaves(table) if leaf not in self.picks]
            if outside:
                raise ConfigError(
                    f"--include names {table}, which is not among the tables to export",
                    hint=f"add {table} to --tables, or do not exclude it",
                )

    def _check_filters(self) -> None:
        """Run every user-written condition once on no rows, to report mistakes up front."""
        checks = [(t, c, "--where") for t, c in self.rules.where.items()]
        checks += [(t, c, "--include") for t, c in self.rules.include]
        for leaf in self.rules.tables:
            for fk in self.picks[leaf].projection.relations:
                if fk.condition:
                    checks.append((leaf, fk.condition, f"the condition of relation {fk.name}"))
        for table, condition, origin in checks:
            query = sql.SQL("SELECT 1 FROM {} WHERE ({}) LIMIT 0").format(
                ident(table), user_sql(condition)
            )
            self.db.execute("SAVEPOINT check_filter")
            try:
                self.db.fetch(query, [])
            except Exception as exc:
                self.db.execute("ROLLBACK TO SAVEPOINT check_filter")
                message = first_line(exc)
                error = UnknownColumn if "column" in message else ConfigError
                raise error(
                    f"{origin} on {table}: {condition!r} is not valid SQL there: {message}",
                    hint=f"write a condition over the columns of {table}",
                ) from exc
            self.db.execute("RELEASE SAVEPOINT check_filter")

    def _drop_dangling(self) -> list[str]:
        """Remove rows whose reference the source itself cannot satisfy, and say so."""
        notes: list[str] = []
        while True:
            removed = False
            for leaf, pick in sorted(self.picks.items()):
                for index, fk in enumerate(pick.projection.relations):
                    present = self._chosen_keys(fk.referred_table, fk.referred_columns)
                    bad = [
                        k
                        for k, r in pick.rows.items()
                        if r.refs[index] is not None and r.refs[index] not in present
                    ]
                    if not bad:
                        continue
                    for k in bad:
                        del pick.rows[k]
                    removed = True
                    self._reindex()
                    notes.append(
                        f"{leaf}: left out {len(bad)} row(s) whose {fk.describe()} "
                        "matches no row in the source"
                    )
            if not removed:
                return notes

    def _reindex(self) -> None:
        self.present.clear()
        for leaf, pick in self.picks.items():
            for row in pick.rows.values():
                self._index(leaf, row)

    def _check_not_empty(self) -> None:
        for leaf, pick in sorted(self.picks.items()):
            if pick.rows or leaf not in self.nonempty:
                continue
            condition = self.rules.where.get(leaf)
            if condition:
                raise EmptySelection(
                    f"{leaf} has rows but none match --where {condition!r}",
                    hint=f"loosen the condition, or leave {leaf} out with --exclude",
                )
            raise EmptySelection(
                f"{leaf} has rows but none could be exported: every row references a row the "
                "source does not have",
                hint="check the virtual relations in the config file",
            )


def _grouped(columns: Sequence[str], proj: Projection) -> sql.Composable:
    """Order by reference columns first (children of one parent together), then by key."""
    seen: list[str] = []
    for column in columns:
        if column not in seen:
            seen.append(column)
    if not seen:
        return proj.order_by()
    return sql.SQL("{}, {}").format(
        sql.SQL(", ").join(sql.SQL("{} NULLS LAST").format(sql.Identifier(c)) for c in seen),
        proj.order_by(),
    )


def _is_optional(fk: ForeignKey, table: Table) -> bool:
    """Whether a row may leave `fk` unset: a nullable column, or a condition."""
    return bool(fk.condition) or any(table.column(c).is_nullable for c in fk.columns)


def _unmet(filters: Sequence[Filter]) -> tuple[sql.Composable, list[Any]]:
    """How many of `filters` a row fails, as a sort key, with its parameters."""
    if not filters:
        return sql.SQL("0"), []
    total = sql.SQL(" + ").join(
        sql.SQL("(CASE WHEN {} THEN 0 ELSE 1 END)").format(f.clause) for f in filters
    )
    return sql.SQL("({})").format(total), [p for f in filters for p in f.params]


def select_rows(
    db: Session, schema: Schema, rules: Rules, on_table: OnTable | None = None
) -> Selection:
    """Choose the seed's rows. `db` must be inside one REPEATABLE READ transaction.

    Example: `select_rows(db, read_schema(db), Rules(tables=schema.data_tables))`.
    """
    return Planner(db, schema, rules, on_table).run()
