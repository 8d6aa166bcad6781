"""The fixture text of MariaDB values, and the values a fixture's text loads back as.

Most values are written as the server writes them (the session fixes time_zone to UTC and a
strict sql_mode): integers, DECIMAL (exact, with its declared scale), DOUBLE (the shortest text
that reads back as the same double), DATE, DATETIME, TIMESTAMP and TIME (with the declared
fractional digits), YEAR, CHAR/VARCHAR/TEXT (utf8mb4), JSON (MariaDB keeps its text as given),
ENUM and SET. Three kinds are written otherwise:

- BINARY, VARBINARY, BLOB and the spatial types: `\\x` and lower-case hex of the bytes (the
  server's HEX), as PostgreSQL writes bytea; a spatial value is its stored form (SRID + WKB).
- BIT(n): n binary digits, `0101` for BIT(4) holding 5, as PostgreSQL writes bit(n).
- FLOAT: the server writes only 6 significant digits (16777217 comes out as 16777200), which
  does not read back exactly, so the value is read as a double (exact for a float) and written
  as the shortest decimal text that rounds back to the same 4-byte float.

`dump` then writes each text through `encode_field` (COPY text escaping, `\\N` for NULL).
"""

from __future__ import annotations

import re
import struct
from decimal import ROUND_DOWN, Context

from genonaut.seed.core.schema_graph import Column

from .connection import quote

BINARY_TYPES = frozenset(
    {
        "binary",
        "varbinary",
        "tinyblob",
        "blob",
        "mediumblob",
        "longblob",
        "geometry",
        "point",
        "linestring",
        "polygon",
        "multipoint",
        "multilinestring",
        "multipolygon",
        "geometrycollection",
    }
)
BYTEA_PREFIX = "\\x"
FLOAT_MAX = 3.4028234663852886e38  # the largest 4-byte float
_HEX = re.compile(r"(?:[0-9a-fA-F]{2})*")
_BITS = re.compile(r"[01]+")


def base_type(column: Column) -> str:
    """`int(11) unsigned` -> `int`; `enum('a','b')` -> `enum`."""
    return re.split(r"[\s(]", column.type.strip().lower(), maxsplit=1)[0]


def is_binary(column: Column) -> bool:
    return base_type(column) in BINARY_TYPES and not column.is_collatable


def bit_width(column: Column) -> int:
    """The n of BIT(n) (BIT alone is BIT(1))."""
    found = re.match(r"\s*bit\s*\((\d+)\)", column.type, re.IGNORECASE)
    return int(found.group(1)) if found else 1


def select_expression(column: Column, prefix: str = "") -> str:
    """The SQL that reads `column` as the text its fixture field is made of.

    >>> select_expression(Column("flags", "bit(4)"))
    "LPAD(BIN(`flags`), 4, '0')"
    """
    name = prefix + quote(column.name)
    kind = base_type(column)
    if is_binary(column):
        return f"CONCAT('\\\\x', LOWER(HEX({name})))"
    if kind == "bit":
        return f"LPAD(BIN({name}), {bit_width(column)}, '0')"
    if kind == "float":
        return f"CAST({name} AS DOUBLE)"
    return name


def to_text(column: Column, raw: str | bytes | None) -> str | None:
    """The fixture text of one value as `select_expression` read it (None for NULL)."""
    if raw is None:
        return None
    text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
    if base_type(column) == "float":
        return shortest_float32(float(text))
    return text


def shortest_float32(value: float) -> str:
    """The shortest decimal text that reads back as the same 4-byte float.

    >>> shortest_float32(0.10000000149011612)
    '0.1'
    >>> shortest_float32(16777216.0)
    '16777216'
    """
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{value} cannot be stored in a MariaDB FLOAT")
    (target,) = struct.unpack("<f", struct.pack("<f", value))
    for digits in range(1, 10):
        text = f"{value:.{digits}g}"
        if abs(float(text)) > FLOAT_MAX:
            # MariaDB refuses a text beyond the largest float even when it would round to
            # it: near the largest float, round toward zero instead.
            cut = Context(prec=digits, rounding=ROUND_DOWN).create_decimal(value)
            text = f"{cut:g}"
        (back,) = struct.unpack("<f", struct.pack("<f", float(text)))
        if back == target:
            break
    else:
        text = repr(target)  # the float's exact double: at most 17 digits, never out of range
    # Python writes 1e+20 and 1.5e-07; MariaDB reads both, and the plain form is kept where
    # `g` chose it.
    return text


def to_parameter(column: Column, text: str | None) -> str | bytes | int | None:
    """The value to bind for a fixture field's decoded text; ValueError names what is wrong.

    Text goes to the server as text (it converts and checks it under the strict sql_mode),
    `\\x` hex as bytes, BIT digits as an integer.

    >>> to_parameter(Column("b", "bit(4)"), "0101")
    5
    >>> to_parameter(Column("v", "varbinary(4)"), "\\\\x00ff")
    b'\\x00\\xff'
    """
    if text is None:
        return None
    if is_binary(column):
        if not text.startswith(BYTEA_PREFIX) or not _HEX.fullmatch(text, 2):
            raise ValueError(f"{text[:40]!r} is not \\x followed by pairs of hex digits")
        return bytes.fromhex(text[2:])
    if base_type(column) == "bit":
        if not _BITS.fullmatch(text) or len(text) > bit_width(column):
            raise ValueError(f"{text[:70]!r} is not {bit_width(column)} binary digits")
        return int(text, 2)
    return text
