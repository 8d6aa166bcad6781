"""The fixture format: COPY text codec, manifest, header, atomic directory swap."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genonaut.seed.core.fixture_format import (
    FixtureTable,
    Manifest,
    decode_field,
    decode_row,
    encode_field,
    encode_row,
    file_name,
    header_line,
    read_header,
    read_manifest,
    replace_directory,
)
from genonaut.seed.core.schema_graph import ForeignKey, TableName
from genonaut.seed.errors import FixtureError

# Text PostgreSQL can store: any character but NUL.
_text = st.text(alphabet=st.characters(codec="utf-8", exclude_characters="\x00"))
_field = st.none() | _text


@given(_field)
def test_field_round_trip(value: str | None) -> None:
    assert decode_field(encode_field(value)) == value


@given(st.lists(_field, min_size=1))
def test_row_round_trip(values: list[str | None]) -> None:
    line = encode_row(values)
    assert "\n" not in line
    assert decode_row(line) == values


def test_null_and_empty_string_differ() -> None:
    assert encode_field(None) == "\\N"
    assert encode_field("") == ""
    assert encode_field("\\N") == "\\\\N"
    assert decode_field("\\\\N") == "\\N"


def test_special_characters_are_escaped_like_copy() -> None:
    assert encode_field("a\tb\nc\\d\re") == "a\\tb\\nc\\\\d\\re"


def test_decode_reads_octal_and_hex_escapes() -> None:
    assert decode_field("\\101\\x42") == "AB"


def test_decode_rejects_a_trailing_backslash() -> None:
    with pytest.raises(ValueError):
        decode_field("abc\\")


def test_file_names_qualify_only_outside_public() -> None:
    assert file_name(TableName("public", "users")) == "users.tsv"
    assert file_name(TableName("hr", "employees")) == "hr.employees.tsv"


def _manifest() -> Manifest:
    users = TableName("public", "users")
    return Manifest(
        tables=(
            FixtureTable(users, "users.tsv", 2, ("id", "name"), ("id",), types=("int", "text")),
            FixtureTable(
                TableName("public", "items"),
                "items.tsv",
                1,
                ("id", "user_id"),
                ("id",),
                TableName("public", "all_items"),
            ),
        ),
        relations=(
            ForeignKey("fk", TableName("public", "items"), ("user_id",), users, ("id",)),
            ForeignKey(
                "virtual:x",
                TableName("public", "items"),
                ("user_id",),
                users,
                ("id",),
                is_virtual=True,
                condition="kind = 'a'",
            ),
        ),
        schema_fingerprint="sha256:abc",
        partitioned=((TableName("public", "all_items"), None),),
    )


def test_manifest_round_trip(tmp_path: Path) -> None:
    manifest = _manifest()
    (tmp_path / "manifest.json").write_text(manifest.to_json())
    assert read_manifest(tmp_path) == manifest


def test_the_engine_is_written_only_when_it_is_not_postgresql(tmp_path: Path) -> None:
    postgres = _manifest()
    assert postgres.engine == "postgresql"
    assert "engine" not in json.loads(postgres.to_json())
    sqlite = dataclasses.replace(postgres, engine="sqlite")
    text = sqlite.to_json()
    assert list(json.loads(text))[:2] == ["format", "engine"]
    assert text.replace('  "engine": "sqlite",\n', "") == postgres.to_json()
    (tmp_path / "manifest.json").write_text(text)
    assert read_manifest(tmp_path) == sqlite
    (tmp_path / "manifest.json").write_text(text.replace('"sqlite"', "3"))
    with pytest.raises(FixtureError, match="engine 3 is not a name"):
        read_manifest(tmp_path)


def test_a_manifest_without_types_is_read_and_one_with_too_few_is_damage(tmp_path: Path) -> None:
    document = json.loads(_manifest().to_json())
    del document["tables"][0]["types"]
    (tmp_path / "manifest.json").write_text(json.dumps(document))
    assert read_manifest(tmp_path).tables[0].types == ()
    document["tables"][0]["types"] = ["int"]
    (tmp_path / "manifest.json").write_text(json.dumps(document))
    with pytest.raises(FixtureError, match="1 types for 2 columns"):
        read_manifest(tmp_path)


def test_damaged_manifest_is_a_fixture_error(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text('{"format": "genonaut-seed/1", "tables": [')
    with pytest.raises(FixtureError, match="damaged"):
        read_manifest(tmp_path)


def test_missing_manifest_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(FixtureError) as info:
        read_manifest(tmp_path)
    assert "export" in info.value.hint


def test_header_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(header_line(["id", "odd\tname"]) + b"1\tx\n")
    assert read_header(path) == ("id", "odd\tname")


def test_header_cut_short_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "t.tsv"
    path.write_bytes(b"id\tna")
    with pytest.raises(FixtureError, match="cut short"):
        read_header(path)


def test_replace_directory_swaps_on_success(tmp_path: Path) -> None:
    target = tmp_path / "seed"
    target.mkdir()
    (target / "old_table.tsv").write_text("old")
    with replace_directory(target) as scratch:
        (scratch / "new_table.tsv").write_text("new")
    assert sorted(p.name for p in target.iterdir()) == ["new_table.tsv"]
    assert [p.name for p in tmp_path.iterdir()] == ["seed"]


def test_replace_directory_keeps_the_old_files_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "seed"
    target.mkdir()
    (target / "users.tsv").write_text("precious")
    with pytest.raises(RuntimeError), replace_directory(target) as scratch:
        (scratch / "users.tsv").write_text("half written")
        raise RuntimeError("interrupted")
    assert (target / "users.tsv").read_text() == "precious"
    assert [p.name for p in tmp_path.iterdir()] == ["seed"]


def test_manifest_knows_which_files_hold_a_partitioned_table() -> None:
    manifest = _manifest()
    assert manifest.holders(TableName("public", "all_items")) == (TableName("public", "items"),)
    assert manifest.holders(TableName("public", "users")) == (TableName("public", "users"),)


@pytest.mark.parametrize(
    ("damage", "said"),
    [
        (
            b'{"format": "genonaut-seed/1", "tables": [{"name": "t", "file": "t.tsv", "rows": 1, '
            b'"columns": "id"}], "schema_fingerprint": "x"}',
            "columns must be a list",
        ),
        (b'{"format": "genonaut-seed/1", "tables": [], \xff}', "is not UTF-8: byte 0xff"),
    ],
)
def test_a_manifest_of_the_wrong_shape_or_encoding_is_named(
    tmp_path: Path, damage: bytes, said: str
) -> None:
    (tmp_path / "manifest.json").write_bytes(damage)
    with pytest.raises(FixtureError, match=said) as info:
        read_manifest(tmp_path)
    assert "re-export" in info.value.hint
