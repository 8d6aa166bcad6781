"""The rows a selection has chosen so far: per table, by identity, with how each came in, and the
keys they hold, so that the plan can tell which references are satisfied, missing or dangling.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from genonaut.seed.core.row_source import FoundRow, Key, Projection
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName

LIMIT = "limit"
CLOSURE = "closure"
INCLUDE = "include"

# A referred key: the table a relation names and the columns it refers to.
Target = tuple[TableName, tuple[str, ...]]


@dataclass
class ChosenRow:
    ident: Key
    refs: tuple[Key | None, ...]  # per outgoing relation: the referenced key, None when unset
    keys: tuple[Key, ...]  # per referred key of this table: this row's values
    origin: str


@dataclass
class TablePick:
    """The rows chosen from one table, by identity, with how each came in."""

    projection: Projection
    rows: dict[Key, ChosenRow] = field(default_factory=dict)

    def count(self, origin: str) -> int:
        return sum(1 for r in self.rows.values() if r.origin == origin)


@dataclass
class Selection:
    picks: dict[TableName, TablePick]
    order: list[tuple[TableName, ...]]
    dropped: list[str] = field(default_factory=list)
    # Rounds of closure: walks the data asked for, beyond a fixed number of questions a table.
    closure_rounds: int = 0


def projection_of(schema: Schema, leaf: TableName) -> Projection:
    """What the plan reads of `leaf`'s rows."""
    table = schema.table(leaf)
    relations = schema.relations_from(leaf)
    keys = sorted({fk.referred_columns for fk in schema.relations_to(leaf)})
    identity = table.primary_key or ("ctid",)
    referred = tuple(_referred_types(schema, fk) for fk in relations)
    return Projection(table, identity, relations, tuple(keys), referred)


def _referred_types(schema: Schema, fk: ForeignKey) -> tuple[str, ...]:
    target = schema.table(fk.referred_table)
    return tuple(target.column(c).type for c in fk.referred_columns)


class Chosen:
    """The chosen rows of every table, and the bookkeeping over them.

    Example: `chosen = Chosen(schema, rules.tables); chosen.add(leaf, found, LIMIT)`.
    """

    def __init__(self, schema: Schema, tables: Iterable[TableName]) -> None:
        self.schema = schema
        self.tables = {t: TablePick(projection_of(schema, t)) for t in tables}
        # Keys of the chosen rows, by (table, columns) for every table a relation may name:
        # the leaf itself and the partitioned tables above it.
        self.present: dict[Target, set[Key]] = {}
        # Referenced keys the source does not have (a virtual relation over untidy data).
        self.absent: dict[Target, set[Key]] = {}
        # Rows added since their references were last checked.
        self.unchecked: list[tuple[TableName, ChosenRow]] = []

    def keys_of(self, table: TableName, columns: tuple[str, ...]) -> set[Key]:
        """The values of `columns` that chosen rows of `table` hold."""
        return self.present.get((table, columns), set())

    def add(self, leaf: TableName, rows: Sequence[FoundRow], origin: str) -> int:
        """Choose those of `rows` not chosen yet; how many that was."""
        pick = self.tables[leaf]
        added = 0
        for found in rows:
            if found.ident in pick.rows:
                continue
            row = ChosenRow(found.ident, found.refs, found.keys, origin)
            pick.rows[found.ident] = row
            self._index(leaf, row)
            self.unchecked.append((leaf, row))
            added += 1
        return added

    def missing(self) -> dict[Target, set[Key]]:
        """References of the rows added since the last call that point at no chosen row and
        at no key known to be absent."""
        missing: dict[Target, set[Key]] = {}
        for leaf, row in self.unchecked:
            for fk, ref in zip(self.tables[leaf].projection.relations, row.refs, strict=True):
                if ref is None:
                    continue
                target = (fk.referred_table, fk.referred_columns)
                if ref not in self.keys_of(*target) and ref not in self.absent.get(target, ()):
                    missing.setdefault(target, set()).add(ref)
        self.unchecked.clear()
        return missing

    def mark_absent(self, table: TableName, columns: tuple[str, ...], keys: set[Key]) -> None:
        """Of `keys` looked for in `table`'s `columns`, note those no chosen row holds."""
        present: set[Key] = set()
        for leaf in self.schema.leaves(table):
            index = self.tables[leaf].projection.keys.index(columns)
            present.update(r.keys[index] for r in self.tables[leaf].rows.values())
        gone = keys - present
        if gone:
            self.absent.setdefault((table, columns), set()).update(gone)

    def make_room(self, leaf: TableName, keep: set[Key], limit: int) -> None:
        """Hold `limit` after the rows `keep` came in: drop the last rows the limit chose."""
        pick = self.tables[leaf]
        excess = pick.count(LIMIT) - limit
        if excess <= 0 or not keep:
            return
        chosen = [k for k, r in pick.rows.items() if r.origin == LIMIT and k not in keep]
        dropped = set(chosen[len(chosen) - min(excess, len(chosen)) :])
        for key in dropped:
            del pick.rows[key]
        self.unchecked = [(t, r) for t, r in self.unchecked if t != leaf or r.ident not in dropped]
        self._reindex({leaf})

    def drop_dangling(self) -> list[str]:
        """Remove rows whose reference the source itself cannot satisfy, and say so.

        Each round checks every relation against the keys held at its start and re-indexes
        once, so the work grows with the rounds (how far removals cascade), not with the
        number of relations that lose rows; the rows kept are the same either way, since a
        row goes exactly when, in the end, nothing holds the key it references."""
        left_out: dict[tuple[TableName, str], int] = {}
        while True:
            doomed: list[tuple[TablePick, Key]] = []
            for leaf, pick in sorted(self.tables.items()):
                gone: set[Key] = set()  # a row is left out once, for the first relation it fails
                for index, fk in enumerate(pick.projection.relations):
                    present = self.keys_of(fk.referred_table, fk.referred_columns)
                    bad = [
                        k
                        for k, r in pick.rows.items()
                        if k not in gone
                        and r.refs[index] is not None
                        and r.refs[index] not in present
                    ]
                    if bad:
                        gone.update(bad)
                        doomed.extend((pick, k) for k in bad)
                        described = (leaf, fk.describe())
                        left_out[described] = left_out.get(described, 0) + len(bad)
            if not doomed:
                return [
                    f"{leaf}: left out {count} row(s) whose {relation} matches no row in the source"
                    for (leaf, relation), count in left_out.items()
                ]
            for pick, key in doomed:
                pick.rows.pop(key, None)
            self._reindex({emptied.projection.table.name for emptied, _ in doomed})

    def _index(self, leaf: TableName, row: ChosenRow) -> None:
        owners = self.schema.ancestors(leaf)
        for columns, values in zip(self.tables[leaf].projection.keys, row.keys, strict=True):
            for owner in owners:
                self.present.setdefault((owner, columns), set()).add(values)

    def _reindex(self, changed: set[TableName]) -> None:
        """Rebuild the keys held for the tables that lost rows, and the partitioned tables
        above them, from every table that holds into them."""
        owners = {owner for leaf in changed for owner in self.schema.ancestors(leaf)}
        for target in [t for t in self.present if t[0] in owners]:
            del self.present[target]
        for leaf, pick in self.tables.items():
            if owners.intersection(self.schema.ancestors(leaf)):
                for row in pick.rows.values():
                    self._index(leaf, row)
