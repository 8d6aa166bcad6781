"""The SQLite fixture encoding: every value of every storage class comes back exactly."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genonaut.seed.engines.sqlite.values import (
    Affinity,
    Value,
    affinity,
    decode_line,
    decode_value,
    encode_line,
    encode_value,
    same,
)

AFFINITIES: tuple[Affinity, ...] = ("INTEGER", "TEXT", "BLOB", "REAL", "NUMERIC")
DECLARED = {
    "INTEGER": "BIGINT",
    "TEXT": "VARCHAR(9)",
    "BLOB": "",
    "REAL": "DOUBLE",
    "NUMERIC": "DECIMAL(5,2)",
}

texts = st.text(st.characters(codec="utf-8"))
# Text that looks like something else: numbers, markers, the COPY null.
tricky = st.sampled_from(
    [
        "12",
        "-0",
        "007",
        "1.5",
        "inf",
        "nan",
        "1e+100",
        "\\N",
        "\\x00",
        "\\x",
        "\\text:a",
        "\\integer:1",
        "\\real:1.0",
        "\\",
        "",
        " 1",
        "1_000",
        "٣",
    ]
)
values = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False),
    texts,
    tricky,
    st.binary(),
)


@given(values, st.sampled_from(AFFINITIES))
def test_every_value_decodes_to_itself_class_and_bits(value: Value, column: Affinity) -> None:
    field = encode_value(value, column)
    assert "\t" not in field and "\n" not in field
    assert same(decode_value(field, column), value)


@given(st.lists(st.tuples(values, st.sampled_from(AFFINITIES)), min_size=1, max_size=6))
def test_a_line_decodes_to_its_row(row: list[tuple[Value, Affinity]]) -> None:
    kinds = [k for _, k in row]
    line = encode_line([v for v, _ in row], kinds)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    back = decode_line(line[:-1].decode("utf-8"), kinds)
    assert all(same(a, b) for a, b in zip(back, [v for v, _ in row], strict=True))


@given(values, st.sampled_from(AFFINITIES))
def test_a_value_stored_in_sqlite_loads_back_with_its_storage_class(
    value: Value, column: Affinity
) -> None:
    """Store a value, read it, encode, decode, store it into a second table of the same
    declared type: SQLite reads back the same value with the same typeof()."""
    conn = sqlite3.connect(":memory:")
    try:
        declared = DECLARED[column]
        conn.execute(f'CREATE TABLE a (v "{declared}")' if declared else "CREATE TABLE a (v)")
        conn.execute(f'CREATE TABLE b (v "{declared}")' if declared else "CREATE TABLE b (v)")
        conn.execute("INSERT INTO a VALUES (?)", (value,))
        stored, kind = conn.execute("SELECT v, typeof(v) FROM a").fetchone()
        field = encode_value(stored, affinity(declared))
        conn.execute("INSERT INTO b VALUES (?)", (decode_value(field, affinity(declared)),))
        again, kind_again = conn.execute("SELECT v, typeof(v) FROM b").fetchone()
    finally:
        conn.close()
    assert kind_again == kind
    assert same(again, stored)
    assert encode_value(again, affinity(declared)) == field


@pytest.mark.parametrize(
    ("value", "column", "field"),
    [
        (None, "TEXT", "\\N"),
        (42, "INTEGER", "42"),
        (-7, "BLOB", "-7"),
        (0.1, "REAL", "0.1"),
        (1e100, "NUMERIC", "1e+100"),
        (2.0, "REAL", "2.0"),
        ("n/a", "INTEGER", "n/a"),
        ("12", "TEXT", "12"),
        # Text that reads as a number where numbers are possible is marked as text.
        ("12", "BLOB", "\\\\text:12"),
        ("inf", "REAL", "\\\\text:inf"),
        # A number where the column reads text.
        (12, "TEXT", "\\\\integer:12"),
        (1.5, "TEXT", "\\\\real:1.5"),
        (b"\x00\xff", "TEXT", "\\\\x00ff"),
        (b"", "INTEGER", "\\\\x"),
        # Text starting with a backslash is always marked; the COPY null is text.
        ("\\x00", "TEXT", "\\\\text:\\\\x00"),
        ("\\N", "TEXT", "\\\\text:\\\\N"),
        ("a\tb", "TEXT", "a\\tb"),
    ],
)
def test_fields_as_documented(value: Value, column: Affinity, field: str) -> None:
    assert encode_value(value, column) == field
    assert same(decode_value(field, column), value)


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INTEGER", "INTEGER"),
        ("TINYINT", "INTEGER"),
        ("NVARCHAR(40)", "TEXT"),
        ("CLOB", "TEXT"),
        ("BLOB", "BLOB"),
        ("", "BLOB"),
        ("DOUBLE PRECISION", "REAL"),
        ("FLOAT", "REAL"),
        ("NUMERIC(10,2)", "NUMERIC"),
        ("DATETIME", "NUMERIC"),
        ("BOOLEAN", "NUMERIC"),
        ("POINT", "INTEGER"),  # "INT" anywhere wins, as in SQLite
    ],
)
def test_affinity_follows_sqlite_rules(declared: str, expected: Affinity) -> None:
    assert affinity(declared) == expected


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("\\\\xzz", "lowercase hex"),
        ("\\\\x0", "lowercase hex"),
        ("\\\\integer:1.5", "not how integers are written"),
        ("\\\\real:abc", "not how reals are written"),
        ("\\\\bogus", "no blob"),
    ],
)
def test_damaged_fields_are_refused(field: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        decode_value(field, "TEXT")


def test_a_line_with_the_wrong_number_of_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="2 fields where 3 columns"):
        decode_line("1\t2", ["INTEGER", "INTEGER", "INTEGER"])
