"""The fixture directory on disk: one COPY-text TSV per table and a manifest.json.

Below its header line, a TSV is exactly what `COPY ... TO STDOUT` emits: tab-separated fields,
`\\N` for NULL, backslash escapes. This module knows nothing about databases.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
import urllib.parse
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from genonaut.seed.core.schema_graph import DEFAULT_SCHEMA, ForeignKey, TableName
from genonaut.seed.core.sql_fragment import check_condition
from genonaut.seed.errors import FixtureError, SeedError

FORMAT = "genonaut-seed/1"
# The engine a manifest without an "engine" field was exported from.
DEFAULT_ENGINE = "postgresql"
MANIFEST = "manifest.json"
# Where a checkout keeps its fixtures: the export writes and the import reads them there.
DEFAULT_OUTPUT_DIR = Path("test/db/input/rdbms_init_from_demo")
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


# Characters a file name cannot keep: `.` (the one dot between schema and table must be the
# only one, so that no name is `..` or hidden), path separators, `%` (the escape itself),
# control characters and those Windows refuses. Each is written as `%XX` per UTF-8 byte.
_ESCAPED = frozenset('%./\\:*?"<>|')
SUFFIX = ".tsv"
# Most file systems take 255 bytes in a name.
_NAME_MAX = 255


def _is_escaped(ch: str) -> bool:
    return ch in _ESCAPED or ord(ch) < 0x20 or ord(ch) == 0x7F


def _encode_part(text: str) -> str:
    return "".join(
        "".join(f"%{b:02X}" for b in ch.encode("utf-8")) if _is_escaped(ch) else ch for ch in text
    )


def file_name(table: TableName) -> str:
    """`users.tsv` in the public schema, `hr.employees.tsv` elsewhere; a dot, a path separator,
    `%` or a control character in a name is written `%XX` (`public."a.b"` is `a%2Eb.tsv`, `a.b`
    is `a.b.tsv`), so that two tables never share a file and `table_of_file` reads it back.

    >>> file_name(TableName("public", "../x"))
    '%2E%2E%2Fx.tsv'
    """
    if table.schema == DEFAULT_SCHEMA:
        return _encode_part(table.name) + SUFFIX
    return f"{_encode_part(table.schema)}.{_encode_part(table.name)}{SUFFIX}"


def table_of_file(name: str) -> TableName | None:
    """The table whose file is `name` (the inverse of `file_name`), or None when no table's
    file is called that."""
    if not name.endswith(SUFFIX):
        return None
    parts = name[: -len(SUFFIX)].split(".")
    if len(parts) > 2 or not all(parts):
        return None
    try:
        decoded = [urllib.parse.unquote(p, errors="strict") for p in parts]
    except UnicodeDecodeError:
        return None
    table = TableName(*decoded) if len(decoded) == 2 else TableName(DEFAULT_SCHEMA, decoded[0])
    return table if file_name(table) == name else None


def check_file_names(tables: Iterable[TableName]) -> dict[TableName, str]:
    """Each table's file name; raise FixtureError when one is too long, or when two differ
    only in letter case (one file on a case-insensitive file system)."""
    # Here and below, modules only the export needs are imported where it uses them: an
    # import starts faster without them.
    import unicodedata

    names: dict[TableName, str] = {}
    seen: dict[str, TableName] = {}
    for table in tables:
        name = file_name(table)
        if len(name.encode("utf-8")) > _NAME_MAX:
            raise FixtureError(
                f"table {table.qualified}: its file name would be {len(name)} bytes, more than "
                f"{_NAME_MAX}",
                hint="leave the table out with --exclude, or rename it",
            )
        # One file on a file system that ignores case or Unicode normalisation (macOS).
        other = seen.setdefault(unicodedata.normalize("NFC", name).casefold(), table)
        if other != table:
            raise FixtureError(
                f"tables {other.qualified} and {table.qualified} would share the file {name} on "
                "a file system that ignores letter case or Unicode normalisation",
                hint="leave one of them out with --exclude",
            )
        names[table] = name
    return names


def encode_field(value: str | None) -> str:
    """One field in COPY text form: `\\N` for NULL, backslash escapes for control characters."""
    if value is None:
        return NULL
    return "".join(_ESCAPES.get(ch, ch) for ch in value)


def decode_field(text: str) -> str | None:
    """The inverse of `encode_field`; also reads octal (`\\101`) and hex (`\\x41`) escapes."""
    if text == NULL:
        return None
    if "\\" not in text:  # most fields: nothing to unescape, no character-by-character loop
        return text
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
    # The engine the fixtures were exported from: their values are in its text forms
    # (docs/fixture-format.md). Written only when it is not PostgreSQL, the default.
    engine: str = DEFAULT_ENGINE

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
        document: dict[str, object] = {"format": self.format}
        if self.engine != DEFAULT_ENGINE:
            document["engine"] = self.engine
        document |= {
            "schema_fingerprint": self.schema_fingerprint,
            "tables": [
                {
                    "name": name_text(t.name),
                    "file": t.file,
                    "rows": t.rows,
                    "columns": list(t.columns),
                    "types": list(t.types),
                    "primary_key": list(t.primary_key),
                    "partition_of": name_text(t.partition_of) if t.partition_of else None,
                }
                for t in self.tables
            ],
            "partitioned_tables": [
                {"name": name_text(name), "partition_of": name_text(parent) if parent else None}
                for name, parent in self.partitioned
            ],
            "relations": [
                {
                    "name": fk.name,
                    "table": name_text(fk.table),
                    "columns": list(fk.columns),
                    "references": name_text(fk.referred_table),
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
            if not isinstance(document, dict):
                raise TypeError(f"it holds a {type(document).__name__}, not an object")
            if document.get("format") != FORMAT:
                raise FixtureError(
                    f"{source}: format {document.get('format')!r} is not {FORMAT!r}",
                    hint="re-export the fixtures with this version of the exporter",
                )
            tables = tuple(_table_entry(t, source) for t in document["tables"])
            relations = tuple(
                ForeignKey(
                    name=str(r["name"]),
                    table=parse_name(r["table"]),
                    columns=_names(r["columns"], "columns"),
                    referred_table=parse_name(r["references"]),
                    referred_columns=_names(r["referred_columns"], "referred_columns"),
                    is_virtual=bool(r.get("virtual")),
                    condition=_condition(r.get("when"), f"{source}: relation {r['name']!r}"),
                )
                for r in document.get("relations", ())
            )
            partitioned = tuple(
                (
                    parse_name(p["name"]),
                    parse_name(p["partition_of"]) if p.get("partition_of") else None,
                )
                for p in document.get("partitioned_tables", ())
            )
            _check_unique(tables, source)
            engine = document.get("engine", DEFAULT_ENGINE)
            if not isinstance(engine, str) or not engine:
                raise TypeError(f"engine {engine!r} is not a name")
            return cls(
                tables,
                relations,
                str(document["schema_fingerprint"]),
                partitioned,
                engine=engine,
            )
        except FixtureError:
            raise
        except SeedError as exc:  # an empty table name, say
            raise FixtureError(f"{source} is damaged: {exc.message}", hint=MANIFEST_HINT) from exc
        except RecursionError as exc:
            raise FixtureError(
                f"{source} is damaged: it nests too deep to read",
                hint="restore it from git (git checkout -- <dir>) or re-export the fixtures",
            ) from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise FixtureError(
                f"{source} is damaged: {exc}",
                hint="restore it from git (git checkout -- <dir>) or re-export the fixtures",
            ) from exc


MANIFEST_HINT = "restore it from git (git checkout -- <dir>) or re-export the fixtures"


def name_text(table: TableName) -> str:
    """A table's name as the manifest writes it: `schema.table`, or `"schema"."ta.ble"` with
    double quotes when the plain form would read back otherwise (`a.b.c` reads as `a.b`.`c`)."""
    plain = table.qualified
    if plain == plain.strip() and not plain.startswith('"') and "." not in table.name:
        return plain
    return ".".join('"' + part.replace('"', '""') + '"' for part in (table.schema, table.name))


def parse_name(text: object) -> TableName:
    """The inverse of `name_text`."""
    if not isinstance(text, str):
        raise TypeError(f"a table name must be text, not {text!r}")
    if not text.startswith('"'):
        return TableName.parse(text)
    match = _QUOTED_NAME.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a table name")
    schema, name = (part.replace('""', '"') for part in match.groups())
    return TableName(schema, name)


_QUOTED_NAME = re.compile(r'"((?:[^"]|"")+)"\."((?:[^"]|"")+)"')


def _table_entry(t: dict[str, Any], source: str) -> FixtureTable:
    name = parse_name(t["name"])
    file = t["file"]
    expected = file_name(name)
    if file != expected:
        raise FixtureError(
            f"{source}: table {name.qualified} names the file {file!r}; its file is {expected!r} "
            "(a plain name inside the fixture directory)",
            hint=MANIFEST_HINT,
        )
    rows = t["rows"]
    if isinstance(rows, bool) or not isinstance(rows, int) or rows < 0:
        raise ValueError(f"{name.qualified}: rows must be a whole number, not {rows!r}")
    return FixtureTable(
        name=name,
        file=file,
        rows=rows,
        columns=_names(t["columns"], "columns"),
        types=_types(t),
        primary_key=_names(t.get("primary_key") or [], "primary_key"),
        partition_of=parse_name(t["partition_of"]) if t.get("partition_of") else None,
    )


def _condition(value: object, source: str) -> str | None:
    """A relation's condition from the manifest, a data file anyone may edit: one expression
    (see `sql_fragment`), or damage."""
    if value is None or value == "":
        return None
    return check_condition(
        value, f"{source}: when", error=FixtureError, hint=MANIFEST_HINT, plain=True
    )


def _check_unique(tables: Sequence[FixtureTable], source: str) -> None:
    seen: set[TableName] = set()
    for table in tables:
        if table.name in seen:
            raise FixtureError(
                f"{source}: table {table.name.qualified} is listed twice", hint=MANIFEST_HINT
            )
        seen.add(table.name)


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

    The swap is one atomic step where the system has one (Linux: `renameat2` with
    `RENAME_EXCHANGE`), so a kill at any moment leaves either the old directory or the new one
    at `target`, never neither. Scratch directories left by killed runs (`.NAME.new-*`,
    `.NAME.old-*`) are removed first. Files of the old directory that the new one does not
    have disappear with the swap.
    """
    import shutil
    import tempfile

    target = target.resolve()
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_scratch(target)
    scratch = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    try:
        yield scratch
        os.chmod(scratch, 0o755)
        if target.exists() and exchange_paths(scratch, target):
            # `scratch` now holds the old directory.
            shutil.rmtree(scratch, ignore_errors=True)
        elif target.exists():
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


def remove_stale_scratch(target: Path) -> list[Path]:
    """Remove the scratch directories of earlier runs that were killed. An `.old-` one still
    holding the fixtures while `target` is missing (a kill inside a two-rename swap) is put
    back instead."""
    import glob
    import shutil

    removed = []
    for kind in ("old", "new"):
        for path in sorted(target.parent.glob(f".{glob.escape(target.name)}.{kind}-*")):
            if not path.is_dir() or path.is_symlink():
                continue
            kept = path / target.name
            if kind == "old" and not target.exists() and kept.is_dir():
                os.replace(kept, target)
            shutil.rmtree(path, ignore_errors=True)
            removed.append(path)
    return removed


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


def exchange_paths(first: Path, second: Path) -> bool:
    """Swap two directory entries in one step (Linux renameat2 RENAME_EXCHANGE); False when
    the system or file system cannot, and nothing was changed."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_int,
        ctypes.c_char_p,
        ctypes.c_uint,
    ]
    renameat2.restype = ctypes.c_int
    result = renameat2(
        _AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(second))
