"""Hypothesis: any rows, of any storage classes, survive dump -> load -> dump byte for byte."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlite_helpers import build, query, url_of

from genonaut.seed.engines.sqlite.catalog import read_catalog
from genonaut.seed.engines.sqlite.clone import copy_schema
from genonaut.seed.engines.sqlite.connection import session
from genonaut.seed.engines.sqlite.dump import dump_directory
from genonaut.seed.engines.sqlite.load import import_directory
from genonaut.seed.engines.sqlite.verify import verify_directory

SCHEMA = """
CREATE TABLE keyed (id INTEGER PRIMARY KEY, i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC, x);
CREATE TABLE loose (i INTEGER, r REAL, t TEXT, b BLOB, n NUMERIC, x);
CREATE TABLE strict_any (k TEXT PRIMARY KEY, a ANY) STRICT, WITHOUT ROWID;
"""

value = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    st.text(st.characters(codec="utf-8"), max_size=12),
    st.sampled_from(["12", "1.5", "\\x00", "\\N", "inf", "", "-0"]),
    st.binary(max_size=8),
)
row = st.tuples(value, value, value, value, value, value)


def typed_rows(path: Path, table: str, order: str) -> list[tuple[object, ...]]:
    columns = [r[1] for r in query(path, f"PRAGMA table_info({table})")]
    typed = ", ".join(f"{c}, typeof({c})" for c in columns)
    return query(path, f"SELECT {typed} FROM {table} ORDER BY {order}")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(row, max_size=8),
    st.lists(row, max_size=8),
    st.dictionaries(st.text(max_size=4), value, max_size=6),
)
def test_rows_of_any_class_round_trip(
    keyed: list[tuple[object, ...]],
    loose: list[tuple[object, ...]],
    anys: dict[str, object],
) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        source = build(work / "source.sqlite", SCHEMA)
        conn = sqlite3.connect(source)
        conn.executemany("INSERT INTO keyed VALUES (NULL, ?, ?, ?, ?, ?, ?)", keyed)
        conn.executemany("INSERT INTO loose VALUES (?, ?, ?, ?, ?, ?)", loose)
        conn.executemany("INSERT INTO strict_any VALUES (?, ?)", list(anys.items()))
        conn.commit()
        conn.close()
        with session(url_of(source), read_only=True) as db:
            dump_directory(db, read_catalog(db), work / "fixtures")
        target = copy_schema(source, work / "target.sqlite")
        report = import_directory(work / "fixtures", url_of(target))
        assert report.inserted == len(keyed) + len(loose) + len(anys)
        assert verify_directory(work / "fixtures", url_of(target)).ok
        for table, order in (("keyed", "id"), ("loose", "rowid"), ("strict_any", "k")):
            assert typed_rows(target, table, order) == typed_rows(source, table, order)
        with session(url_of(target), read_only=True) as db:
            dump_directory(db, read_catalog(db), work / "again")
        for file in (work / "fixtures").iterdir():
            assert (work / "again" / file.name).read_bytes() == file.read_bytes()
        again = import_directory(work / "fixtures", url_of(target))
        assert again.inserted == 0
