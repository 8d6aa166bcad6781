"""Generated damage to a fixture directory, reproducible from a seed: each mutation changes one
thing (a byte, a line, a field, a manifest entry, a path, a condition) the way a bad merge, a
cut download, a hand edit or a hostile commit would. Plus `TargetState`, which tells whether a
target database changed."""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg2

from genonaut.seed.core.fixture_format import MANIFEST
from genonaut.seed.engines.postgres.connection import to_libpq_dsn
from genonaut.seed.engines.postgres.loader import import_seed

# Values a hand edit or a hostile commit might put in a field.
BAD_FIELDS = (
    "",
    "\\N",
    "abc",
    "99999999999999999999",
    "-1",
    "1.5",
    "2024-13-45",
    "\\",
    "\\x",
    "\\.",
    "'; DROP TABLE authors; --",
    "x" * 5000,
    "\\377\\376",
    "a\tb",
    '{"n": }',
    "00000000-0000-0000-0000-00000000000Z",
)
HOSTILE_FILES = (
    "/etc/passwd",
    "../other/authors.tsv",
    "../../escape.tsv",
    "./authors.tsv",
    ".authors.tsv",
    "a/b.tsv",
    "authors.tsv\u0000",
    "",
    "books.tsv",
    "C:\\\\authors.tsv",
    "authors",
)
HOSTILE_CONDITIONS = (
    "true)); COMMIT; CREATE TABLE public.pwned AS SELECT 1; COMMIT; --",
    "true) LIMIT 0; COPY (SELECT 1) TO PROGRAM 'true'; --",
    "true; DROP TABLE authors",
    "target_kind = 'book' -- and more",
    "target_kind = 'book' /* */",
    "(target_kind = 'book'",
    "target_kind = 'book')",
    "target_kind = $$book",
    "target_kind = 'book' UNION SELECT 1",
    "target_kind = $1",
    "no_such_column = 1",
    "target_kind = 'film'",
    "1/0 = 1",
)


@dataclass(frozen=True)
class Mutation:
    """One change to a fixture directory: its class, what it did, the file it touched."""

    kind: str
    detail: str
    file: str
    apply: Callable[[Path], None]


def _tsvs(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.glob("*.tsv"))


def _rewrite(name: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def apply(directory: Path) -> None:
        path = directory / name
        path.write_bytes(change(path.read_bytes()))

    return apply


def _edit_manifest(change: Callable[[dict[str, Any]], None]) -> Callable[[Path], None]:
    def apply(directory: Path) -> None:
        path = directory / MANIFEST
        document = json.loads(path.read_text(encoding="utf-8"))
        change(document)
        path.write_text(json.dumps(document, indent=2), encoding="utf-8")

    return apply


def byte_flip(rng: random.Random, directory: Path) -> Mutation:
    name = rng.choice([*_tsvs(directory), MANIFEST])
    size = (directory / name).stat().st_size
    offset, mask = rng.randrange(size), rng.randrange(1, 256)

    def change(data: bytes) -> bytes:
        return data[:offset] + bytes([data[offset] ^ mask]) + data[offset + 1 :]

    return Mutation("byte flip", f"{name}@{offset}^{mask:#04x}", name, _rewrite(name, change))


def truncation(rng: random.Random, directory: Path) -> Mutation:
    name = rng.choice([*_tsvs(directory), MANIFEST])
    size = (directory / name).stat().st_size
    cut = rng.randrange(size)
    return Mutation("truncation", f"{name}[:{cut}]", name, _rewrite(name, lambda d: d[:cut]))


def _lines(directory: Path, name: str) -> list[bytes]:
    return (directory / name).read_bytes().split(b"\n")[:-1]


def dropped_line(rng: random.Random, directory: Path) -> Mutation:
    name = rng.choice(_tsvs(directory))
    lines = _lines(directory, name)
    index = rng.randrange(len(lines))
    kept = lines[:index] + lines[index + 1 :]
    data = b"".join(line + b"\n" for line in kept)
    return Mutation(
        "dropped line", f"{name} line {index + 1}", name, _rewrite(name, lambda _: data)
    )


def duplicated_line(rng: random.Random, directory: Path) -> Mutation:
    name = rng.choice(_tsvs(directory))
    lines = _lines(directory, name)
    index = rng.randrange(len(lines))
    where = rng.randrange(len(lines) + 1)
    changed = [*lines[:where], lines[index], *lines[where:]]
    data = b"".join(line + b"\n" for line in changed)
    return Mutation(
        "duplicated line",
        f"{name} line {index + 1} at {where + 1}",
        name,
        _rewrite(name, lambda _: data),
    )


def bad_field(rng: random.Random, directory: Path) -> Mutation:
    name = rng.choice([n for n in _tsvs(directory) if len(_lines(directory, n)) > 1])
    lines = _lines(directory, name)
    index = rng.randrange(1, len(lines))
    fields = lines[index].split(b"\t")
    column = rng.randrange(len(fields))
    value = rng.choice(BAD_FIELDS)
    fields[column] = value.encode("utf-8")
    lines[index] = b"\t".join(fields)
    data = b"".join(line + b"\n" for line in lines)
    return Mutation(
        "bad field",
        f"{name} line {index + 1} field {column + 1} = {value[:20]!r}",
        name,
        _rewrite(name, lambda _: data),
    )


def manifest_edit(rng: random.Random, directory: Path) -> Mutation:
    document = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    index = rng.randrange(len(document["tables"]))
    table = document["tables"][index]["name"]
    edits: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
        ("rows + 1", lambda d: d["tables"][index].update(rows=d["tables"][index]["rows"] + 1)),
        ("rows - 1", lambda d: d["tables"][index].update(rows=d["tables"][index]["rows"] - 1)),
        ("rows as text", lambda d: d["tables"][index].update(rows="many")),
        ("rows negative", lambda d: d["tables"][index].update(rows=-1)),
        ("table renamed", lambda d: d["tables"][index].update(name=table + "_x")),
        ("table dropped", lambda d: d["tables"].pop(index)),
        ("table listed twice", lambda d: d["tables"].append(d["tables"][index])),
        ("columns reversed", lambda d: d["tables"][index]["columns"].reverse()),
        ("column renamed", lambda d: d["tables"][index]["columns"].__setitem__(0, "nope")),
        ("columns as text", lambda d: d["tables"][index].update(columns="id")),
        ("format changed", lambda d: d.update(format="genonaut-seed/0")),
        ("tables missing", lambda d: d.pop("tables")),
        ("relations as text", lambda d: d.update(relations="none")),
        ("table name empty", lambda d: d["tables"][index].update(name="")),
        ("table name in another schema", lambda d: d["tables"][index].update(name="x." + table)),
        ("document is a list", lambda d: d.clear()),
        ("load order reversed", lambda d: d["tables"].reverse()),
        ("types dropped", lambda d: d["tables"][index].pop("types", None)),
    ]
    label, change = rng.choice(edits)
    apply = _edit_manifest(change)
    if label == "document is a list":
        apply = _rewrite(MANIFEST, lambda _: b"[" * 100_000 + b"]" * 100_000)
        label = "nested 100,000 levels deep"
    return Mutation("manifest edit", f"{table}: {label}", MANIFEST, apply)


def hostile_path(rng: random.Random, directory: Path) -> Mutation:
    document = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
    index = rng.randrange(len(document["tables"]))
    table = document["tables"][index]
    if rng.random() < 0.2:
        name = table["file"]

        def link(target: Path) -> None:
            outside = target.parent / f"outside-{name}"
            os.replace(target / name, outside)
            (target / name).symlink_to(outside)

        return Mutation("hostile path", f"{name} links outside", name, link)
    file = rng.choice(HOSTILE_FILES)
    return Mutation(
        "hostile path",
        f"{table['name']} file = {file!r}",
        MANIFEST,
        _edit_manifest(lambda d: d["tables"][index].update(file=file)),
    )


def hostile_condition(rng: random.Random, directory: Path) -> Mutation:
    condition = rng.choice(HOSTILE_CONDITIONS)

    def change(document: dict[str, Any]) -> None:
        for relation in document["relations"]:
            if relation.get("when"):
                relation["when"] = condition

    return Mutation("hostile condition", repr(condition), MANIFEST, _edit_manifest(change))


class TargetState:
    """Reads a target's state over one connection: every row of every table as text, every
    sequence's position, and the names of all relations of the public schema (a table a
    hostile condition might create)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.conn = psycopg2.connect(to_libpq_dsn(url))
        self.conn.autocommit = True
        with self.conn.cursor() as cur:
            cur.execute(
                "SELECT string_agg(format('SELECT %L, t::text FROM %I.%I t', c.relname, "
                "n.nspname, c.relname), ' UNION ALL ') FROM pg_class c "
                "JOIN pg_namespace n ON n.oid = c.relnamespace "
                "WHERE c.relkind = 'r' AND n.nspname = 'public'"
            )
            self.rows_query = _one(cur.fetchone())
            cur.execute(
                "SELECT string_agg(format('SELECT %L, last_value, is_called FROM %I.%I', "
                "sequencename, schemaname, sequencename), ' UNION ALL ') FROM pg_sequences"
            )
            self.sequences_query = _one(cur.fetchone())

    def restore(self, pristine: Path, state: tuple[list[Any], ...]) -> None:
        """Load `pristine` over the target and put every sequence back where `state` had it
        (an import never moves one backwards, and TRUNCATE resets only those a table owns)."""
        import_seed(pristine, self.url, truncate_first=True, cascade=True)
        self._set_sequences(state)

    def empty(self, tables: list[str], state: tuple[list[Any], ...]) -> None:
        """Delete every row of `tables` in one statement (its foreign keys are checked at its
        end, so a cycle empties too) and put every sequence back where `state` had it."""
        deletes = ", ".join(f'd{i} AS (DELETE FROM "{t}")' for i, t in enumerate(tables))
        with self.conn.cursor() as cur:
            cur.execute(f"WITH {deletes} SELECT 1")
        self._set_sequences(state)

    def _set_sequences(self, state: tuple[list[Any], ...]) -> None:
        with self.conn.cursor() as cur:
            for name, value, is_called in state[1]:
                cur.execute("SELECT setval(%s::regclass, %s, %s)", (name, value, is_called))

    def read(self) -> tuple[list[Any], ...]:
        with self.conn.cursor() as cur:
            found = []
            for query in (
                self.rows_query,
                self.sequences_query,
                "SELECT relname FROM pg_class WHERE relnamespace = 'public'::regnamespace",
            ):
                cur.execute(query)
                found.append(sorted(cur.fetchall()))
        return tuple(found)


def _one(row: tuple[Any, ...] | None) -> str:
    assert row is not None
    return str(row[0])


GENERATORS: tuple[Callable[[random.Random, Path], Mutation], ...] = (
    byte_flip,
    truncation,
    dropped_line,
    duplicated_line,
    bad_field,
    manifest_edit,
    hostile_path,
    hostile_condition,
)


def mutations(seed: int, count: int, directory: Path) -> list[Mutation]:
    """`count` mutations of `directory`, the same ones for the same seed, every class in turn."""
    rng = random.Random(seed)
    return [GENERATORS[i % len(GENERATORS)](rng, directory) for i in range(count)]
