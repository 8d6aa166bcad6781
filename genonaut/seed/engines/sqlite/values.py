"""SQLite values as fixture text: one field per value, loaded back with its storage class.

SQLite is dynamically typed: a column's declared type only gives it an *affinity*, and a
value keeps one of five storage classes (NULL, INTEGER, REAL, TEXT, BLOB) of its own. An
INTEGER column may hold the text 'n/a', a TEXT column a blob. A field therefore says which
class its value has, plainly where the column's affinity already tells, marked where not.

The text of a value, before COPY escaping (`encode_field` turns `\\` into `\\\\` in the file):

    NULL     \\N (the COPY null)
    INTEGER  decimal digits: 42, -7
    REAL     Python's shortest repr that reads back the same double: 0.1, 1e+100, inf, -0.0
    TEXT     the text as is
    BLOB     \\x + lowercase hex, as PostgreSQL writes bytea: \\x00ff

Read back, a plain field is INTEGER when it is exactly how an integer is written (`str(int)`),
REAL when it is exactly how a double is written (`repr(float)`), and TEXT otherwise, in
columns of INTEGER, REAL, NUMERIC and BLOB (no type) affinity; in TEXT-affinity columns a plain
field is always TEXT. A value that its plain form would not give back is *marked* with its
class: `\\integer:`, `\\real:` or `\\text:` before the plain form. So the text '12' in an
untyped column is `\\text:12`, the integer 12 in a TEXT column (only a STRICT ANY column or
a hand-written file holds one) is `\\integer:12`, and any text starting with a backslash is
marked (`\\text:\\x00` is text, `\\x00` a blob). Each value has exactly one form, so a dump
is byte-stable, and `decode(encode(v)) == v` by construction: the encoder writes the plain
form only after checking that decoding it gives `v` back, class and bits.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Literal

from genonaut.seed.core.fixture_format import decode_field, encode_field

Value = int | float | str | bytes | None
Affinity = Literal["INTEGER", "TEXT", "BLOB", "REAL", "NUMERIC"]

BLOB_PREFIX = "\\x"
MARKS = {int: "\\integer:", float: "\\real:", str: "\\text:"}
_INT64 = (-(2**63), 2**63 - 1)


def affinity(declared_type: str) -> Affinity:
    """A column's affinity from its declared type, by SQLite's rules (datatype3.html 3.1).

    >>> affinity("VARCHAR(20)"), affinity("BIGINT"), affinity(""), affinity("DECIMAL(5,2)")
    ('TEXT', 'INTEGER', 'BLOB', 'NUMERIC')
    """
    upper = declared_type.upper()
    if "INT" in upper:
        return "INTEGER"
    if "CHAR" in upper or "CLOB" in upper or "TEXT" in upper:
        return "TEXT"
    if "BLOB" in upper or not upper.strip():
        return "BLOB"
    if "REAL" in upper or "FLOA" in upper or "DOUB" in upper:
        return "REAL"
    return "NUMERIC"


def plain_text(value: Value) -> str | None:
    """The unmarked text of a value (None for NULL)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return BLOB_PREFIX + value.hex()
    if isinstance(value, bool):  # a bool is an int to Python and to sqlite3: never stored
        raise TypeError("SQLite stores no booleans")
    if isinstance(value, int | float):
        return repr(value)
    return value


def to_text(value: Value, column: Affinity) -> str | None:
    """The field text of `value` in a column of affinity `column`, before COPY escaping."""
    plain = plain_text(value)
    if plain is None or isinstance(value, bytes):
        return plain
    if not plain.startswith("\\") and _same(from_text(plain, column), value):
        return plain
    return MARKS[type(value)] + plain


def from_text(text: str | None, column: Affinity) -> Value:
    """The value of a field's text (after COPY unescaping); ValueError on damage."""
    if text is None:
        return None
    if text.startswith("\\"):
        return _marked(text)
    if column == "TEXT":
        return text
    if _is_int(text):
        return int(text)
    if _is_float(text):
        return float(text)
    return text


def encode_value(value: Value, column: Affinity) -> str:
    """One fixture field: `encode_value(b"\\x01", "BLOB")` -> `'\\\\x01'` (COPY escapes `\\`)."""
    return encode_field(to_text(value, column))


def decode_value(field: str, column: Affinity) -> Value:
    return from_text(decode_field(field), column)


def encode_line(values: Sequence[Value], columns: Sequence[Affinity]) -> bytes:
    """A row as one fixture line, newline included."""
    fields = [encode_value(v, a) for v, a in zip(values, columns, strict=True)]
    return ("\t".join(fields) + "\n").encode("utf-8")


def decode_line(line: str, columns: Sequence[Affinity]) -> list[Value]:
    """The values of one fixture line (no newline); ValueError names the 1-based column."""
    fields = line.split("\t")
    if len(fields) != len(columns):
        raise ValueError(f"{len(fields)} fields where {len(columns)} columns are expected")
    values: list[Value] = []
    for number, (field, column) in enumerate(zip(fields, columns, strict=True), start=1):
        try:
            values.append(decode_value(field, column))
        except ValueError as exc:
            raise FieldError(number, str(exc)) from exc
    return values


class FieldError(ValueError):
    """A damaged field, with its 1-based position in the line."""

    def __init__(self, position: int, message: str) -> None:
        super().__init__(message)
        self.position = position


def same(a: Value, b: Value) -> bool:
    """True when two values are the same SQLite value: class and bits (-0.0 is not 0.0)."""
    return _same(a, b)


def _same(a: Value, b: Value) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float) and isinstance(b, float):
        return a.hex() == b.hex() or (math.isnan(a) and math.isnan(b))
    return a == b


def _is_int(text: str) -> bool:
    if not text or not (text.isdigit() or (text[0] == "-" and text[1:].isdigit())):
        return False
    if not text.isascii():
        return False
    number = int(text)
    return str(number) == text and _INT64[0] <= number <= _INT64[1]


def _is_float(text: str) -> bool:
    try:
        number = float(text)
    except ValueError:
        return False
    return repr(number) == text


def _marked(text: str) -> Value:
    if text.startswith(BLOB_PREFIX):
        digits = text[len(BLOB_PREFIX) :]
        if len(digits) % 2 or not all(c in "0123456789abcdef" for c in digits):
            raise ValueError(f"{_short(text)} is no blob: \\x must be followed by lowercase hex")
        return bytes.fromhex(digits)
    for kind, mark in MARKS.items():
        if text.startswith(mark):
            rest = text[len(mark) :]
            if kind is str:
                return rest
            if kind is int and _is_int(rest):
                return int(rest)
            if kind is float and _is_float(rest):
                return float(rest)
            raise ValueError(f"{_short(text)}: {rest!r} is not how {mark[1:-1]}s are written")
    raise ValueError(
        f"{_short(text)} starts with a backslash but is no blob (\\x) and no marked value "
        "(\\integer:, \\real:, \\text:)"
    )


def _short(text: str) -> str:
    return repr(text if len(text) <= 40 else text[:37] + "...")
