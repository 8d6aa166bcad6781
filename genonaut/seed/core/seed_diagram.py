"""SEED.md: a picture of a fixture directory, written beside its files by each export.

A Mermaid `erDiagram` (GitHub and most editors draw it) of the exported tables with their row
counts, every declared and virtual relation of the manifest, and the coverage of each relation:
how many child rows that set a reference point at a row of the seed. Everything derives from the
manifest, the files and the export's per-table counts, in a fixed order, so the file diffs well
and `--check` can render it again and compare.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from genonaut.seed.core.fixture_files import FixtureFile, read_fixture_files
from genonaut.seed.core.fixture_format import Manifest, decode_row, name_text, parse_name
from genonaut.seed.core.schema_graph import ForeignKey, TableName

SEED_MD = "SEED.md"

# A relation's condition simple enough to apply here: `column = 'text'`.
_SIMPLE_CONDITION = re.compile(r"^\s*\"?(\w+)\"?\s*=\s*'([^']*)'\s*$")
_COUNTS_ROW = re.compile(r"^\| `([^`]+)` \| (\d+) \| (\d+) \| (\d+) \| (\d+) \|$", re.MULTILINE)


@dataclass(frozen=True)
class TableCounts:
    """How the export chose a table's rows: by its limit, by closure, by --include."""

    rows: int
    by_limit: int
    by_closure: int
    by_include: int


@dataclass(frozen=True)
class Coverage:
    """Of a relation's child rows in the seed, those that set the reference, and of those the
    ones whose parent row is in the seed too."""

    relation: ForeignKey
    child_rows: int
    referencing: int
    covered: int
    condition_applied: bool

    @property
    def percent(self) -> str:
        return f"{100 * self.covered / self.referencing:.1f}%" if self.referencing else "-"


Rows = Mapping[TableName, tuple[tuple[str, ...], list[list[str | None]]]]


def decoded_rows(files: Iterable[FixtureFile]) -> Rows:
    """(columns, rows) of each file, values as COPY text decodes them."""
    return {
        f.name: (
            f.entry.columns,
            [decode_row(line) for line in f.body.decode("utf-8").split("\n")[:-1]],
        )
        for f in files
    }


def coverage(manifest: Manifest, rows: Rows) -> list[Coverage]:
    """The coverage of every relation of the manifest, in the order `describe()` sorts them.

    Example: `coverage(manifest, decoded_rows(files))[0].percent == "100.0%"`.
    """
    found = []
    for fk in sorted(manifest.relations, key=lambda r: r.describe()):
        parents = {
            tuple(row[columns.index(c)] for c in fk.referred_columns)
            for leaf in manifest.holders(fk.referred_table)
            if leaf in rows
            for columns, table_rows in [rows[leaf]]
            for row in table_rows
        }
        condition = _SIMPLE_CONDITION.match(fk.condition or "")
        child_rows = referencing = covered = 0
        for leaf in manifest.holders(fk.table):
            if leaf not in rows:
                continue
            columns, table_rows = rows[leaf]
            for row in table_rows:
                child_rows += 1
                if condition and row[columns.index(condition[1])] != condition[2]:
                    continue
                reference = tuple(row[columns.index(c)] for c in fk.columns)
                if None in reference:
                    continue
                referencing += 1
                covered += reference in parents
        applied = not fk.condition or condition is not None
        found.append(Coverage(fk, child_rows, referencing, covered, applied))
    return found


def render_seed_md(manifest: Manifest, counts: Mapping[TableName, TableCounts], rows: Rows) -> str:
    """The text of SEED.md.

    Example: `render_seed_md(manifest, {t: TableCounts(3, 3, 0, 0)}, decoded_rows(files))`.
    """
    tables = [t.name for t in manifest.tables]
    parents = [name for name, _ in manifest.partitioned]
    lines = [
        "# The seed",
        "",
        "Written by the export beside the fixture files it describes; do not edit it: "
        "`export_seed_from_demo --check` renders it again and compares.",
        "",
        "```mermaid",
        "erDiagram",
    ]
    for name in tables:
        c = counts.get(name)
        rows_of = c.rows if c else manifest.table(name).rows
        what = f"{rows_of} row{'s' if rows_of != 1 else ''}"
        if c:
            what += f": {c.by_limit} by limit, {c.by_closure} by closure"
            what += f", {c.by_include} by include" if c.by_include else ""
        lines.append(f'  {_entity(name)} {{\n    rows n "{what}"\n  }}')
    for name in parents:
        lines.append(f'  {_entity(name)} {{\n    partitioned n "rows in its partitions"\n  }}')
    for table in manifest.tables:
        if table.partition_of is not None:
            lines.append(f'  {_id(table.partition_of)} ||--|{{ {_id(table.name)} : "partition"')
    for name, parent in manifest.partitioned:
        if parent is not None:
            lines.append(f'  {_id(parent)} ||--|{{ {_id(name)} : "partition"')
    for fk in sorted(manifest.relations, key=lambda r: r.describe()):
        line = "..o{" if fk.is_virtual else "--o{"
        # Mermaid reads # and ; in a label as an entity code: keep words only.
        label = re.sub(r"[^\w.-]+", " ", fk.name).strip()
        if fk.is_virtual and not label.startswith("virtual"):
            label = f"virtual {label}"
        lines.append(f'  {_id(fk.referred_table)} ||{line} {_id(fk.table)} : "{label}"')
    lines += ["```", "", "## Rows", ""]
    lines += [
        "| table | rows | by limit | by closure | by include |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for name in tables:
        c = counts.get(name) or TableCounts(manifest.table(name).rows, 0, 0, 0)
        lines.append(
            f"| `{_label(name)}` | {c.rows} | {c.by_limit} | {c.by_closure} | {c.by_include} |"
        )
    total = sum(t.rows for t in manifest.tables)
    lines += ["", f"{len(tables)} tables, {total} rows.", "", "## Relations", ""]
    lines += [
        "Coverage: of the child rows in the seed that set the reference, how many point at a "
        "row of the seed.",
        "",
        "| relation | kind | child rows | with a reference | pointing into the seed | coverage |",
        "| --- | --- | ---: | ---: | ---: | ---: |",
    ]
    footnote = False
    for cov in coverage(manifest, rows):
        kind = "virtual" if cov.relation.is_virtual else "foreign key"
        mark = "" if cov.condition_applied else " *"
        footnote = footnote or not cov.condition_applied
        lines.append(
            f"| `{_cell(cov.relation.describe())}`{mark} | {kind} | {cov.child_rows} | "
            f"{cov.referencing} | {cov.covered} | {cov.percent} |"
        )
    lines += ["", f"{len(manifest.relations)} relations."]
    if footnote:
        lines += ["", "\\* condition not applied here: every row that sets the reference counts."]
    return "\n".join(lines) + "\n"


def counts_in(text: str) -> dict[TableName, TableCounts]:
    """The per-table counts a SEED.md records (the export knew them; the files do not)."""
    return {
        parse_name(name): TableCounts(int(rows), int(limit), int(closure), int(include))
        for name, rows, limit, closure, include in _COUNTS_ROW.findall(text)
    }


def check_seed_md(directory: Path, manifest: Manifest) -> list[str]:
    """What is wrong with the directory's SEED.md: missing, or not what its files render."""
    path = directory / SEED_MD
    if not path.is_file():
        return [f"{SEED_MD} is missing: re-export to write it"]
    text = path.read_text(encoding="utf-8")
    rows = decoded_rows(read_fixture_files(directory, manifest.tables))
    if render_seed_md(manifest, counts_in(text), rows) != text:
        return [f"{SEED_MD} does not match the fixture files: re-export to write it again"]
    return []


def _id(name: TableName) -> str:
    """A Mermaid entity name: letters, digits and _ only; other characters are written by
    their code (`a.b` in public is `a_x2e_b`, `b` in schema `a` is `a_b`), so no two tables
    share one."""
    parts = (name.name,) if name.schema == "public" else (name.schema, name.name)
    return "_".join(re.sub(r"\W", lambda m: f"_x{ord(m.group()):x}_", p) for p in parts)


def _label(name: TableName) -> str:
    """The name people use, quoted as the manifest quotes it where a dot would mislead."""
    return name_text(name) if "." in name.name or name.name.startswith('"') else name.display


def _entity(name: TableName) -> str:
    label = _label(name)
    return _id(name) if _id(name) == label else f'{_id(name)}["{label.replace(chr(34), "#quot;")}"]'


def _cell(text: str) -> str:
    return text.replace("|", "\\|")
