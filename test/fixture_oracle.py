"""An independent reading of a fixture directory, for tests: rows per table, dangling references.

It shares nothing with the exporter but the file format, so a bug in the exporter's own
bookkeeping cannot hide a dangling reference from the tests.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from pathlib import Path

from genonaut.seed.core.fixture_format import decode_row, read_manifest
from genonaut.seed.core.schema_graph import ForeignKey, TableName

Row = dict[str, str | None]
_CONDITION = re.compile(r"^\s*(\w+)\s*=\s*'([^']*)'\s*$")


def read_rows(directory: Path) -> dict[TableName, list[Row]]:
    """Every fixture row, decoded, keyed by table."""
    manifest = read_manifest(directory)
    tables: dict[TableName, list[Row]] = {}
    for entry in manifest.tables:
        lines = (directory / entry.file).read_text(encoding="utf-8").split("\n")
        assert lines[-1] == "", f"{entry.file} does not end with a newline"
        header = decode_row(lines[0])
        assert tuple(header) == entry.columns, f"{entry.file}: header differs from the manifest"
        rows = [dict(zip(entry.columns, decode_row(line), strict=True)) for line in lines[1:-1]]
        assert len(rows) == entry.rows, (
            f"{entry.file}: {len(rows)} rows, manifest says {entry.rows}"
        )
        tables[entry.name] = rows
    return tables


def _holds(condition: str | None, row: Row) -> bool:
    if condition is None:
        return True
    match = _CONDITION.match(condition)
    assert match, f"the oracle only reads conditions of the form col = 'value', not {condition!r}"
    return row[match.group(1)] == match.group(2)


def _comparable(value: str | None) -> str | Decimal | None:
    """A key value as the database compares it across types: a foreign key may be an integer
    referencing a numeric (1 = 1.00) or a varchar referencing a char(n) (trailing blanks)."""
    if value is None:
        return None
    try:
        number = Decimal(value)
    except InvalidOperation:
        return value.rstrip(" ")
    return number if number.is_finite() else value


def _key(row: Row, columns: tuple[str, ...]) -> tuple[str | Decimal | None, ...]:
    return tuple(_comparable(row[c]) for c in columns)


def dangling(directory: Path) -> list[str]:
    """One line per fixture row whose reference matches no fixture row."""
    manifest = read_manifest(directory)
    rows = read_rows(directory)

    problems = []
    for fk in manifest.relations:
        present = {
            _key(row, fk.referred_columns)
            for leaf in manifest.holders(fk.referred_table)
            for row in rows[leaf]
        }
        for leaf in manifest.holders(fk.table):
            for row in rows[leaf]:
                value = _key(row, fk.columns)
                if None in value or not _holds(fk.condition, row):
                    continue
                if value not in present:
                    problems.append(f"{leaf} {value} -> {fk.describe()}")
    return problems


def is_set(fk: ForeignKey, row: Row) -> bool:
    return all(row[c] is not None for c in fk.columns) and _holds(fk.condition, row)


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def fixture_files(directory: Path) -> dict[str, bytes]:
    """The snapshot without SEED.md, which records how the rows were chosen (by limit, by
    closure): a round trip chooses the same rows another way."""
    return {name: data for name, data in snapshot(directory).items() if name != "SEED.md"}
