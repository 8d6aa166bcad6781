"""A fixture directory read from disk and checked before any database sees it: the manifest
against the files beside it, each file's header, row count and line ends."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from genonaut.seed.errors import FixtureError, UnknownTable

from .fixture_format import MANIFEST, FixtureTable, Manifest, read_header, read_manifest
from .schema_graph import TableName

DAMAGED_HINT = "restore the fixture directory from git, or re-export the fixtures"
CRLF_HINT = (
    "COPY text writes a carriage return inside a value as \\r, so a raw one means the file "
    "was converted (git core.autocrlf?): restore it with Unix line ends (add '*.tsv -text' "
    "to .gitattributes), or re-export the fixtures"
)


@dataclass(frozen=True)
class FixtureFile:
    """One table's file, read and checked: its rows below the header, in COPY text form."""

    entry: FixtureTable
    path: Path
    body: bytes

    @property
    def name(self) -> TableName:
        return self.entry.name


def choose_tables(manifest: Manifest, only: Sequence[str] = ()) -> tuple[FixtureTable, ...]:
    """The manifest's tables to load: all of them, or those named in `only`.

    A name may be bare (`users`, or unique across schemas), qualified (`hr.employees`), or a
    partitioned table, which stands for its leaf partitions.

    >>> [t.name.display for t in choose_tables(manifest, ["users"])]  # doctest: +SKIP
    ['users']
    """
    if not only:
        return manifest.tables
    wanted: set[TableName] = set()
    known = [t.name for t in manifest.tables] + [name for name, _ in manifest.partitioned]
    for text in only:
        name = TableName.parse(text)
        if name not in known and "." not in text:
            matches = [k for k in known if k.name == text]
            if len(matches) > 1:
                raise UnknownTable(
                    f"table name {text!r} is ambiguous in the fixtures",
                    hint=f"qualify it: {', '.join(m.qualified for m in sorted(matches))}",
                )
            name = matches[0] if matches else name
        holders = manifest.holders(name)
        if not holders:
            raise UnknownTable(
                f"the fixtures hold no table {text!r}",
                hint="name tables listed in manifest.json (schema.table outside 'public')",
            )
        wanted.update(holders)
    return tuple(t for t in manifest.tables if t.name in wanted)


def read_fixture_manifest(directory: Path) -> Manifest:
    """The manifest of `directory`, checked against the files beside it: a TSV the manifest
    does not list is a FixtureError (a stale manifest, or a file added by hand)."""
    manifest = read_manifest(directory)
    listed = {t.file for t in manifest.tables}
    stray = sorted(p.name for p in directory.glob("*.tsv") if p.name not in listed)
    if stray:
        raise FixtureError(
            f"{directory}: {', '.join(stray)} not listed in {MANIFEST}",
            hint="delete the file if it does not belong there, or re-export the fixtures",
        )
    return manifest


def read_fixture_files(directory: Path, tables: Iterable[FixtureTable]) -> list[FixtureFile]:
    """Read each table's file; a missing, cut-short or miscounted file is a FixtureError."""
    files = []
    for entry in tables:
        path = directory / entry.file
        if path.is_symlink() and directory.resolve() not in path.resolve().parents:
            raise FixtureError(
                f"{path}: the file of table {entry.name} links outside the fixture directory",
                hint=DAMAGED_HINT,
            )
        if not path.is_file():
            raise FixtureError(
                f"{path}: the file of table {entry.name} is missing", hint=DAMAGED_HINT
            )
        data = path.read_bytes()
        if b"\r" in data:
            line = data.count(b"\n", 0, data.index(b"\r")) + 1
            raise FixtureError(
                f"{path}: line {line} holds a raw carriage return (Windows line ends, CRLF?)",
                hint=CRLF_HINT,
            )
        try:
            header = read_header(path)
        except FixtureError as exc:
            raise FixtureError(exc.message, hint=exc.hint or DAMAGED_HINT) from exc
        if header != entry.columns:
            raise FixtureError(
                f"{path}: line 1 names columns ({', '.join(header)}) but manifest.json says "
                f"({', '.join(entry.columns)})",
                hint=DAMAGED_HINT,
            )
        body = data[data.index(b"\n") + 1 :]
        if body and not body.endswith(b"\n"):
            line = body.count(b"\n") + 2
            raise FixtureError(
                f"{path}: the file is cut short: line {line} has no line end",
                hint=DAMAGED_HINT,
            )
        rows = body.count(b"\n")
        if rows != entry.rows:
            raise FixtureError(
                f"{path}: {rows} rows, but manifest.json says {entry.rows}",
                hint=DAMAGED_HINT,
            )
        files.append(FixtureFile(entry, path, body))
    return files


def undecodable_field(file: FixtureFile, line: int) -> tuple[str, str] | None:
    """(column, raw text) of the first field on `line` of `file` whose bytes, escapes
    decoded, are not UTF-8 (or hold a NUL, which no text value may)."""
    lines = file.body.split(b"\n")
    if not 2 <= line <= len(lines) + 1:
        return None
    fields = lines[line - 2].split(b"\t")
    for name, raw in zip(file.entry.columns, fields, strict=False):
        data = _unescape(raw)
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            return name, raw.decode("utf-8", errors="backslashreplace")
        if b"\0" in data and raw != b"\\N":
            return name, raw.decode("utf-8", errors="backslashreplace")
    return None


_SIMPLE_ESCAPES = {ord(k): v for k, v in zip("bfnrtv", b"\b\f\n\r\t\v", strict=True)}
_OCTAL, _HEX = b"01234567", b"0123456789abcdefABCDEF"


def _unescape(raw: bytes) -> bytes:
    """The bytes COPY's text format makes of one field: octal and hex escapes give raw bytes."""
    out = bytearray()
    i = 0
    while i < len(raw):
        if raw[i] != ord("\\") or i + 1 == len(raw):
            out.append(raw[i])
            i += 1
            continue
        nxt = raw[i + 1]
        if nxt in _OCTAL:
            end = i + 1
            while end < len(raw) and end < i + 4 and raw[end] in _OCTAL:
                end += 1
            out.append(int(raw[i + 1 : end], 8) & 0xFF)
            i = end
        elif nxt == ord("x") and i + 2 < len(raw) and raw[i + 2] in _HEX:
            end = i + 2
            while end < len(raw) and end < i + 4 and raw[end] in _HEX:
                end += 1
            out.append(int(raw[i + 2 : end], 16))
            i = end
        else:
            out.append(_SIMPLE_ESCAPES.get(nxt, nxt))
            i += 2
    return bytes(out)
