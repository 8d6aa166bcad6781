"""Tables, keys and foreign keys as frozen records, and the dependency order between tables.

Nothing here touches a database: `postgres.read_schema` builds a `Schema` from the catalogs,
the exporter and the importer only ask it questions.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

from genonaut.seed.errors import UnknownColumn, UnknownTable

DEFAULT_SCHEMA = "public"


@dataclass(frozen=True, order=True)
class TableName:
    """A schema-qualified table name."""

    schema: str
    name: str

    @classmethod
    def parse(cls, text: str, default_schema: str = DEFAULT_SCHEMA) -> TableName:
        """`TableName.parse("hr.employees")` -> TableName("hr", "employees")."""
        schema, dot, name = text.strip().rpartition(".")
        if not name:
            raise UnknownTable(f"empty table name in {text!r}")
        return cls(schema if dot else default_schema, name)

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def display(self) -> str:
        """The name people use: bare in the default schema, qualified elsewhere."""
        return self.name if self.schema == DEFAULT_SCHEMA else self.qualified

    def __str__(self) -> str:
        return self.display


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    is_nullable: bool = True
    is_generated: bool = False
    identity: str = ""  # "" (none), "a" (GENERATED ALWAYS) or "d" (BY DEFAULT)
    is_collatable: bool = False
    is_sortable: bool = True
    has_default: bool = False


@dataclass(frozen=True)
class Table:
    name: TableName
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    indexes: tuple[tuple[str, ...], ...] = ()
    # ON CONFLICT refuses a DEFERRABLE primary key and a table with rules.
    is_key_deferrable: bool = False
    has_rules: bool = False
    is_partitioned: bool = False
    partition_of: TableName | None = None
    estimated_rows: int = 0

    def column(self, name: str) -> Column:
        for column in self.columns:
            if column.name == name:
                return column
        raise UnknownColumn(
            f"table {self.name} has no column {name!r}",
            hint=f"its columns are: {', '.join(c.name for c in self.columns)}",
        )

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @property
    def stored_columns(self) -> tuple[Column, ...]:
        """Columns a fixture carries: all but the generated ones, which the database computes."""
        return tuple(c for c in self.columns if not c.is_generated)

    @property
    def has_identity_always(self) -> bool:
        return any(c.identity == "a" for c in self.columns)


@dataclass(frozen=True)
class ForeignKey:
    """A relation from `table.columns` to `referred_table.referred_columns`.

    Declared constraints and virtual relations (from configuration) look the same; a virtual
    one may carry `condition`, an SQL predicate on the child row (a discriminator test).
    """

    name: str
    table: TableName
    columns: tuple[str, ...]
    referred_table: TableName
    referred_columns: tuple[str, ...]
    is_deferrable: bool = False
    is_virtual: bool = False
    condition: str | None = None

    @property
    def is_self_referencing(self) -> bool:
        return self.table == self.referred_table

    def describe(self) -> str:
        target = f"{self.referred_table}({', '.join(self.referred_columns)})"
        text = f"{self.table}({', '.join(self.columns)}) -> {target}"
        return f"{text} when {self.condition}" if self.condition else text


@dataclass(frozen=True)
class Sequence:
    """A sequence and every (table, column) whose default or identity draws from it."""

    name: TableName
    feeds: tuple[tuple[TableName, str], ...]


@dataclass(frozen=True)
class Schema:
    tables: tuple[Table, ...]
    foreign_keys: tuple[ForeignKey, ...] = ()
    sequences: tuple[Sequence, ...] = ()
    _by_name: dict[TableName, Table] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_name", {t.name: t for t in self.tables})

    def __contains__(self, name: object) -> bool:
        return name in self._by_name

    def table(self, name: TableName) -> Table:
        try:
            return self._by_name[name]
        except KeyError:
            raise UnknownTable(
                f"no table {name} in the database",
                hint="check the spelling; tables outside 'public' are named schema.table",
            ) from None

    def resolve(self, text: str) -> TableName:
        """The table a user means by `text`: qualified, or bare in 'public', or bare and unique."""
        name = TableName.parse(text)
        if name in self._by_name:
            return name
        if "." not in text:
            matches = [t.name for t in self.tables if t.name.name == text]
            if len(matches) == 1:
                return matches[0]
            if matches:
                raise UnknownTable(
                    f"table name {text!r} is ambiguous",
                    hint=f"qualify it: {', '.join(m.qualified for m in sorted(matches))}",
                )
        raise UnknownTable(
            f"no table {text!r} in the database",
            hint="check the spelling; tables outside 'public' are named schema.table",
        )

    def with_relations(self, extra: Iterable[ForeignKey]) -> Schema:
        return Schema(self.tables, self.foreign_keys + tuple(extra), self.sequences)

    @cached_property
    def _children(self) -> dict[TableName, tuple[TableName, ...]]:
        children: dict[TableName, list[TableName]] = {}
        for table in self.tables:
            if table.partition_of is not None:
                children.setdefault(table.partition_of, []).append(table.name)
        return {parent: tuple(sorted(names)) for parent, names in children.items()}

    def leaves(self, name: TableName) -> tuple[TableName, ...]:
        """The tables that hold the rows of `name`: itself, or its leaf partitions."""
        if not self.table(name).is_partitioned:
            return (name,)
        found: list[TableName] = []
        for child in self._children.get(name, ()):
            found.extend(self.leaves(child))
        return tuple(found)

    def root(self, name: TableName) -> TableName:
        """The top partitioned table `name` belongs to (itself when not a partition)."""
        parent = self.table(name).partition_of
        return name if parent is None else self.root(parent)

    def ancestors(self, name: TableName) -> tuple[TableName, ...]:
        """`name` and every partitioned table above it, nearest first."""
        chain = [name]
        while (parent := self.table(chain[-1]).partition_of) is not None:
            chain.append(parent)
        return tuple(chain)

    @cached_property
    def data_tables(self) -> tuple[TableName, ...]:
        """Tables that hold rows themselves (partitioned parents do not), sorted by name."""
        return tuple(sorted(t.name for t in self.tables if not t.is_partitioned))

    @cached_property
    def _declared_on(self) -> dict[TableName, list[ForeignKey]]:
        found: dict[TableName, list[ForeignKey]] = {}
        for fk in self.foreign_keys:
            found.setdefault(fk.table, []).append(fk)
        return found

    @cached_property
    def _pointing_at(self) -> dict[TableName, list[ForeignKey]]:
        found: dict[TableName, list[ForeignKey]] = {}
        for fk in self.foreign_keys:
            found.setdefault(fk.referred_table, []).append(fk)
        return found

    def relations_from(self, leaf: TableName) -> tuple[ForeignKey, ...]:
        """Foreign keys whose child rows live in `leaf` (declared on it or on a parent of it)."""
        return tuple(fk for a in self.ancestors(leaf) for fk in self._declared_on.get(a, ()))

    def relations_to(self, leaf: TableName) -> tuple[ForeignKey, ...]:
        """Foreign keys whose referenced rows may live in `leaf`."""
        return tuple(fk for a in self.ancestors(leaf) for fk in self._pointing_at.get(a, ()))

    def parent_leaves(self, leaf: TableName) -> set[TableName]:
        """Data tables that rows of `leaf` may reference."""
        return {p for fk in self.relations_from(leaf) for p in self.leaves(fk.referred_table)}

    def fingerprint(self, tables: Iterable[TableName]) -> str:
        """A digest of what fixtures depend on: columns, types, keys and relations."""
        wanted = set(tables)
        shape = {
            "tables": [
                {
                    "name": t.name.qualified,
                    "columns": [[c.name, c.type, c.is_nullable, c.is_generated] for c in t.columns],
                    "primary_key": list(t.primary_key),
                    "partition_of": t.partition_of.qualified if t.partition_of else None,
                }
                for t in sorted(self.tables, key=lambda t: t.name)
                if t.name in wanted
            ],
            "relations": sorted(
                fk.describe() for fk in self.foreign_keys if fk.table in wanted or fk.is_virtual
            ),
        }
        import hashlib  # the export's alone: an import never asks for a fingerprint

        encoded = json.dumps(shape, sort_keys=True, separators=(",", ":")).encode()
        return "sha256:" + hashlib.sha256(encoded).hexdigest()


def dependency_order(
    nodes: Iterable[TableName], edges: dict[TableName, set[TableName]]
) -> list[tuple[TableName, ...]]:
    """Strongly connected groups of `nodes`, parents before children.

    `edges[child]` holds the parents `child` references; edges to nodes outside `nodes` are
    ignored. A group of more than one table, or one table referencing itself, is a cycle.
    The order is deterministic: ties are broken by name.

    >>> a, b = TableName("public", "a"), TableName("public", "b")
    >>> dependency_order([a, b], {b: {a}})
    [(TableName(schema='public', name='a'),), (TableName(schema='public', name='b'),)]
    """
    members = sorted(set(nodes))
    member_set = set(members)
    parents = {n: sorted(p for p in edges.get(n, ()) if p in member_set) for n in members}
    groups = _strongly_connected(members, parents)
    group_of = {node: i for i, group in enumerate(groups) for node in group}
    # Kahn's algorithm over the condensed graph, always taking the smallest ready group.
    waiting = {i: {group_of[p] for n in g for p in parents[n]} - {i} for i, g in enumerate(groups)}
    ordered: list[tuple[TableName, ...]] = []
    ready = sorted((g[0], i) for i, g in enumerate(groups) if not waiting[i])
    done: set[int] = set()
    while ready:
        _, index = ready.pop(0)
        done.add(index)
        ordered.append(groups[index])
        for other, needs in waiting.items():
            if other not in done and index in needs:
                needs.discard(index)
                if not needs:
                    ready.append((groups[other][0], other))
        ready.sort()
    return ordered


def _strongly_connected(
    nodes: list[TableName], parents: dict[TableName, list[TableName]]
) -> list[tuple[TableName, ...]]:
    """Tarjan's algorithm, iterative so deep schemas do not hit the recursion limit."""
    index: dict[TableName, int] = {}
    low: dict[TableName, int] = {}
    stack: list[TableName] = []
    on_stack: set[TableName] = set()
    groups: list[tuple[TableName, ...]] = []
    for start in nodes:
        if start in index:
            continue
        work: list[tuple[TableName, Iterator[TableName]]] = [(start, iter(parents[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, pending = work[-1]
            step = next(pending, None)
            if step is not None:
                if step not in index:
                    index[step] = low[step] = len(index)
                    stack.append(step)
                    on_stack.add(step)
                    work.append((step, iter(parents[step])))
                elif step in on_stack:
                    low[node] = min(low[node], index[step])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                groups.append(tuple(sorted(group)))
    return groups


def leaf_edges(schema: Schema, tables: Iterable[TableName]) -> dict[TableName, set[TableName]]:
    """For each data table, the data tables it references (self-references included)."""
    return {leaf: schema.parent_leaves(leaf) for leaf in tables}


def is_cycle(group: tuple[TableName, ...], edges: dict[TableName, set[TableName]]) -> bool:
    return len(group) > 1 or group[0] in edges.get(group[0], set())
