"""Closure: every row a chosen row references is pulled in, recursively, one walk per round.

A round asks the source for the rows holding the missing keys and every row they reach through
the references a walk may follow (`Closure.steps_from`), so a chain of any depth, a tree, or a
cycle through several tables costs one round; any other reference waits for the next round.
"""

from __future__ import annotations

from genonaut.seed.core.picks import CLOSURE, Chosen, Target
from genonaut.seed.core.row_source import Key, RowSource, Start, Step
from genonaut.seed.core.schema_graph import ForeignKey, TableName


class Closure:
    """Closes `chosen` over references, asking `source`.

    Example: `Closure(source, chosen).close()` after rows were added to `chosen`.
    """

    def __init__(self, source: RowSource, chosen: Chosen) -> None:
        self.source = source
        self.chosen = chosen
        self.schema = chosen.schema
        # Per table, the references a walk follows (see `steps_from`).
        self.steps: dict[TableName, list[Step]] = {}
        # Walks asked so far: the statements the data decide (a chain of new parents).
        self.rounds = 0

    def close(self) -> None:
        """Pull in every row that a chosen row references, until nothing is missing: each
        round one walk from the missing keys up every reference it can follow (`steps_from`),
        so a chain of any depth costs one round."""
        while True:
            missing = self.chosen.missing()
            if not missing:
                return
            starts = [
                Start(leaf, columns, frozenset(keys))
                for (table, columns), keys in sorted(missing.items())
                for leaf in self.schema.leaves(table)
            ]
            reached = list(dict.fromkeys(start.leaf for start in starts))
            steps: list[Step] = []
            for leaf in reached:  # grows while it is walked
                for step in self.steps_from(leaf):
                    steps.append(step)
                    if step.parent not in reached:
                        reached.append(step.parent)
            self.rounds += 1
            answer = self.source.walk(
                [self.chosen.tables[leaf].projection for leaf in reached], starts, steps
            )
            for leaf in reached:
                self.chosen.add(leaf, answer.get(leaf, []), CLOSURE)
            for (table, columns), keys in missing.items():
                self.chosen.mark_absent(table, columns, keys)
            # A reference the walk followed and still points at no chosen row: the source has
            # no such row (a virtual relation over untidy data). Others wait for the next round.
            followed = {(s.child, s.fk) for s in steps}
            unfound: dict[Target, set[Key]] = {}
            for leaf, row in self.chosen.unchecked:
                relations = self.chosen.tables[leaf].projection.relations
                for fk, ref in zip(relations, row.refs, strict=True):
                    target = (fk.referred_table, fk.referred_columns)
                    if (
                        ref is not None
                        and (leaf, fk) in followed
                        and ref not in self.chosen.keys_of(*target)
                    ):
                        unfound.setdefault(target, set()).add(ref)
            for (table, columns), keys in unfound.items():
                self.chosen.mark_absent(table, columns, keys)

    def steps_from(self, leaf: TableName) -> list[Step]:
        """The references of `leaf` a walk follows: those to a key unique across the referred
        table, and a table's own references to itself without a condition (a tree walked to
        its root). A walk takes every row a reference matches and goes on past rows already
        chosen, where a round stops at them; the two agree when a reference matches one row,
        since a chosen row's parents are chosen too."""
        if leaf not in self.steps:
            self.steps[leaf] = [
                Step(leaf, fk, parent)
                for fk in self.chosen.tables[leaf].projection.relations
                if self._is_unique_target(fk) or self._is_tree(leaf, fk)
                for parent in self.schema.leaves(fk.referred_table)
                if parent in self.chosen.tables
            ]
        return self.steps[leaf]

    def _is_unique_target(self, fk: ForeignKey) -> bool:
        if not fk.is_virtual:
            return True  # the database requires a unique key on the referred columns
        target = self.schema.table(fk.referred_table)
        return fk.referred_columns in (target.primary_key, *target.unique_keys)

    def _is_tree(self, leaf: TableName, fk: ForeignKey) -> bool:
        return (
            fk.referred_table == leaf
            and not fk.condition
            and self.schema.table(leaf).partition_of is None
        )
