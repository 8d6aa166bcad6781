"""A `RowSource` over plain Python lists of rows, so that the selection's decisions run with no
database. Values are text, as an engine sends them; conditions are Python predicates named by
the text a user would write."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

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
from genonaut.seed.core.schema_graph import ForeignKey, TableName

Row = dict[str, str | None]
Predicate = Callable[[Row], bool]


class MemoryRows:
    """Rows by table; a table without a primary key is addressed by its rows' positions.
    `calls` counts the questions asked, by method: each would be one round trip."""

    def __init__(
        self,
        rows: Mapping[TableName, list[Row]],
        conditions: Mapping[str, Predicate] | None = None,
    ) -> None:
        self.rows = rows
        self.conditions = dict(conditions or {})
        self.calls: Counter[str] = Counter()

    # -- RowSource --------------------------------------------------------------------------

    def tables_with_rows(self, tables: Sequence[TableName]) -> set[TableName]:
        self.calls["tables_with_rows"] += 1
        return {t for t in tables if self.rows.get(t)}

    def condition_errors(self, checks: Sequence[tuple[TableName, str]]) -> dict[int, str]:
        self.calls["condition_errors"] += 1
        return {
            i: f'column "{text}" does not exist'
            for i, (_, text) in enumerate(checks)
            if text not in self.conditions
        }

    def find(self, requests: Sequence[Request]) -> list[list[FoundRow]]:
        self.calls["find"] += 1
        answers: list[list[FoundRow]] = []
        for request in requests:
            if isinstance(request, WalkSelf):
                answers.append(self._walk_self(request))
                continue
            after = request.only_if_short
            if after is not None:
                limit = requests[after]
                assert isinstance(limit, Find) and limit.limit is not None
                if len(answers[after]) >= limit.limit:
                    answers.append([])
                    continue
            answers.append(self._find(request))
        return answers

    def walk(
        self, tables: Sequence[Projection], starts: Sequence[Start], steps: Sequence[Step]
    ) -> dict[TableName, list[FoundRow]]:
        self.calls["walk"] += 1
        by_leaf = {p.table.name: p for p in tables}
        seen: set[tuple[TableName, int]] = set()
        todo: list[tuple[TableName, int]] = []
        for start in starts:
            proj = by_leaf[start.leaf]
            for position, row in self._numbered(start.leaf):
                if self._key(proj, position, row, start.columns) in start.keys:
                    todo.append((start.leaf, position))
        while todo:
            leaf, position = todo.pop()
            if (leaf, position) in seen:
                continue
            seen.add((leaf, position))
            row = self.rows[leaf][position]
            for step in steps:
                if step.child != leaf or not self._applies(step.fk, row):
                    continue
                ref = tuple(row[c] for c in step.fk.columns)
                for parent_position, parent in self._numbered(step.parent):
                    if tuple(parent[c] for c in step.fk.referred_columns) == ref:
                        todo.append((step.parent, parent_position))
        found: dict[TableName, list[FoundRow]] = {}
        for leaf, position in sorted(seen, key=lambda s: (s[0], s[1])):
            found.setdefault(leaf, []).append(
                self._found(by_leaf[leaf], position, self.rows[leaf][position])
            )
        return found

    # -- helpers ----------------------------------------------------------------------------

    def _numbered(self, leaf: TableName) -> list[tuple[int, Row]]:
        return list(enumerate(self.rows.get(leaf, [])))

    def _find(self, find: Find) -> list[FoundRow]:
        proj = find.projection
        leaf = proj.table.name
        matches = [
            (position, row)
            for position, row in self._numbered(leaf)
            if all(self._holds(proj, position, row, f.condition) for f in find.filters)
            and self._key(proj, position, row, proj.identity) not in find.exclude
        ]
        if find.order is not None:
            order = find.order
            matches.sort(key=lambda item: self._sort_key(proj, order, *item))
        if find.limit is not None:
            matches = matches[: find.limit]
        if not matches and find.otherwise is not None:
            return self._find(find.otherwise)
        return [self._found(proj, position, row) for position, row in matches]

    def _walk_self(self, walk: WalkSelf) -> list[FoundRow]:
        proj = walk.projection
        rows = self._numbered(proj.table.name)
        found = {p for p, row in rows if self._holds(proj, p, row, walk.start)}
        while True:
            wanted = {
                tuple(rows[p][1][c] for c in carry)
                for p in found
                for carry in walk.carry
                if all(rows[p][1][c] is not None for c in carry)
            }
            more = {p for p, row in rows if tuple(row[c] for c in walk.match) in wanted} - found
            if not more:
                return [self._found(proj, p, rows[p][1]) for p in sorted(found)]
            found |= more

    def _holds(self, proj: Projection, position: int, row: Row, condition: Condition) -> bool:
        if isinstance(condition, IsSet):
            return self._applies(condition.fk, row)
        if isinstance(condition, RefersTo):
            return tuple(row[c] for c in condition.fk.columns) in condition.keys
        if isinstance(condition, Where):
            return self.conditions[condition.text](row)
        if isinstance(condition, Not):
            return not self._holds(proj, position, row, condition.part)
        if isinstance(condition, AnyOf):
            return any(self._holds(proj, position, row, p) for p in condition.parts)
        return all(self._holds(proj, position, row, p) for p in condition.parts)

    def _applies(self, fk: ForeignKey, row: Row) -> bool:
        if any(row[c] is None for c in fk.columns):
            return False
        return fk.condition is None or self.conditions[fk.condition](row)

    @staticmethod
    def _key(proj: Projection, position: int, row: Row, columns: Sequence[str]) -> Key:
        if tuple(columns) == ("ctid",):
            return (str(position),)
        return tuple(row[c] for c in columns)

    def _sort_key(
        self, proj: Projection, order: Order, position: int, row: Row
    ) -> tuple[object, ...]:
        unmet = sum(not self._holds(proj, position, row, c) for c in order.unmet)
        grouped = [_sortable(row[c]) for c in order.grouped]
        names = proj.table.primary_key or proj.table.column_names
        return (unmet, *grouped, *(_sortable(row[c]) for c in names))

    def _found(self, proj: Projection, position: int, row: Row) -> FoundRow:
        return FoundRow(
            self._key(proj, position, row, proj.identity),
            tuple(
                tuple(row[c] for c in fk.columns) if self._applies(fk, row) else None
                for fk in proj.relations
            ),
            tuple(tuple(row[c] for c in key) for key in proj.keys),
        )


def _sortable(value: str | None) -> tuple[int, int, str]:
    """Nulls last; numbers by value, as the integer columns of the tests sort."""
    if value is None:
        return (2, 0, "")
    if value.isdigit():
        return (0, int(value), "")
    return (1, 0, value)
