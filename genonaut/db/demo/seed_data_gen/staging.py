"""Fixture files on their way in: read and checked on disk, then copied into temporary
staging tables typed like the target, so that a bad value is reported with its file, line,
column and value before any real table is touched."""

from __future__ import annotations

import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg2
from psycopg2 import sql

from .errors import FixtureError, UnknownTable
from .fixture_format import FixtureTable, Manifest, read_header
from .postgres import Session, ident
from .schema_graph import TableName

DAMAGED_HINT = "restore the fixture directory from git, or re-export the fixtures"


# -- Reading the files ---------------------------------------------------------------------


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


def read_fixture_files(directory: Path, tables: Iterable[FixtureTable]) -> list[FixtureFile]:
    """Read each table's file; a missing, cut-short or miscounted file is a FixtureError."""
    files = []
    for entry in tables:
        path = directory / entry.file
        if not path.is_file():
            raise FixtureError(
                f"{path}: the file of table {entry.name} is missing", hint=DAMAGED_HINT
            )
        header = read_header(path)
        if header != entry.columns:
            raise FixtureError(
                f"{path}: line 1 names columns ({', '.join(header)}) but manifest.json says "
                f"({', '.join(entry.columns)})",
                hint=DAMAGED_HINT,
            )
        data = path.read_bytes()
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


@dataclass(frozen=True)
class Stage:
    """A temporary table holding one file's rows, typed like the target's columns."""

    file: FixtureFile
    ident: sql.Identifier


_COPY_CONTEXT = re.compile(
    r"COPY (?P<table>[^,]+), line (?P<line>\d+)"
    r'(?:, column (?P<column>[^:]+))?(?:: "(?P<value>.*)")?',
    re.DOTALL,
)


def stage_files(
    db: Session, files: Sequence[FixtureFile], *, drop_on_commit: bool = True
) -> dict[TableName, Stage]:
    """Create a temporary table per file and COPY the file into it.

    A value PostgreSQL rejects raises FixtureError naming the file, line, column and value.
    """
    stages = stages_for(files)
    if not stages:
        return stages
    create_stages(db, stages.values(), drop_on_commit=drop_on_commit)
    copy_stages(db, stages.values())
    return stages


def stages_for(files: Sequence[FixtureFile]) -> dict[TableName, Stage]:
    return {f.name: Stage(f, sql.Identifier(f"_seed_stage_{i}")) for i, f in enumerate(files)}


def create_stages(db: Session, stages: Iterable[Stage], *, drop_on_commit: bool) -> None:
    """One statement creates every staging table, with the target's types for the file's columns."""
    lifetime = sql.SQL(" ON COMMIT DROP" if drop_on_commit else "")
    db.execute(
        sql.SQL("; ").join(
            sql.SQL("CREATE TEMP TABLE {}{} AS SELECT {} FROM {} WITH NO DATA").format(
                s.ident, lifetime, column_list(s.file.entry.columns), ident(s.file.name)
            )
            for s in stages
        )
    )


def copy_stages(db: Session, stages: Iterable[Stage]) -> None:
    """COPY each file into its staging table, then check every table holds the file's rows."""
    stages = list(stages)
    for stage in stages:
        try:
            db.copy_in(stage.ident, stage.file.entry.columns, io.BytesIO(stage.file.body))
        except psycopg2.DataError as exc:
            raise _copy_error(stage.file, exc) from exc
    counts = db.fetch(
        sql.SQL("SELECT {}").format(
            sql.SQL(", ").join(sql.SQL("(SELECT count(*) FROM {})").format(s.ident) for s in stages)
        )
    )[0]
    for stage, count in zip(stages, counts, strict=True):
        if count != stage.file.entry.rows:
            raise FixtureError(
                f"{stage.file.path}: PostgreSQL read {count} rows, manifest.json says "
                f"{stage.file.entry.rows} (an end-of-data marker \\. in the file?)",
                hint=DAMAGED_HINT,
            )


def _copy_error(file: FixtureFile, exc: psycopg2.Error) -> FixtureError:
    message = (exc.diag.message_primary or str(exc)).strip()
    context = exc.diag.context or ""
    match = _COPY_CONTEXT.search(context.splitlines()[0] if context else "")
    if match is None:
        return FixtureError(f"{file.path}: {message}", hint=DAMAGED_HINT)
    line = int(match["line"]) + 1  # the header is line 1
    column, value = match["column"], match["value"]
    if not column:
        # PostgreSQL names no column for an encoding error: find the field that is not UTF-8.
        column, value = _undecodable_field(file, line) or (None, value)
    where = f"line {line}, column {column}" if column else f"line {line}"
    shown = f" (value {value!r})" if column and value is not None else ""
    if not column and value is not None:
        shown = f" (row {value!r})"
    return FixtureError(f"{file.path}: {where}: {message}{shown}", hint=DAMAGED_HINT)


def _undecodable_field(file: FixtureFile, line: int) -> tuple[str, str] | None:
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


def column_list(names: Iterable[str], prefix: str | None = None) -> sql.Composable:
    """`a, b` or, with a prefix, `p.a, p.b`: quoted column names for a statement."""
    if prefix is None:
        return sql.SQL(", ").join(sql.Identifier(n) for n in names)
    return sql.SQL(", ").join(sql.Identifier(prefix, n) for n in names)
