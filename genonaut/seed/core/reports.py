"""The import and verify reports in the shape the scripts print: a table, notes, one result
line. SQLite and MariaDB use the reports here; PostgreSQL's own, which say more, share their
tables and lines."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from genonaut.seed.core.engine import LoadedTable
from genonaut.seed.core.schema_graph import ForeignKey, TableName
from genonaut.seed.core.text_table import format_table


@dataclass(frozen=True)
class TableLoad:
    table: TableName
    in_file: int
    inserted: int

    @property
    def already_there(self) -> int:
        return self.in_file - self.inserted


@dataclass
class LoadSummary:
    database: str
    tables: list[LoadedTable] = field(default_factory=list)
    # Counters moved past the loaded keys: AUTO_INCREMENT, sqlite_sequence.
    counters: list[tuple[TableName, int]] = field(default_factory=list)
    remarks: list[str] = field(default_factory=list)
    statements: int = 0
    seconds: float = 0.0

    @property
    def inserted(self) -> int:
        return sum(t.inserted for t in self.tables)

    def as_table(self) -> str:
        lines = load_table(self.tables)
        lines += [f"counter {name} set to {value}" for name, value in self.counters]
        lines += self.notes()
        lines.append(self.result_line())
        return "\n".join(lines)

    def result_line(self) -> str:
        return load_result_line(self.tables, self.seconds, self.statements, self.database)

    def notes(self) -> list[str]:
        return [f"note: {r}" for r in self.remarks]


def load_table(tables: Sequence[LoadedTable]) -> list[str]:
    """The table every import prints: rows in each file, inserted, already there."""
    rows = [(str(t.table), t.in_file, t.inserted, t.already_there) for t in tables]
    total = (
        "total",
        sum(t.in_file for t in tables),
        sum(t.inserted for t in tables),
        sum(t.already_there for t in tables),
    )
    return format_table(("table", "in file", "inserted", "already there"), rows, total)


def load_result_line(
    tables: Sequence[LoadedTable], seconds: float, statements: int, database: str
) -> str:
    """The one line every import ends with."""
    inserted = sum(t.inserted for t in tables)
    return (
        f"{len(tables)} tables, {inserted} rows inserted in {seconds:.2f}s "
        f"with {statements} statements -> {database}"
    )


@dataclass(frozen=True)
class TableCheck:
    """Fixture rows of one table that the target lacks, or holds with other values."""

    table: TableName
    in_file: int
    missing: int
    differing: int
    # Rows of the target's table that the file does not hold: a note, not a problem.
    extra: int = 0
    # The first SAMPLE missing and differing rows, one line each (`missing_line`,
    # `differs_line`).
    details: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.missing and not self.differing


@dataclass(frozen=True)
class RelationCheck:
    """Rows of `child` whose reference through `relation` finds no row."""

    relation: ForeignKey
    child: TableName
    orphans: int


@dataclass
class VerifySummary:
    database: str
    tables: list[TableCheck] = field(default_factory=list)
    relations: list[RelationCheck] = field(default_factory=list)
    statements: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables) and not any(r.orphans for r in self.relations)

    def as_table(self) -> str:
        lines = format_table(
            ("table", "in file", "missing", "differing"),
            [(str(t.table), t.in_file, t.missing, t.differing) for t in self.tables],
            None,
        )
        lines += self.problems()
        lines.append(self.result_line())
        return "\n".join(lines)

    def problems(self) -> list[str]:
        """Per table with problems, its counts, the rows shown and how many more; then the
        relations with orphans."""
        lines = []
        for t in self.tables:
            if t.ok:
                continue
            lines.append(
                f"rows: {t.table}: {t.missing} missing, {t.differing} differing from the fixture"
            )
            lines += t.details
            rest = t.missing + t.differing - len(t.details)
            if t.details and rest > 0:
                more = f"{rest} more row{'s' if rest != 1 else ''}"
                lines.append(f"  ... and {more} of {t.table} missing or differing")
        return lines + orphan_lines(self.relations)

    def result_line(self) -> str:
        return (
            f"verify {verdict(self.tables, self.relations)}: {len(self.tables)} tables, "
            f"{len(self.relations)} relations checked in {self.seconds:.2f}s -> {self.database}"
        )


SAMPLE = 5  # missing rows, and differing ones, shown per table; the rest are counted


def key_text(key: Sequence[str], columns: Sequence[str], values: Sequence[str | None]) -> str:
    """`id=3` or `a=1, b=x`: a row's key from its fixture text.

    >>> key_text(("id",), ("id", "name"), ("3", "Ann"))
    'id=3'
    """
    by_column = dict(zip(columns, values, strict=True))
    return ", ".join(f"{k}={'NULL' if by_column[k] is None else by_column[k]}" for k in key)


def missing_line(table: TableName, key: str) -> str:
    """`missing: shop.users id=3`: a fixture row the database lacks."""
    return f"missing: {table} {key}"


def differs_line(
    table: TableName,
    key: str,
    columns: Sequence[str],
    fixture: Sequence[str | None],
    database: Sequence[str | None],
) -> str:
    """`differs: users id=3: email: fixture 'a', database 'b'`: each column whose text
    differs, both values in the fixture's text form.

    >>> differs_line(TableName("public", "ev"), "id=1", ("id", "at"), ("1", "a"), ("1", None))
    "differs: ev id=1: at: fixture 'a', database NULL"
    """
    changed = "; ".join(
        f"{c}: fixture {shown(a)}, database {shown(b)}"
        for c, a, b in zip(columns, fixture, database, strict=True)
        if a != b
    )
    return f"differs: {table} {key}: {changed or 'same text, other value'}"


def shown(value: str | None) -> str:
    """A value as a report shows it: quoted, cut to 60 characters; NULL unquoted."""
    if value is None:
        return "NULL"
    return repr(value if len(value) <= 60 else value[:57] + "...")


def rows(n: int) -> str:
    """`1 row`, `2 rows`."""
    return f"{n} row{'s' if n != 1 else ''}"


def orphan_lines(relations: Sequence[RelationCheck]) -> list[str]:
    """One line per relation with rows whose reference finds nothing."""
    lines = []
    for check in relations:
        if check.orphans:
            kind = "virtual relation" if check.relation.is_virtual else "foreign key"
            lines.append(
                f"orphans: {check.child}: {rows(check.orphans)} whose reference through "
                f"{kind} {check.relation.name} finds no row: {check.relation.describe()}"
            )
    return lines


def verdict(tables: Sequence[TableCheck], relations: Sequence[RelationCheck]) -> str:
    """`OK`, or `FAILED: n problems` counting tables with bad rows and relations with orphans."""
    bad = sum(not t.ok for t in tables) + sum(bool(r.orphans) for r in relations)
    return f"FAILED: {bad} problem{'s' if bad != 1 else ''}" if bad else "OK"
