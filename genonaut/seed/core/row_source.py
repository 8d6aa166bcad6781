"""The row operations the selection asks of a database, as an engine-neutral interface.

`selection.Planner` decides which rows to take; an engine answers these few questions about
rows (`RowSource`): conditions are small records (`IsSet`, `RefersTo`, ...), and a user's
`--where`/`include` text travels as opaque `Where` text that the engine splices in. Keys
travel as tuples of text (`Key`), each value in the text form of its column's type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from genonaut.seed.core.schema_graph import ForeignKey, Table, TableName

Key = tuple[str | None, ...]


@dataclass(frozen=True)
class Projection:
    """What the plan reads of a table's rows: identity, outgoing references, referred keys.

    `identity` is the primary key, or `("ctid",)` (an engine's own row address) for a table
    without one."""

    table: Table
    identity: tuple[str, ...]
    relations: tuple[ForeignKey, ...]
    keys: tuple[tuple[str, ...], ...]
    # Per relation, the types of the referred columns: a reference is read in its parent's
    # type, so that an int column pointing at a numeric(10,2) key reads '1.00', as the key does.
    referred_types: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class FoundRow:
    """One row as the plan sees it: its identity, per relation the key it references (None
    when unset or the relation's condition fails), per referred key of its table its values."""

    ident: Key
    refs: tuple[Key | None, ...]
    keys: tuple[Key, ...]


@dataclass(frozen=True)
class IsSet:
    """The row references something through `fk`: every column set, the condition true."""

    fk: ForeignKey


@dataclass(frozen=True)
class RefersTo:
    """The columns of `fk` hold one of `keys` (values in the referred columns' types)."""

    fk: ForeignKey
    keys: frozenset[Key]


@dataclass(frozen=True)
class Where:
    """A condition the user wrote (`--where`, `include`, a relation's `when`), passed on as is."""

    text: str


@dataclass(frozen=True)
class Not:
    part: Condition


@dataclass(frozen=True)
class AnyOf:
    parts: tuple[Condition, ...]


@dataclass(frozen=True)
class AllOf:
    parts: tuple[Condition, ...]


Condition = IsSet | RefersTo | Where | Not | AnyOf | AllOf


@dataclass(frozen=True)
class Filter:
    """A condition on a table's rows. A selective one (a key list on a NOT NULL column)
    matches few rows through an index, so an engine may start from it."""

    condition: Condition
    is_selective: bool = False


@dataclass(frozen=True)
class Order:
    """Which rows come first: those failing the fewest of `unmet`, then by the `grouped`
    columns (nulls last; children of one parent together), then by identity (the primary
    key, or every column for a table without one)."""

    grouped: tuple[str, ...] = ()
    unmet: tuple[Condition, ...] = ()

    @property
    def is_key_order(self) -> bool:
        return not self.grouped and not self.unmet


KEY_ORDER = Order()


@dataclass(frozen=True)
class Find:
    """Rows of one table matching every filter, not among `exclude` (identities), in `order`,
    up to `limit` (None: all of them, in no particular order when `order` is None). When
    none match, the rows of `otherwise` instead. With `only_if_short`, asked only when the
    request at that position of the same batch came back with fewer rows than its limit
    (else no rows)."""

    projection: Projection
    filters: tuple[Filter, ...]
    order: Order | None = KEY_ORDER
    limit: int | None = None
    exclude: frozenset[Key] = frozenset()
    otherwise: Find | None = None
    only_if_short: int | None = None


@dataclass(frozen=True)
class WalkSelf:
    """Rows of a table that references itself matching `start`, then rows whose `match`
    columns equal one of the `carry` column lists of rows found, recursively: up a
    self-reference (carry the references, match the key) or down one (carry the key, match
    the reference)."""

    projection: Projection
    start: Condition
    carry: tuple[tuple[str, ...], ...]
    match: tuple[str, ...]


Request = Find | WalkSelf


@dataclass(frozen=True)
class Step:
    """One relation a walk follows: from rows of `child` to the rows of `parent` whose
    referred columns hold the row's reference."""

    child: TableName
    fk: ForeignKey
    parent: TableName


@dataclass(frozen=True)
class Start:
    """Where a walk begins: the rows of `leaf` whose `columns` hold one of `keys`."""

    leaf: TableName
    columns: tuple[str, ...]
    keys: frozenset[Key]


class RowSource(Protocol):
    """What the selection asks a database; one implementation per engine.

    Every answer comes from one consistent snapshot of the source.
    """

    def tables_with_rows(self, tables: Sequence[TableName]) -> set[TableName]:
        """Which of `tables` hold any row."""
        ...

    def condition_errors(self, checks: Sequence[tuple[TableName, str]]) -> dict[int, str]:
        """Each user condition (table, text) the engine refuses, by position: its message.
        Only the first refused one need be reported."""
        ...

    def find(self, requests: Sequence[Request]) -> list[list[FoundRow]]:
        """The rows each request asks for, in its order. The requests are independent of
        each other, so an engine may answer them all in one round trip."""
        ...

    def walk(
        self,
        tables: Sequence[Projection],
        starts: Sequence[Start],
        steps: Sequence[Step],
    ) -> dict[TableName, list[FoundRow]]:
        """The rows of `starts` and every row of `tables` they reach through `steps`,
        recursively (rows already reached are not walked again), by table."""
        ...
