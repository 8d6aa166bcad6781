"""Every MariaDB type to fixture text and back: exact values, byte-identical files."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

import pytest
from mariadb_helpers import export_all, files_of, load_all, run
from mariadb_schemas import TYPES

from genonaut.seed.core.fixture_format import decode_row
from genonaut.seed.engines.mariadb.clone import clone_database
from genonaut.seed.engines.mariadb.connection import parse_url, session, with_database
from genonaut.seed.engines.mariadb.values import FLOAT_MAX, shortest_float32
from genonaut.seed.errors import FixtureError


def _rows(directory: Path, name: str) -> list[dict[str, str | None]]:
    lines = (directory / name).read_text(encoding="utf-8").split("\n")[:-1]
    header = [str(h) for h in decode_row(lines[0])]
    return [dict(zip(header, decode_row(line), strict=True)) for line in lines[1:]]


def _copy_empty(url: str, make_mariadb: Callable[..., str]) -> str:
    target = parse_url(make_mariadb()).database
    run(with_database(url, ""), f"DROP DATABASE `{target}`")
    with session(url) as db:
        clone_database(db, parse_url(url).database, target, with_rows=False)
    return with_database(url, target)


@pytest.mark.parametrize("load_data", [True, False], ids=["load-data", "inserts"])
def test_every_type_loads_back_exactly_and_dumps_to_the_same_bytes(
    load_data: bool, mariadb_url: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    run(mariadb_url, *TYPES)
    export_all(mariadb_url, tmp_path / "first")
    copy = _copy_empty(mariadb_url, make_mariadb)
    report = load_all(copy, tmp_path / "first", load_data=load_data)
    assert [(t.in_file, t.inserted) for t in report.tables] == [(4, 4)]
    export_all(copy, tmp_path / "second")
    first, second = files_of(tmp_path / "first"), files_of(tmp_path / "second")
    assert first["every_type.tsv"] == second["every_type.tsv"]
    # The values themselves, compared by the server byte for byte (NULL-safe, every column).
    source, target = parse_url(mariadb_url).database, parse_url(copy).database
    columns = [
        str(r[0])
        for r in run(
            mariadb_url,
            "SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_NAME = 'every_type' "
            f"AND TABLE_SCHEMA = '{source}'",
        )
    ]
    same = " AND ".join(f"CAST(a.`{c}` AS BINARY) <=> CAST(b.`{c}` AS BINARY)" for c in columns)
    (count,) = run(
        mariadb_url,
        f"SELECT COUNT(*) FROM `{source}`.every_type a JOIN `{target}`.every_type b "
        f"ON a.id = b.id WHERE {same}",
    )[0]
    assert count == 4


def test_each_type_has_its_documented_text(mariadb_url: str, tmp_path: Path) -> None:
    run(mariadb_url, *TYPES)
    export_all(mariadb_url, tmp_path)
    first, second, nulls, last = _rows(tmp_path, "every_type.tsv")
    assert first["bu"] == "18446744073709551615"
    assert first["dc"] == "12345678901234567890.0123456789"
    assert second["dc"] == "-0.0000000001"
    assert first["fl"] == "0.1"
    assert second["fl"] == "16777216"  # 16777217 is no float; the server writes 16777200
    assert first["db"] == "0.30000000000000004"
    assert first["dt"] == "2024-01-02 03:04:05.678"
    assert first["dt0"] == "9999-12-31 23:59:59"
    assert first["ts"] == "2038-01-19 03:14:07.999999"
    assert first["tm"] == "-838:59:59.99"
    assert first["y"] == "1901"
    assert (first["b1"], first["b10"], first["b64"]) == ("1", "0000000101", "1" * 64)
    assert second["b64"] == "0" * 64
    assert first["vc"] == "tab\there\nnew line \\ back"
    assert first["tx"] == "caf\u00e9 \U0001f3a8"
    assert first["l1"] == "d\u00e9j\u00e0"
    assert first["bn"] == "\\x61620000"
    assert first["vb"] == "\\x780079"
    assert first["bl"] == "\\x00ff10"
    assert second["vb"] == "\\x"
    assert first["j"] == '{"a": [1, 2.50], "b": "\\u00e9"}'
    assert (first["e"], first["st"]) == ("large", "x,z")
    assert first["p"] is not None and first["p"].startswith("\\x00000000")
    assert nulls["ti"] is None and nulls["p"] is None
    assert nulls["fl"] == "-3.4028234e+38"  # the largest float, in a text MariaDB takes back
    assert (last["c"], last["vc"], last["tx"]) == ("a\rb", "\\N", "\\.")
    assert "gen" not in first  # generated columns are computed, not carried
    raw = (tmp_path / "every_type.tsv").read_bytes()
    assert b"\\\\N\t\\\\." in raw  # a backslash is escaped, so text \N is not NULL


def test_timestamps_are_written_in_utc_whatever_the_session_zone(
    mariadb_url: str, tmp_path: Path
) -> None:
    run(
        mariadb_url,
        "CREATE TABLE t (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL)",
        "SET SESSION time_zone = '+05:00'",
        "INSERT INTO t VALUES (1, '2024-06-01 05:00:00.250')",
    )
    export_all(mariadb_url, tmp_path)
    assert _rows(tmp_path, "t.tsv") == [{"id": "1", "ts": "2024-06-01 00:00:00.250"}]


def test_shortest_float32_reads_back_as_the_same_float() -> None:
    for value in (
        0.1,
        1 / 3,
        16777216.0,
        3.4028234663852886e38,
        -3.402820018375656e38,
        1.401298464324817e-45,
        -2.5,
    ):
        (stored,) = struct.unpack("<f", struct.pack("<f", value))
        text = shortest_float32(stored)
        assert struct.unpack("<f", struct.pack("<f", float(text)))[0] == stored
        assert abs(float(text)) <= FLOAT_MAX  # MariaDB refuses more, even if it rounds down
        assert len(text.replace("-", "").replace(".", "").split("e")[0]) <= 9


@pytest.mark.parametrize("load_data", [True, False], ids=["load-data", "inserts"])
@pytest.mark.parametrize(
    ("column", "bad"), [("vb", "\\\\x7g"), ("bl", "00ff"), ("b10", "00000002"), ("b1", "11")]
)
def test_a_damaged_binary_or_bit_field_is_named(
    load_data: bool,
    column: str,
    bad: str,
    mariadb_url: str,
    make_mariadb: Callable[..., str],
    tmp_path: Path,
) -> None:
    run(mariadb_url, *TYPES)
    export_all(mariadb_url, tmp_path)
    path = tmp_path / "every_type.tsv"
    lines = path.read_text(encoding="utf-8").split("\n")
    header = lines[0].split("\t")
    fields = lines[1].split("\t")
    fields[header.index(column)] = bad
    lines[1] = "\t".join(fields)
    path.write_text("\n".join(lines), encoding="utf-8")
    copy = _copy_empty(mariadb_url, make_mariadb)
    with pytest.raises(FixtureError, match=f"every_type.tsv: line 2, column {column} "):
        load_all(copy, tmp_path, load_data=load_data)


@pytest.mark.parametrize("load_data", [True, False], ids=["load-data", "inserts"])
def test_every_control_character_and_backslash_loads_back(
    load_data: bool, mariadb_url: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    # COPY text and LOAD DATA read \v, \f and \Z differently: the load must rewrite them.
    run(
        mariadb_url,
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100), b VARBINARY(20))",
        "INSERT INTO t VALUES (1, CONCAT('v', CHAR(11), 'f', CHAR(12), 'z', CHAR(26), 'n', "
        "CHAR(0), 'b', CHAR(8)), CONCAT(CHAR(9), CHAR(10), CHAR(92)))",
        "INSERT INTO t VALUES (2, 'back\\\\Z \\\\v \\\\N \\\\x41 \\\\101', NULL), (3, '\\\\', '')",
    )
    export_all(mariadb_url, tmp_path / "a")
    raw = (tmp_path / "a" / "t.tsv").read_bytes()
    assert b"\\v" in raw and b"\\f" in raw and b"\\\\Z" in raw
    copy = _copy_empty(mariadb_url, make_mariadb)
    load_all(copy, tmp_path / "a", load_data=load_data)
    export_all(copy, tmp_path / "b")
    assert (tmp_path / "b" / "t.tsv").read_bytes() == raw
    assert run(copy, "SELECT v FROM t WHERE id = 2") == [("back\\Z \\v \\N \\x41 \\101",)]


def test_octal_and_hex_escapes_written_by_hand_load_as_their_bytes(
    mariadb_url: str, make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    run(mariadb_url, "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(100))")
    export_all(mariadb_url, tmp_path)
    path = tmp_path / "t.tsv"
    path.write_bytes(path.read_bytes() + b"1\t\\101\\x42\\11\\134z\n")
    manifest = (tmp_path / "manifest.json").read_text().replace('"rows": 0', '"rows": 1')
    (tmp_path / "manifest.json").write_text(manifest)
    copy = _copy_empty(mariadb_url, make_mariadb)
    load_all(copy, tmp_path, load_data=True)
    assert run(copy, "SELECT v FROM t") == [("AB\t\\z",)]
