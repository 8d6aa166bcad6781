"""The fixture directory on disk: one COPY-text TSV per table and a manifest.json.

Below its header line, a TSV is exactly what `COPY ... TO STDOUT` emits: tab-separated fields,
`\\N` for NULL, backslash escapes. This module knows nothing about databases.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genonaut.seed.core.schema_graph import ForeignKey, TableName
from genonaut.seed.errors import FixtureError

FORMAT = "genonaut-seed/1"
MANIFEST = "manifest.json"
NULL = "\\N"

_ESCAPES = {
    "\\": "\\\\",
    "\b": "\\b",
    "\f": "\\f",
    "\n": "\\n",
    "\r": "\\r",
    "\t": "\\t",
    "\v": "\\v",
}
_UNESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def file_name(table: TableName) -> str:
    """`users.tsv` in the public schema, `hr.employees.tsv` elsewhere."""
    return f"{table.display}.tsv"


def encode_field(value: str | None) -> str:
    """One field in COPY text form: `\\N` for NULL, backslash escapes for control characters."""
    if value is None:
        return NULL
    return "".join(_ESCAPES.get(ch, ch) for ch in value)


def decode_field(text: str) -> str | None:
    """The inverse of `encode_field`; also reads octal (`\\101`) and hex (`\\x41`) escapes."""
    if text == NULL:
        return None
    out: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        if i + 1 >= len(text):
            raise ValueError("a lone backslash ends the field")
        nxt = text[i + 1]
        if nxt in _UNESCAPES:
            out.append(_UNESCAPES[nxt])
            i += 2
        elif nxt in "01234567":
            digits = _take(text, i + 1, "01234567", 3)
            out.append(chr(int(digits, 8)))
            i += 1 + len(digits)
        elif nxt == "x" and i + 2 < len(text) and text[i + 2] in "0123456789abcdefABCDEF":
            digits = _take(text, i + 2, "0123456789abcdefABCDEF", 2)
            out.append(chr(int(digits, 16)))
            i += 2 + len(digits)
        else:
            # COPY takes any other backslashed character as itself.
            out.append(nxt)
            i += 2
    return "".join(out)


def _take(text: str, start: int, allowed: str, most: int) -> str:
    end = start
    while end < len(text) and end - start < most and text[end] in allowed:
        end += 1
    return text[start:end]


def encode_row(values: Sequence[str | None]) -> str:
    return "\t".join(encode_field(v) for v in values)


def decode_row(line: str) -> list[str | None]:
    return [decode_field(field) for field in line.split("\t")]


@dataclass(frozen=True)
class FixtureTable:
    """One table's entry in the manifest."""

    name: TableName
    file: str
    rows: int
    columns: tuple[str, ...]
    primary_key: tuple[str, ...] = ()
    partition_of: TableName | None = None
    # The source's type of each column, as format_type writes it; () in older manifests.
    types: tuple[str, ...] = ()


@dataclass(frozen=True)
class Manifest:
    """What a fixture directory holds: tables in load order, the relations used, the schema."""

    tables: tuple[FixtureTable, ...]
    relations: tuple[ForeignKey, ...]
    schema_fingerprint: str
    # Partitioned tables (they hold no rows and have no file), each with its own parent.
    partitioned: tuple[tuple[TableName, TableName | None], ...] = ()
    format: str = FORMAT

    def holders(self, name: TableName) -> tuple[TableName, ...]:
        """The tables whose files hold the rows of `name`: itself, or its leaf partitions."""
        parent_of = dict(self.partitioned)
        found = []
        for table in self.tables:
            owner: TableName | None = table.name
            while owner is not None and owner != name:
                owner = table.partition_of if owner == table.name else parent_of.get(owner)
            if owner == name:
                found.append(table.name)
        return tuple(found)

    def table(self, name: TableName) -> FixtureTable:
        for table in self.tables:
            if table.name == name:
                return table
        raise FixtureError(f"the manifest lists no table {name}")

    def to_json(self) -> str:
        document = {
            "format": self.format,
            "schema_fingerprint": self.schema_fingerprint,
            "tables": [
                {
                    "name": t.name.qualified,
                    "file": t.file,
                    "rows": t.rows,
                    "columns": list(t.columns),
                    "types": list(t.types),
                    "primary_key": list(t.primary_key),
                    "partition_of": t.partition_of.qualified if t.partition_of else None,
                }
                for t in self.tables
            ],
            "partitioned_tables": [
                {"name": name.qualified, "partition_of": parent.qualified if parent else None}
                for name, parent in self.partitioned
            ],
            "relations": [
                {
                    "name": fk.name,
                    "table": fk.table.qualified,
                    "columns": list(fk.columns),
                    "references": fk.referred_table.qualified,
                    "referred_columns": list(fk.referred_columns),
                    "virtual": fk.is_virtual,
                    "when": fk.condition,
                }
                for fk in self.relations
            ],
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str = MANIFEST) -> Manifest:
        try:
            document = json.loads(text)
            if document.get("format") != FORMAT:
                raise FixtureError(
                    f"{source}: format {document.get('format')!r} is not {FORMAT!r}",
                    hint="re-export the fixtures with this version of the exporter",
                )
            tables = tuple(
                FixtureTable(
                    name=TableName.parse(t["name"]),
                    file=str(t["file"]),
                    rows=int(t["rows"]),
                    columns=_names(t["columns"], "columns"),
                    types=_types(t),
                    primary_key=_names(t.get("primary_key") or [], "primary_key"),
                    partition_of=(
                        TableName.parse(t["partition_of"]) if t.get("partition_of") else None
                    ),
                )
                for t in document["tables"]
            )
            relations = tuple(
                ForeignKey(
                    name=str(r["name"]),
                    table=TableName.parse(r["table"]),
                    columns=_names(r["columns"], "columns"),
                    referred_table=TableName.parse(r["references"]),
                    referred_columns=_names(r["referred_columns"], "referred_columns"),
                    is_virtual=bool(r.get("virtual")),
                    condition=r.get("when"),
                )
                for r in document.get("relations", ())
            )
            partitioned = tuple(
                (
                    TableName.parse(p["name"]),
                    TableName.parse(p["partition_of"]) if p.get("partition_of") else None,
                )
                for p in document.get("partitioned_tables", ())
            )
            return cls(tables, relations, str(document["schema_fingerprint"]), partitioned)
        except FixtureError:
            raise
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise FixtureError(
                f"{source} is damaged: {exc}",
                hint="restore it from git (git checkout -- <dir>) or re-export the fixtures",
            ) from exc


def _names(value: object, field: str) -> tuple[str, ...]:
    """A list of column names from the manifest; anything else (a bare string would pass as a
    list of letters) is damage."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise TypeError(f"{field} must be a list of column names, not {value!r}")
    return tuple(value)


def _types(entry: dict[str, Any]) -> tuple[str, ...]:
    types = _names(entry.get("types") or [], "types")
    if types and len(types) != len(entry["columns"]):
        raise ValueError(f"{entry['name']}: {len(types)} types for {len(entry['columns'])} columns")
    return types


def read_manifest(directory: Path) -> Manifest:
    path = directory / MANIFEST
    if not path.is_file():
        raise FixtureError(
            f"no {MANIFEST} in {directory}",
            hint="export fixtures first (make export-demo-seed), or name the right directory "
            "(the importer's --input-dir, the exporter's --output-dir)",
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise FixtureError(
            f"{path} is not UTF-8: byte {exc.object[exc.start]:#04x} at offset {exc.start}",
            hint="restore it from git (git checkout -- <dir>) or re-export the fixtures",
        ) from exc
    return Manifest.from_json(text, str(path))


def read_header(path: Path) -> tuple[str, ...]:
    """The column names on a TSV's first line."""
    try:
        with path.open("rb") as handle:
            first = handle.readline()
    except OSError as exc:
        raise FixtureError(f"cannot read {path}: {exc.strerror}") from exc
    if not first.endswith(b"\n"):
        raise FixtureError(
            f"{path}: the header line is missing or cut short",
            hint="restore the file from git or re-export the fixtures",
        )
    try:
        names = decode_row(first[:-1].decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise FixtureError(f"{path}: line 1 (header) cannot be read: {exc}") from exc
    if any(name is None or name == "" for name in names):
        raise FixtureError(f"{path}: line 1 (header) has an empty column name")
    return tuple(n for n in names if n is not None)


def header_line(columns: Sequence[str]) -> bytes:
    return (encode_row(columns) + "\n").encode("utf-8")


def check_output_dir(target: Path) -> None:
    """Refuse to replace what is not a fixture directory: the swap deletes everything in it,
    and `--output-dir .` or a typo should not cost anyone their files."""
    if not target.exists():
        return
    if not target.is_dir():
        raise FixtureError(
            f"output directory {target} is a file",
            hint="name a directory for the fixtures (it is created when missing)",
        )
    if (target / MANIFEST).is_file():
        return
    others = sorted(
        p.name for p in target.iterdir() if not (p.is_file() and p.name.endswith(".tsv"))
    )
    if others:
        shown = ", ".join(others[:3]) + (", ..." if len(others) > 3 else "")
        raise FixtureError(
            f"output directory {target} holds {shown} and no {MANIFEST}, so it is not a "
            "fixture directory; the export replaces a directory as a whole and would delete them",
            hint="name a new or empty directory, or one written by the exporter",
        )


@contextmanager
def replace_directory(target: Path) -> Iterator[Path]:
    """Yield a scratch directory beside `target`; swap it in only if the block succeeds.

    A failure or an interruption leaves `target` as it was. Files of the old directory that the
    new one does not have disappear with the swap.
    """
    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        yield scratch
        os.chmod(scratch, 0o755)
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
            os.replace(target, retired / target.name)
            try:
                os.replace(scratch, target)
            except BaseException:
                os.replace(retired / target.name, target)
                raise
            shutil.rmtree(retired, ignore_errors=True)
        else:
            os.replace(scratch, target)
    finally:
        if scratch.exists():
            shutil.rmtree(scratch, ignore_errors=True)
