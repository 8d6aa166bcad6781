"""Which rows go into the seed: limits, filters, includes, and closure over foreign keys.

The decisions live here; an engine answers the row questions they raise (`RowSource`), in
batches (key lists, recursive walks): never a question per row. The plan keeps only the keys
of the chosen rows, so its memory follows the seed, not the source.

For each table, in dependency order:
1. rows whose references all point at rows already chosen, first by primary key;
2. if those are too few, rows that need new parents, those needing the fewest first, until
   the table holds its limit or the parents they pull in reach twice the limit: first rows
   that miss just one reference, grouped by it so that they share the new parent, then rows
   that satisfy none; their parents come along;
3. one row per nullable or conditional relation that is set in the source but not yet in the
   seed, so tests can follow every join;
4. every row the chosen rows reference is pulled in, recursively (`closure.Closure`): one
   walk per round across tables, self-references and cycles.
`include` rows come first, with everything that references them, and do not count against
the limit. What has been chosen so far, and the keys it holds, is kept in `picks.Chosen`.
"""

from __future__ import annotations

import heapq
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from genonaut.seed.core.closure import Closure
from genonaut.seed.core.picks import (
    INCLUDE,
    LIMIT,
    Chosen,
    Selection,
)
from genonaut.seed.core.row_source import (
    KEY_ORDER,
    AllOf,
    AnyOf,
    Condition,
    Filter,
    Find,
    FoundRow,
    IsSet,
    Key,
    Not,
    Order,
    RefersTo,
    Request,
    RowSource,
    WalkSelf,
    Where,
)
from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import (
    ForeignKey,
    Schema,
    Table,
    TableName,
    dependency_order,
    leaf_edges,
)
from genonaut.seed.errors import ConfigError, EmptySelection, UnknownColumn

log = logging.getLogger(__name__)

# A parent a row needs: the table and key it references, and the key's values.
_Need = tuple[TableName, tuple[str, ...], Key]
OnTable = Callable[[TableName, int], None]


@dataclass(frozen=True)
class _Turn:
    """What a table's turn asks (see `Planner._turn`) and what it needs to read the answers."""

    leaf: TableName
    want: int
    usable: list[ForeignKey]
    sats: dict[str, Filter]
    asks: list[Find]
    per_reference: int
    covers: list[tuple[int, Find]]
    # Step 2's rows that satisfy no reference, asked only when the candidates per reference
    # leave the table short (see `_choose`); None when they are among `asks`.
    unmet: Find | None = None

    @property
    def requests(self) -> list[Find]:
        return [*self.asks, *(query for _, query in self.covers)]


class Planner:
    """Chooses the rows of every table; see the module docstring for the rules."""

    def __init__(
        self, source: RowSource, schema: Schema, rules: Rules, on_table: OnTable | None = None
    ) -> None:
        self.source = source
        self.schema = schema
        self.rules = rules
        self.on_table = on_table
        self.edges = leaf_edges(schema, rules.tables)
        self.order = dependency_order(rules.tables, self.edges)
        self.chosen = Chosen(schema, rules.tables)
        self.picks = self.chosen.tables
        self.closure = Closure(source, self.chosen)
        self.done: set[TableName] = set()
        self.nonempty: set[TableName] = set()
        # Rows whose referencing rows `_include` has pulled in.
        self.followed: dict[TableName, set[Key]] = {}

    # -- the plan ---------------------------------------------------------------------------

    def run(self) -> Selection:
        self._check_includes()
        self._check_filters()
        self.nonempty = self.source.tables_with_rows(list(self.rules.tables))
        for table, condition in self.rules.include:
            self._include(table, condition)
        ahead = self._ask_ahead()
        for group in self.order:
            for leaf in group:
                if leaf in self.nonempty:
                    asked = ahead.pop(leaf, None)
                    turn, answers = asked or self._ask([self._turn(leaf)])[0]
                    self._choose(leaf, turn, answers)
                self.closure.close()
                self.done.add(leaf)
                if self.on_table is not None:
                    self.on_table(leaf, len(self.picks[leaf].rows))
        dropped = self.chosen.drop_dangling()
        self._check_not_empty()
        return Selection(self.picks, self.order, dropped, self.closure.rounds)

    def _turn(self, leaf: TableName) -> _Turn:
        """What steps 1 to 3 ask for one table, in one batch: the rows of step 2 only if step
        1 comes up short, each list up to the whole want, so that the rows step 1 took can be
        struck from it afterwards (`_fresh`); coverage rows for every relation no chosen row
        sets yet (`_cover`)."""
        pick = self.picks[leaf]
        want = self.rules.limit(leaf) - sum(1 for r in pick.rows.values() if r.origin != INCLUDE)
        usable = [fk for fk in pick.projection.relations if self._is_constrainable(fk, leaf)]
        sats = {fk.name: self._satisfied(fk) for fk in usable}
        asks: list[Find] = []
        per_reference: list[Find] = []
        later: Find | None = None
        if want > 0:
            # 1. Every reference points at a row already chosen: no closure needed.
            asks.append(self._query(leaf, list(sats.values()), KEY_ORDER, want))
            if usable:
                per_reference, unmet = self._candidates(leaf, usable, sats, want)
                # Without candidates per reference, step 2 reads the unmet rows whenever step 1
                # comes up short: in the same statement. Otherwise they are read only if the
                # candidates do not fill the table: ordering every row by how many references
                # it leaves unmet reads the whole table.
                later = unmet if per_reference else None
                asks += [
                    replace(q, only_if_short=0)
                    for q in (*per_reference, *([] if later else [unmet]))
                ]
        covers = self._cover_queries(leaf, usable)
        return _Turn(leaf, want, usable, sats, asks, len(per_reference), covers, later)

    def _ask(self, turns: list[_Turn]) -> list[tuple[_Turn, list[list[FoundRow]]]]:
        """The requests of several turns in one batch, each turn's answers apart."""
        requests: list[Find] = []
        for turn in turns:
            offset = len(requests)
            for request in turn.requests:
                after = request.only_if_short
                shifted = None if after is None else after + offset
                requests.append(replace(request, only_if_short=shifted))
        answers = self.source.find(requests) if requests else []
        split: list[tuple[_Turn, list[list[FoundRow]]]] = []
        start = 0
        for turn in turns:
            split.append((turn, answers[start : start + len(turn.requests)]))
            start += len(turn.requests)
        return split

    def _ask_ahead(self) -> dict[TableName, tuple[_Turn, list[list[FoundRow]]]]:
        """The turns of tables that reference nothing, asked together before the first turn.
        Their choice depends on no other table's, and no other's on theirs before their turn:
        only a table that references one of them comes after it and adds to it by closure."""
        alone = [
            leaf
            for group in self.order
            if len(group) == 1
            for leaf in group
            if leaf in self.nonempty and not self.picks[leaf].projection.relations
        ]
        if len(alone) < 2:
            return {}
        return {
            turn.leaf: (turn, found)
            for turn, found in self._ask([self._turn(leaf) for leaf in alone])
        }

    def _choose(self, leaf: TableName, turn: _Turn, answers: list[list[FoundRow]]) -> None:
        """Steps 1 to 3 for one table, from the answers to its turn's requests."""
        pick = self.picks[leaf]
        proj = pick.projection
        want, usable, sats = turn.want, turn.usable, turn.sats
        if want > 0:
            short = want - self.chosen.add(leaf, answers[0], LIMIT)
            if short > 0 and usable:
                # 2. Too few: rows that need new parents, the fewest first, within a budget.
                count = turn.per_reference
                lazy = turn.unmet

                def unmet() -> list[FoundRow]:
                    return answers[1 + count] if lazy is None else self.source.find([lazy])[0]

                self._top_up(leaf, answers[1 : 1 + count], unmet, short)
            if not pick.rows:
                # Even the cheapest rows need more new parents than the budget allows: one
                # reference satisfied, grouped by the others' values so that the rows share
                # few new parents.
                for fk in usable:
                    others = [c for f in usable if f is not fk for c in f.columns]
                    if self._take(leaf, [sats[fk.name]], _grouped(others), want):
                        break
            if not pick.rows:
                # Anything, grouped by references, and the parents come along.
                grouped = _grouped([c for f in proj.relations for c in f.columns])
                self._take(leaf, [], grouped, want)
        # 3. One row for each optional relation no chosen row sets.
        self._cover(leaf, turn.covers, answers[len(turn.asks) :])

    def _candidates(
        self, leaf: TableName, usable: list[ForeignKey], sats: dict[str, Filter], want: int
    ) -> tuple[list[Find], Find]:
        """The queries of step 2 (see `_top_up`): per reference, the rows that satisfy all the
        others, ordered by it so that rows sharing the new parent come together; and rows
        that satisfy none, those leaving optional references unset or pointing at chosen rows
        first (a mandatory reference fails in every one of them). A table with one reference
        (an extension table whose primary key is its foreign key) has only the second kind:
        step 1 already took every row that satisfies it."""
        per_reference: list[Find] = []
        if len(usable) > 1:
            for fk in usable:
                others = [f for f in usable if f is not fk]
                filters = [sats[f.name] for f in others]
                if not any(f.is_selective for f in filters):
                    anchor = self._references_any_chosen(others)
                    if anchor is None:
                        continue
                    filters.append(anchor)
                per_reference.append(self._query(leaf, filters, _grouped(fk.columns), want))
        table = self.picks[leaf].projection.table
        columns = tuple(dict.fromkeys(c for f in usable for c in f.columns))
        optional = tuple(sats[f.name].condition for f in usable if _is_optional(f, table))
        unmet = self._query(leaf, [], Order(grouped=columns, unmet=optional), want)
        return per_reference, unmet

    def _top_up(
        self,
        leaf: TableName,
        per_reference: Sequence[list[FoundRow]],
        unmet: Callable[[], list[FoundRow]],
        short: int,
    ) -> None:
        """Rows whose references are not all chosen yet, those that need the fewest new parents
        first, while the parents they pull in stay within twice the table's limit: first the
        candidates per reference, then, when those run out, rows that satisfy none."""
        # Twice the limit: enough for rows that need two new parents each (a link table whose
        # rows reference rows far down the key order on both sides).
        budget = 2 * self.rules.limit(leaf)
        pulled: set[_Need] = set()
        found = [row for rows in per_reference for row in self._fresh(leaf, rows, short)]
        short -= self.chosen.add(leaf, self._cheapest(leaf, found, short, budget, pulled), LIMIT)
        if short > 0 and len(pulled) < budget:
            found = self._fresh(leaf, unmet(), short)
            self.chosen.add(leaf, self._cheapest(leaf, found, short, budget, pulled), LIMIT)

    def _fresh(self, leaf: TableName, rows: list[FoundRow], count: int) -> list[FoundRow]:
        """The first `count` of `rows` not chosen yet. A list read before some rows were taken,
        with room for them, gives what reading it afterwards, up to `count`, gives."""
        chosen = self.picks[leaf].rows
        return [row for row in rows if row.ident not in chosen][:count]

    def _cheapest(
        self,
        leaf: TableName,
        found: list[FoundRow],
        wanted: int,
        budget: int,
        pulled: set[_Need],
    ) -> list[FoundRow]:
        """Up to `wanted` of the rows `found`, greedily the one needing the fewest parents not
        chosen and not yet `pulled` (ties in the order found), while `pulled` stays within
        `budget`. Takes the parents of the rows returned into `pulled`."""
        pick = self.picks[leaf]
        rows: dict[Key, FoundRow] = {}
        for row in found:
            if row.ident not in pick.rows:
                rows.setdefault(row.ident, row)
        needs = {key: self._needs(leaf, row) for key, row in rows.items()}
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
        taken: list[FoundRow] = []
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

    def _needs(self, leaf: TableName, row: FoundRow) -> frozenset[_Need]:
        """The parents a found row references that are not chosen yet."""
        relations = self.picks[leaf].projection.relations
        return frozenset(
            (rel.referred_table, rel.referred_columns, ref)
            for rel, ref in zip(relations, row.refs, strict=True)
            if ref is not None
            and ref not in self.chosen.keys_of(rel.referred_table, rel.referred_columns)
        )

    def _is_constrainable(self, fk: ForeignKey, leaf: TableName) -> bool:
        targets = self.schema.leaves(fk.referred_table)
        return leaf not in targets and all(t in self.done for t in targets)

    def _satisfied(self, fk: ForeignKey) -> Filter:
        """Rows whose reference is unset or points at a row already chosen."""
        chosen = self.chosen.keys_of(fk.referred_table, fk.referred_columns)
        table = self.schema.table(fk.table)
        if not chosen:
            return Filter(Not(IsSet(fk)))
        refers = RefersTo(fk, frozenset(chosen))
        if fk.condition is None and not any(table.column(c).is_nullable for c in fk.columns):
            return Filter(refers, is_selective=True)
        return Filter(AnyOf((Not(IsSet(fk)), refers)))

    def _references_chosen(self, fk: ForeignKey) -> Filter | None:
        """Rows whose reference is set and points at a row already chosen (None if none is)."""
        chosen = self.chosen.keys_of(fk.referred_table, fk.referred_columns)
        if not chosen:
            return None
        condition: Condition = RefersTo(fk, frozenset(chosen))
        if fk.condition:
            condition = AllOf((IsSet(fk), condition))
        return Filter(condition, is_selective=True)

    def _references_any_chosen(self, relations: Sequence[ForeignKey]) -> Filter | None:
        """Rows with at least one of `relations` set and pointing at a chosen row: a filter an
        index answers (one lookup per relation), where `_satisfied` of a nullable relation
        also matches every row that leaves it unset."""
        parts = [f for f in (self._references_chosen(fk) for fk in relations) if f is not None]
        if not parts:
            return None
        return Filter(AnyOf(tuple(f.condition for f in parts)), is_selective=True)

    def _query(self, leaf: TableName, filters: list[Filter], order: Order, limit: int) -> Find:
        """Up to `limit` rows of `leaf` matching `--where` and all `filters` that are not
        chosen yet, in `order`."""
        pick = self.picks[leaf]
        condition = self.rules.where.get(leaf)
        where = [Filter(Where(condition))] if condition else []
        return Find(pick.projection, (*where, *filters), order, limit, frozenset(pick.rows))

    def _find(
        self, leaf: TableName, filters: list[Filter], order: Order, limit: int
    ) -> list[FoundRow]:
        return self.source.find([self._query(leaf, filters, order, limit)])[0]

    def _take(self, leaf: TableName, filters: list[Filter], order: Order, limit: int) -> int:
        """Add up to `limit` rows matching all `filters` that are not chosen yet."""
        return self.chosen.add(leaf, self._find(leaf, filters, order, limit), LIMIT)

    def _cover_queries(self, leaf: TableName, usable: list[ForeignKey]) -> list[tuple[int, Find]]:
        """For each optional relation no chosen row sets: the first row by key that sets it
        and satisfies the other references, or else the first that sets it."""
        pick = self.picks[leaf]
        proj = pick.projection
        queries: list[tuple[int, Find]] = []
        for index, fk in enumerate(proj.relations):
            if any(r.refs[index] is not None for r in pick.rows.values()):
                continue
            if not _is_optional(fk, proj.table):
                continue  # every row references something, so this is covered if rows exist
            set_here = Filter(IsSet(fk))
            others = [self._satisfied(f) for f in usable if f is not fk]
            query = self._query(leaf, [set_here, *others], KEY_ORDER, 1)
            if others:
                query = replace(query, otherwise=self._query(leaf, [set_here], KEY_ORDER, 1))
            queries.append((index, query))
        return queries

    def _cover(
        self, leaf: TableName, queries: list[tuple[int, Find]], answers: Sequence[list[FoundRow]]
    ) -> None:
        """One row for each optional relation that has data but no row in the seed yet. They
        count against the limit: the last rows chosen by it make room for them.

        The rows were read before steps 1 and 2 took theirs: a row read for a relation that
        a row taken since sets is not needed, and one that no taken row sets is the row that
        reading now would give (it is the first match, and no taken row is a match)."""
        pick = self.picks[leaf]
        covering: set[Key] = set()
        for (index, _), found in zip(queries, answers, strict=True):
            if any(r.refs[index] is not None for r in pick.rows.values()):
                continue
            before = set(pick.rows)
            self.chosen.add(leaf, found, LIMIT)
            covering |= set(pick.rows) - before
        self.chosen.make_room(leaf, covering, self.rules.limit(leaf))

    def _include(self, table: TableName, condition: str) -> None:
        """Rows the user wants, plus everything that references them, recursively."""
        frontier: dict[TableName, set[Key]] = {}
        leaves = self.schema.leaves(table)
        queries = [
            Find(self.picks[leaf].projection, (Filter(Where(condition)),)) for leaf in leaves
        ]
        for leaf, matched in zip(leaves, self.source.find(queries), strict=True):
            self.chosen.add(leaf, matched, INCLUDE)
            frontier[leaf] = self._unfollowed(leaf, matched)
        while any(frontier.values()):
            for parent, new in frontier.items():
                self.followed.setdefault(parent, set()).update(new)
            next_frontier: dict[TableName, set[Key]] = {}
            asks: list[tuple[TableName, Request]] = []
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
                        proj = self.picks[child].projection
                        start = AllOf((IsSet(fk), RefersTo(fk, frozenset(keys))))
                        down_tree = (
                            child == parent
                            and not fk.condition
                            and self.schema.table(child).partition_of is None
                        )
                        # Down a self-reference: the whole subtree in one walk.
                        ask: Request = (
                            WalkSelf(proj, start, (fk.referred_columns,), fk.columns)
                            if down_tree
                            else Find(proj, (Filter(start),), None)
                        )
                        asks.append((child, ask))
            answers = self.source.find([ask for _, ask in asks]) if asks else []
            for (child, _), rows in zip(asks, answers, strict=True):
                self.chosen.add(child, rows, INCLUDE)
                next_frontier.setdefault(child, set()).update(self._unfollowed(child, rows))
            frontier = next_frontier
        self.closure.close()

    def _unfollowed(self, leaf: TableName, rows: Sequence[FoundRow]) -> set[Key]:
        """The identities of `rows` whose referencing rows no `include` has looked for yet:
        new rows, and rows already chosen otherwise (by an earlier include's closure)."""
        return {row.ident for row in rows} - self.followed.get(leaf, set())

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
        """Ask the source about every user-written condition once, to report mistakes up front."""
        checks = [(t, c, "--where") for t, c in self.rules.where.items()]
        checks += [(t, c, "--include") for t, c in self.rules.include]
        for leaf in self.rules.tables:
            for fk in self.picks[leaf].projection.relations:
                if fk.condition:
                    checks.append((leaf, fk.condition, f"the condition of relation {fk.name}"))
        if not checks:
            return
        errors = self.source.condition_errors([(t, c) for t, c, _ in checks])
        if not errors:
            return
        position = min(errors)
        table, condition, origin = checks[position]
        message = errors[position]
        error = UnknownColumn if "column" in message else ConfigError
        raise error(
            f"{origin} on {table}: {condition!r} is not valid SQL there: {message}",
            hint=f"write a condition over the columns of {table}",
        )

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


def _grouped(columns: Sequence[str]) -> Order:
    """Order by reference columns first (children of one parent together), then by key."""
    return Order(grouped=tuple(dict.fromkeys(columns)))


def _is_optional(fk: ForeignKey, table: Table) -> bool:
    """Whether a row may leave `fk` unset: a nullable column, or a condition."""
    return bool(fk.condition) or any(table.column(c).is_nullable for c in fk.columns)


def plan_selection(
    source: RowSource, schema: Schema, rules: Rules, on_table: OnTable | None = None
) -> Selection:
    """Choose the seed's rows, asking `source` (one consistent snapshot) about them.

    Example: `plan_selection(MemoryRows(...), schema, Rules(tables=schema.data_tables))`.
    """
    return Planner(source, schema, rules, on_table).run()
