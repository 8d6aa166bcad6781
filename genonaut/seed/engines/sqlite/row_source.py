"""The selection's row questions (`core.row_source.RowSource`) answered by SQLite.

A batch of requests is one statement: each request is one SELECT of the rows it asks for, and
the SELECTs are joined by UNION ALL, every row tagged with its request's number and its place
in the request's order. Rows of tables of different shapes share the result's columns (the
narrower padded with NULL). A request that waits on another (`Find.otherwise`,
`Find.only_if_short`) reads that one's rows from a MATERIALIZED common table expression,
which SQLite computes once; a walk is one WITH RECURSIVE. Keys travel as one json parameter
per list, or as VALUES parameters when a list holds reals or blobs (`row_queries.key_list`);
the export's session is read-only, so no scratch table.

Each row is read in two layers: the inner SELECT filters, orders and limits the table's rows;
the outer one numbers them (`row_number()`: SQLite may ignore an ORDER BY in a subquery
without LIMIT) and looks up, for a reference that cannot be read as is, the parent key it
meets (`row_queries.Shapes`), for the rows kept only.

Keys come back in the text form the dump writes (`values.to_text`): identity and referred keys
in their own columns' affinities, references in their parent key's, so that a reference equals
the key it meets. A table without a primary key is identified by its rowid (the core's `ctid`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from genonaut.seed.core.row_source import (
    KEY_ORDER,
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
from genonaut.seed.errors import ConnectionFailed, FixtureError, SeedError

from .catalog import Catalog
from .connection import Session, ident, quote
from .row_queries import (
    UNIQUE_INDEX_COLUMNS,
    IndexColumn,
    Shapes,
    Sql,
    applies,
    column,
    join,
    key_in,
    not_among,
    sql,
)
from .values import Affinity, Value, to_text

# MATERIALIZED common table expressions came in 3.35.0; several recursive SELECTs in 3.34.0.
MINIMUM_VERSION = (3, 35, 0)
# Terms of one compound SELECT (SQLite refuses more than 500); larger unions are nested.
_UNION_TERMS = 250
# Booleans per `tables_with_rows` SELECT (SQLite allows 2000 result columns).
_FLAGS_PER_SELECT = 1000


@dataclass(frozen=True)
class _Unit:
    """The statement pieces of requests that must share one statement."""

    ctes: list[Sql]
    arms: list[Sql]

    @property
    def params(self) -> int:
        return sum(len(p.params) for p in (*self.ctes, *self.arms))


class SQLiteRows:
    """`RowSource` over a SQLite session inside one read transaction (`Session.snapshot`).

    Example: `plan_selection(SQLiteRows(db, catalog), catalog.schema, rules)`.
    """

    def __init__(self, db: Session, catalog: Catalog) -> None:
        if sqlite3.sqlite_version_info < MINIMUM_VERSION:
            raise ConnectionFailed(
                f"this Python's SQLite is {sqlite3.sqlite_version}; choosing rows needs 3.35 "
                "or later (MATERIALIZED common table expressions)",
                hint="use a Python built with a newer SQLite",
            )
        self.db = db
        self.catalog = catalog
        self._shapes: Shapes | None = None
        self._names = 0

    @property
    def shapes(self) -> Shapes:
        """The catalog facts the statements need; unique indexes read on first use."""
        if self._shapes is None:
            found = self.db.fetch(UNIQUE_INDEX_COLUMNS)
            self._shapes = Shapes(self.catalog, (IndexColumn(*row) for row in found))
        return self._shapes

    # -- RowSource --------------------------------------------------------------------------

    def tables_with_rows(self, tables: Sequence[TableName]) -> set[TableName]:
        """Which tables have any row, asked in one statement (per thousand tables)."""
        found: set[TableName] = set()
        for start in range(0, len(tables), _FLAGS_PER_SELECT):
            part = tables[start : start + _FLAGS_PER_SELECT]
            probes = ", ".join(f"EXISTS (SELECT 1 FROM {ident(t)})" for t in part)
            flags = self._fetch(Sql(f"SELECT {probes}"))[0]
            found |= {t for t, has_rows in zip(part, flags, strict=True) if has_rows}
        return found

    def condition_errors(self, checks: Sequence[tuple[TableName, str]]) -> dict[int, str]:
        """Every condition prepared once on no rows, in one statement; if SQLite refuses it,
        each alone, to name the one at fault. A refused statement leaves the read
        transaction as it was. A condition holding a parameter (`?`, `:name`) is refused
        too: it would take a value meant for another part of the statement."""
        if not checks:
            return {}
        probes = [f"(SELECT 1 FROM {ident(t)} WHERE ({c}) LIMIT 0)" for t, c in checks]
        try:
            self.db.fetch(f"SELECT {', '.join(probes)}")
            return {}
        except sqlite3.Error:
            pass
        for position, probe in enumerate(probes):
            try:
                self.db.fetch(f"SELECT {probe}")
            except sqlite3.Error as exc:
                return {position: _message(exc)}
        return {}

    def find(self, requests: Sequence[Request]) -> list[list[FoundRow]]:
        """All requests in one statement (more only when their key lists of reals or blobs
        exceed SQLite's parameter limit); a request that waits on another lies in the same
        statement as that one."""
        if not requests:
            return []
        width = max(self._width(p) for r in requests for p in _projections(r))
        units = self._units(requests, width)
        answers: list[list[FoundRow]] = [[] for _ in requests]
        limit = self.db.conn.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        batch: list[_Unit] = []
        for unit in units:
            if batch and sum(u.params for u in batch) + unit.params > limit:
                self._answer(requests, batch, width, answers)
                batch = []
            batch.append(unit)
        self._answer(requests, batch, width, answers)
        return answers

    def walk(
        self, tables: Sequence[Projection], starts: Sequence[Start], steps: Sequence[Step]
    ) -> dict[TableName, list[FoundRow]]:
        """The rows of `starts` and every row they reach through `steps`, across tables and
        cycles, in one WITH RECURSIVE statement. The walk carries (table tag, locator) pairs
        (rowid, or a WITHOUT ROWID table's primary key); UNION keeps each pair once, which
        ends cycles."""
        if not starts:
            return {}
        shapes = self.shapes
        by_leaf = {p.table.name: p for p in tables}
        tag = {leaf: i for i, leaf in enumerate(by_leaf)}
        slots = max(len(shapes.locator(leaf)) for leaf in by_leaf)
        names = [f"l{i}" for i in range(slots)]

        def located(leaf: TableName, alias: str) -> str:
            found = [f"+{column(c, alias)}" for c in shapes.locator(leaf)]
            return ", ".join(found + ["NULL"] * (slots - len(found)))

        firsts = [
            sql(
                "SELECT {}, {} FROM {} WHERE {}",
                str(tag[s.leaf]),
                located(s.leaf, ""),
                ident(s.leaf),
                key_in(
                    [quote(c) for c in s.columns],
                    s.keys,
                    shapes.affinities(s.leaf, s.columns),
                ),
            )
            for s in starts
        ]
        recursion = [self._step(step, tag, located) for step in steps]
        if len(recursion) >= 2 * _UNION_TERMS - 1:
            raise SeedError(
                f"one walk over references follows {len(recursion)} relations; SQLite "
                "joins at most 499 in one recursive query",
                hint="export fewer tables at a time (--tables)",
            )
        body = join(" UNION ", [sql("SELECT * FROM ({})", join(" UNION ", firsts)), *recursion])
        cte = sql(f"walk(tag, {', '.join(names)}) AS MATERIALIZED ({{}})", body)
        width = max(self._width(p) for p in tables)
        arms = []
        for leaf, proj in by_leaf.items():
            locator = shapes.locator(leaf)
            picked = ", ".join(names[: len(locator)])
            where = Sql(
                f"{_vector([quote(c) for c in locator])} IN "
                f"(SELECT {picked} FROM walk WHERE tag = {tag[leaf]})"
            )
            arms.append(self._read(proj, [where], KEY_ORDER, None, tag[leaf], width))
        leaves = list(by_leaf)
        found: dict[TableName, list[FoundRow]] = {}
        for number, rows in sorted(self._run([cte], arms, width).items()):
            leaf = leaves[number]
            found[leaf] = [self._found(by_leaf[leaf], values) for values in rows]
        return found

    # -- requests as statement pieces -------------------------------------------------------

    def _units(self, requests: Sequence[Request], width: int) -> list[_Unit]:
        """Each request's pieces, those that wait on one in the unit of that one. Requests
        that are waited on come first, so that their rows are named before they are read."""
        waited: dict[int, list[int]] = {}
        for i, request in enumerate(requests):
            after = _after(request)
            if after is None:
                continue
            target = requests[after]
            if not isinstance(target, Find) or target.limit is None or _after(target) is not None:
                raise ValueError(f"request {i} waits on one without a limit")
            waited.setdefault(after, []).append(i)
        units: list[_Unit] = []
        for i, request in enumerate(requests):
            if _after(request) is not None:
                continue
            ctes: list[Sql] = []
            arms: list[Sql] = []
            names = self._arms(request, i, [], i in waited, width, ctes, arms)
            for j in waited.get(i, []):
                target = requests[i]
                assert isinstance(target, Find) and target.limit is not None
                counts = " + ".join(f"(SELECT count(*) FROM {n})" for n in names)
                self._arms(requests[j], j, [f"{counts} < {target.limit}"], False, width, ctes, arms)
            units.append(_Unit(ctes, arms))
        return units

    def _arms(
        self,
        request: Request,
        slot: int,
        guards: list[str],
        named: bool,
        width: int,
        ctes: list[Sql],
        arms: list[Sql],
    ) -> list[str]:
        """Add the pieces of one request to `ctes` and `arms`; the names of the common table
        expressions holding its rows when `named` (or when `otherwise` needs them)."""
        if isinstance(request, WalkSelf):
            arms.append(self._walk_self(request, slot, width, guards, ctes))
            return []
        guard_sql = [Sql(g) for g in guards]
        arm = self._read(
            request.projection,
            [*self._where(request), *guard_sql],
            request.order,
            request.limit,
            slot,
            width,
        )
        if request.otherwise is None and not named:
            arms.append(arm)
            return []
        name = self._name("g")
        ctes.append(sql(f"{name} AS MATERIALIZED ({{}})", arm))
        arms.append(Sql(f"SELECT * FROM {name}"))
        names = [name]
        if request.otherwise is not None:
            unless = [*guards, f"NOT EXISTS (SELECT 1 FROM {name})"]
            names += self._arms(request.otherwise, slot, unless, named, width, ctes, arms)
        return names

    def _walk_self(
        self, walk: WalkSelf, slot: int, width: int, guards: list[str], ctes: list[Sql]
    ) -> Sql:
        """Rows matching `start`, then rows whose `match` columns meet the `carry` columns of
        rows found, recursively: one recursive SELECT per carried column list."""
        shapes = self.shapes
        proj = walk.projection
        leaf = proj.table.name
        locator = shapes.locator(leaf)
        names = [f"l{i}" for i in range(len(locator))]
        name = self._name("w")
        first = sql(
            "SELECT {} FROM {} WHERE {}",
            ", ".join(f"+{quote(c)}" for c in locator),
            ident(leaf),
            self._condition(proj, walk.start),
        )
        same = " AND ".join(f"k.{quote(c)} = w.{n}" for c, n in zip(locator, names, strict=True))
        steps = [
            f"SELECT {', '.join(f'+n.{quote(c)}' for c in locator)} FROM {name} AS w "
            f"JOIN {ident(leaf)} AS k ON {same} "
            f"JOIN {ident(leaf)} AS n ON {self._carry_join(proj, carry, walk.match)}"
            for carry in walk.carry
        ]
        body = join(" UNION ", [first, *steps])
        ctes.append(sql(f"{name}({', '.join(names)}) AS MATERIALIZED ({{}})", body))
        where = Sql(
            f"{_vector([quote(c) for c in locator])} IN (SELECT {', '.join(names)} FROM {name})"
        )
        return self._read(proj, [where, *(Sql(g) for g in guards)], KEY_ORDER, None, slot, width)

    def _carry_join(self, proj: Projection, carry: tuple[str, ...], match: tuple[str, ...]) -> str:
        """How a row `n` meets a row `k` found: `n`'s `match` columns against `k`'s `carry`
        columns, as the foreign key between them compares when there is one."""
        for fk in proj.relations:
            if fk.referred_table != proj.table.name:
                continue
            if fk.referred_columns == carry and fk.columns == match:  # down: n references k
                return self.shapes.ref_match(fk, [column(c, "n") for c in fk.columns], "k")
            if fk.columns == carry and fk.referred_columns == match:  # up: k references n
                return self.shapes.ref_match(fk, [column(c, "k") for c in fk.columns], "n")
        return " AND ".join(
            f"n.{quote(m)} = k.{quote(c)}" for m, c in zip(match, carry, strict=True)
        )

    def _step(
        self, step: Step, tag: dict[TableName, int], located: Callable[[TableName, str], str]
    ) -> Sql:
        """The rows of `step.parent` that the walk's rows of `step.child` reference. The
        relation's condition is asked of the child row alone, so that it sees the child's
        own column names and nothing else."""
        shapes = self.shapes
        fk = step.fk
        # `c` is named so that no table is: the condition's subquery sees `c` from outside.
        c = shapes.child_alias
        locator = shapes.locator(step.child)
        same = " AND ".join(f"{c}.{quote(name)} = w.l{i}" for i, name in enumerate(locator))
        condition = ""
        if fk.condition:
            child = ident(step.child)
            itself = " AND ".join(f"{child}.{quote(n)} = {c}.{quote(n)}" for n in locator)
            condition = f"EXISTS (SELECT 1 FROM {child} WHERE {itself} AND ({fk.condition}))"
        match = shapes.ref_match(fk, [column(name, c) for name in fk.columns], "p")
        return Sql(
            f"SELECT {tag[step.parent]}, {located(step.parent, 'p')} FROM walk AS w "
            f"JOIN {ident(step.child)} AS {c} ON {same} "
            f"JOIN {ident(step.parent)} AS p ON {match} "
            f"WHERE w.tag = {tag[step.child]} AND {applies(fk, c, condition)}"
        )

    # -- one table's rows -------------------------------------------------------------------

    def _read(
        self,
        proj: Projection,
        where: list[Sql],
        order: Order | None,
        limit: int | None,
        slot: int,
        width: int,
    ) -> Sql:
        """One SELECT of `slot`, the row's place in `order`, and what the plan reads of each
        row (`_width` columns, then NULLs up to `width`)."""
        shapes = self.shapes
        table = proj.table
        terms = self._order_terms(proj, order)
        inner: list[Sql] = [sql(f"{{}} AS o{i}", t) for i, t in enumerate(terms)]
        outer: list[str] = []

        def take(expression: str) -> str:
            inner.append(Sql(f"{expression} AS x{len(inner) - len(terms)}"))
            return f"s.x{len(inner) - len(terms) - 1}"

        for name in shapes.identity(table):
            outer.append(take(quote(name)))
        for fk in proj.relations:
            set_here = take(self._applies(fk))
            own = [take(quote(c)) for c in fk.columns]
            if shapes.reads_as_is(fk):
                outer += [f"CASE WHEN {set_here} THEN {v} END" for v in own]
            else:
                outer += [
                    f"CASE WHEN {set_here} THEN {shapes.met_value(fk, i, own, fallback=True)} END"
                    for i in range(len(own))
                ]
        for key in proj.keys:
            outer += [take(quote(c)) for c in key]
        outer += ["NULL"] * (width - len(outer))
        tail = ""
        if order is not None and terms:
            tail += " ORDER BY " + ", ".join(str(i + 1) for i in range(len(terms)))
        if limit is not None:
            tail += f" LIMIT {int(limit)}"
        condition = join(" AND ", where) if where else Sql("1")
        select = sql(
            "SELECT {} FROM {} WHERE {}{}", join(", ", inner), ident(table.name), condition, tail
        )
        place = (
            "row_number() OVER (ORDER BY " + ", ".join(f"s.o{i}" for i in range(len(terms))) + ")"
            if order is not None and terms
            else "0"
        )
        return sql("SELECT {}, {}, {} FROM ({}) AS s", str(slot), place, ", ".join(outer), select)

    def _width(self, proj: Projection) -> int:
        return (
            len(self.shapes.identity(proj.table))
            + sum(len(fk.columns) for fk in proj.relations)
            + sum(len(key) for key in proj.keys)
        )

    def _found(self, proj: Projection, values: Sequence[Value]) -> FoundRow:
        """A row of `_read` as the plan's row: values as the dump writes them."""
        shapes = self.shapes
        leaf = proj.table.name
        at = 0

        def texts(count: int, kinds: Sequence[Affinity]) -> Key:
            nonlocal at
            part = values[at : at + count]
            at += count
            return tuple(to_text(v, k) for v, k in zip(part, kinds, strict=True))

        identity = shapes.identity(proj.table)
        ident_key = texts(len(identity), shapes.affinities(leaf, identity))
        refs: list[Key | None] = []
        for fk in proj.relations:
            ref = texts(len(fk.columns), shapes.referred_affinities(fk))
            refs.append(None if ref[0] is None else ref)
        keys = tuple(texts(len(key), shapes.affinities(leaf, key)) for key in proj.keys)
        return FoundRow(ident_key, tuple(refs), keys)

    def _where(self, find: Find) -> list[Sql]:
        proj = find.projection
        clauses = [self._condition(proj, f.condition) for f in find.filters]
        if find.exclude:
            identity = self.shapes.identity(proj.table)
            clauses.append(
                not_among(
                    [quote(c) for c in identity],
                    find.exclude,
                    self.shapes.affinities(proj.table.name, identity),
                )
            )
        return clauses

    def _condition(self, proj: Projection, condition: Condition) -> Sql:
        """A condition on rows of the projection's table, in a SELECT of that table alone
        under its own name (a user's condition may name it)."""
        if isinstance(condition, IsSet):
            return Sql(self._applies(condition.fk))
        if isinstance(condition, RefersTo):
            fk = condition.fk
            child = ident(proj.table.name)
            columns = [column(c, child) for c in fk.columns]
            return self.shapes.refers_to(fk, condition.keys, columns)
        if isinstance(condition, Where):
            return Sql(f"({condition.text})")
        if isinstance(condition, Not):
            return sql("NOT {}", self._condition(proj, condition.part))
        joiner, empty = (" OR ", "0") if isinstance(condition, AnyOf) else (" AND ", "1")
        if not condition.parts:
            return Sql(empty)
        parts = [self._condition(proj, part) for part in condition.parts]
        return sql("({})", join(joiner, parts))

    def _applies(self, fk: ForeignKey) -> str:
        return applies(fk, "", f"({fk.condition}) IS TRUE" if fk.condition else "")

    def _order_terms(self, proj: Projection, order: Order | None) -> list[Sql]:
        """What orders the rows: unmet conditions counted, grouped columns (nulls last),
        then key order as the dump writes rows."""
        if order is None:
            return []
        terms: list[Sql] = []
        if order.unmet:
            fails = [
                sql("(CASE WHEN {} THEN 0 ELSE 1 END)", self._condition(proj, c))
                for c in order.unmet
            ]
            terms.append(sql("({})", join(" + ", fails)))
        for name in order.grouped:
            terms += [Sql(f"{quote(name)} IS NULL"), Sql(quote(name))]
        terms += [Sql(quote(c)) for c in self.shapes.order(proj.table.name)]
        return terms

    # -- running ----------------------------------------------------------------------------

    def _answer(
        self,
        requests: Sequence[Request],
        units: list[_Unit],
        width: int,
        answers: list[list[FoundRow]],
    ) -> None:
        if not units:
            return
        ctes = [c for u in units for c in u.ctes]
        arms = [a for u in units for a in u.arms]
        for slot, rows in self._run(ctes, arms, width).items():
            request = requests[slot]
            projection = request.projection
            answers[slot] = [self._found(projection, values) for values in rows]

    def _run(
        self, ctes: list[Sql], arms: list[Sql], width: int
    ) -> dict[int, list[tuple[Any, ...]]]:
        """One statement: the arms' rows, by slot, each slot's in its order."""
        body = _union(arms)
        statement = sql("WITH RECURSIVE {} {}", join(", ", ctes), body) if ctes else body
        rows = self._fetch(statement)
        rows.sort(key=lambda row: (row[0], row[1]))
        found: dict[int, list[tuple[Any, ...]]] = {}
        for row in rows:
            found.setdefault(row[0], []).append(row[2 : 2 + width])
        return found

    def _fetch(self, statement: Sql) -> list[tuple[Any, ...]]:
        try:
            return self.db.fetch(statement.text, statement.params)
        except sqlite3.OperationalError as exc:
            if "decode to UTF-8" not in str(exc):
                raise
            # SQLite keeps whatever bytes were stored as text; fixture files hold UTF-8 only.
            raise FixtureError(
                f"a key of the source is text that is not UTF-8 ({exc}): it cannot be "
                "written to a fixture file",
                hint="store such values as blobs in the source (UPDATE ... SET column = "
                "CAST(column AS BLOB)), or leave the table out",
            ) from exc

    def _name(self, prefix: str) -> str:
        self._names += 1
        return f"{prefix}{self._names}"


def _message(exc: sqlite3.Error) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, sqlite3.ProgrammingError) and "bindings" in text:
        return "it holds a parameter (?, ?1, :name, @name), which SQLite would fill with a value"
    return text


def _union(arms: list[Sql]) -> Sql:
    """`arms` joined by UNION ALL; past a few hundred, in nested groups (SQLite refuses a
    compound SELECT of more than 500 terms)."""
    if len(arms) <= _UNION_TERMS:
        return join(" UNION ALL ", arms)
    groups = [
        sql("SELECT * FROM ({})", join(" UNION ALL ", arms[i : i + _UNION_TERMS]))
        for i in range(0, len(arms), _UNION_TERMS)
    ]
    return _union(groups)


def _vector(columns: Sequence[str]) -> str:
    return columns[0] if len(columns) == 1 else f"({', '.join(columns)})"


def _after(request: Request) -> int | None:
    return request.only_if_short if isinstance(request, Find) else None


def _projections(request: Request) -> list[Projection]:
    found = [request.projection]
    while isinstance(request, Find) and request.otherwise is not None:
        request = request.otherwise
        found.append(request.projection)
    return found
