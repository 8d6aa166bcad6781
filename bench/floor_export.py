"""The export floor: the least any exporter must do to write the same files as the real one.

    python bench/floor_export.py URL KEYS_JSON OUTPUT_DIR

Start Python, connect, fix the session's output settings and read the catalog (one round
trip), then one `COPY (SELECT … WHERE key IN (…) ORDER BY key) TO STDOUT` per table, straight
into a file. Which rows: exactly those the real export chose, read from its output files by
`chosen_keys` before the clock starts (KEYS_JSON). It chooses nothing itself, so the real
export's time over this one is what choosing rows, and everything else, costs.
Imports nothing but psycopg2 and the standard library.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import psycopg2
from psycopg2 import sql

# The output settings the exporter fixes, so that both write the same bytes; and one catalog
# query: every table's stored columns with their type, and whether they sort as they are.
SETUP = """
SET TimeZone = 'UTC'; SET DateStyle = 'ISO, YMD'; SET IntervalStyle = 'postgres';
SET extra_float_digits = 1; SET bytea_output = 'hex'; SET lc_monetary = 'C';
SET client_encoding = 'UTF8'; SET jit = off;
SELECT json_object_agg(n.nspname || '.' || c.relname, (
    SELECT json_agg(json_build_array(a.attname, format_type(a.atttypid, a.atttypmod),
                                     a.attcollation <> 0, ty.typcategory <> 'A' AND EXISTS (
        SELECT 1 FROM pg_opclass oc JOIN pg_am am ON am.oid = oc.opcmethod
        WHERE am.amname = 'btree' AND oc.opcdefault AND oc.opcintype = ty.oid))
        ORDER BY a.attnum)
    FROM pg_attribute a JOIN pg_type ty ON ty.oid = a.atttypid
    WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname = ANY(%s)
"""
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v"}


def main(argv: list[str]) -> int:
    url, keys_json, output = argv
    wanted: list[dict[str, Any]] = json.loads(Path(keys_json).read_text())
    directory = Path(output)
    directory.mkdir(parents=True, exist_ok=True)
    conn = psycopg2.connect(url)
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    with conn.cursor() as cur:
        cur.execute(SETUP, (sorted({w["table"].partition(".")[0] for w in wanted}),))
        catalog: dict[str, list[list[Any]]] = cur.fetchone()[0]  # type: ignore[index]
        for entry in wanted:
            columns = catalog[entry["table"]]
            with (directory / entry["file"]).open("wb") as sink:
                sink.write(("\t".join(c[0] for c in columns) + "\n").encode())
                query, params = _select(entry, columns)
                text = cur.mogrify(query.as_string(cur), params).decode()
                cur.copy_expert(f"COPY ({text}) TO STDOUT", sink)
    conn.rollback()
    conn.close()
    print(f"{1 + len(wanted)} statements")
    return 0


def _select(entry: dict[str, Any], columns: list[list[Any]]) -> tuple[sql.Composable, list[Any]]:
    """SELECT the table's columns WHERE its key is one of those chosen, in the exporter's
    order: by primary key (all columns without one), text in the "C" collation."""
    types = {c[0]: c[1] for c in columns}
    key: list[str] = entry["key"]
    where: sql.Composable
    if key == ["ctid"]:  # no primary key: the rows' places, found when the keys were read
        where = sql.SQL("ctid = ANY(%s::tid[])")
    elif len(key) == 1:
        where = sql.SQL("{} = ANY(%s::{}[])").format(sql.Identifier(key[0]), sql.SQL(types[key[0]]))
    else:
        where = sql.SQL("({}) IN (SELECT * FROM unnest({}))").format(
            sql.SQL(", ").join(sql.Identifier(k) for k in key),
            sql.SQL(", ").join(sql.SQL("%s::{}[]").format(sql.SQL(types[k])) for k in key),
        )
    order = []
    for name, _, collatable, sortable in columns if key == ["ctid"] else _key_columns(columns, key):
        if not sortable:
            order.append(sql.SQL('{}::text COLLATE "C"').format(sql.Identifier(name)))
        else:
            order.append(
                sql.SQL('{} COLLATE "C"' if collatable else "{}").format(sql.Identifier(name))
            )
    schema, _, table = entry["table"].partition(".")
    query = sql.SQL("SELECT {} FROM {} WHERE {} ORDER BY {}").format(
        sql.SQL(", ").join(sql.Identifier(c[0]) for c in columns),
        sql.Identifier(schema, table),
        where,
        sql.SQL(", ").join(order),
    )
    values: list[list[str]] = entry["values"]
    return query, [[v[0] for v in values]] if len(key) == 1 else [
        list(c) for c in zip(*values, strict=True)
    ]


def _key_columns(columns: list[list[Any]], key: list[str]) -> list[list[Any]]:
    by_name = {c[0]: c for c in columns}
    return [by_name[k] for k in key]


def chosen_keys(export_dir: Path, url: str) -> list[dict[str, Any]]:
    """Per table of an export: its file, its key columns and the key of every row in the file,
    as text (COPY's escapes undone). A table without a primary key is keyed by `ctid`, found by
    matching every column against the source (slow on a big table; done before timing)."""
    manifest = json.loads((export_dir / "manifest.json").read_text())
    wanted = []
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(SETUP, (sorted({t["name"].partition(".")[0] for t in manifest["tables"]}),))
            for table in manifest["tables"]:
                lines = (export_dir / table["file"]).read_text().splitlines()[1:]
                rows = [[_field(f) for f in line.split("\t")] for line in lines]
                key = table["primary_key"]
                if key:
                    where = [table["columns"].index(k) for k in key]
                    values = [[row[i] for i in where] for row in rows]
                else:
                    key, values = ["ctid"], [[c] for c in _ctids(cur, table, rows)]
                wanted.append(
                    {"table": table["name"], "file": table["file"], "key": key, "values": values}
                )
    finally:
        conn.close()
    return wanted


def _ctids(cur: Any, table: dict[str, Any], rows: list[list[str | None]]) -> list[str]:
    """The places of these rows in a table without a key: one per row, duplicates told apart."""
    if not rows:
        return []
    names = [sql.Identifier(c) for c in table["columns"]]
    # NULL as \N on both sides, so that the comparison is an equality a hash join can use.
    pairs = sql.SQL(" AND ").join(
        sql.SQL("coalesce(t.{}::text, '\\N') = coalesce(u.{}, '\\N')").format(n, n) for n in names
    )
    schema, _, name = table["name"].partition(".")
    query = sql.SQL(
        "SELECT u.ord, t.ctid::text FROM {} t JOIN unnest({}) WITH ORDINALITY u({}, ord) ON {}"
    ).format(
        sql.Identifier(schema, name),
        sql.SQL(", ").join(sql.SQL("%s::text[]") for _ in names),
        sql.SQL(", ").join(names),
        pairs,
    )
    cur.execute(query, [list(c) for c in zip(*rows, strict=True)])
    found: dict[int, list[str]] = {}
    for ordinal, ctid in cur.fetchall():
        found.setdefault(ordinal, []).append(ctid)
    taken: set[str] = set()
    ctids = []
    for ordinal in range(1, len(rows) + 1):
        ctid = next(c for c in sorted(found[ordinal]) if c not in taken)
        taken.add(ctid)
        ctids.append(ctid)
    return ctids


def _field(text: str) -> str | None:
    """One field of COPY's text format, as the value's text."""
    if text == "\\N":
        return None
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), text)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
