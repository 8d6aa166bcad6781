"""Table names to file names: reversible, collision-free, never a path; manifest entries
confined to the fixture directory; the scratch directories of the export's swap."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from genonaut.seed.core.fixture_files import read_fixture_files
from genonaut.seed.core.fixture_format import (
    MANIFEST,
    Manifest,
    check_file_names,
    exchange_paths,
    file_name,
    name_text,
    parse_name,
    read_manifest,
    remove_stale_scratch,
    replace_directory,
    table_of_file,
)
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.errors import FixtureError

COMMITTED = Path(__file__).resolve().parents[1] / "db" / "input" / "rdbms_init_from_demo"

# PostgreSQL names: up to 63 bytes of UTF-8, any character but NUL.
names = st.text(
    st.characters(blacklist_characters="\0", blacklist_categories=["Cs"]), min_size=1, max_size=20
)


@given(names, names)
def test_a_file_name_is_never_a_path_and_reads_back(schema: str, table: str) -> None:
    name = TableName(schema, table)
    encoded = file_name(name)
    assert "/" not in encoded and "\\" not in encoded and "\0" not in encoded
    assert not encoded.startswith(".") and ".." not in encoded
    assert table_of_file(encoded) == name
    assert parse_name(name_text(name)) == name


def test_the_reported_collision_gets_two_files() -> None:
    dotted, schema_a = TableName("public", "a.b"), TableName("a", "b")
    assert file_name(dotted) == "a%2Eb.tsv"
    assert file_name(schema_a) == "a.b.tsv"
    assert check_file_names([dotted, schema_a]) == {dotted: "a%2Eb.tsv", schema_a: "a.b.tsv"}


def test_hostile_names_stay_inside_the_directory() -> None:
    assert file_name(TableName("public", "../../escape")) == "%2E%2E%2F%2E%2E%2Fescape.tsv"
    assert file_name(TableName("public", "a/b")) == "a%2Fb.tsv"
    assert file_name(TableName("x", "..")) == "x.%2E%2E.tsv"


def test_names_differing_only_in_case_are_refused() -> None:
    with pytest.raises(FixtureError, match="share the file"):
        check_file_names([TableName("public", "Users"), TableName("public", "users")])


def test_committed_fixture_names_are_unchanged() -> None:
    manifest = read_manifest(COMMITTED)
    assert manifest.tables
    for table in manifest.tables:
        assert table.file == file_name(table.name)
        assert (COMMITTED / table.file).is_file()
    assert (COMMITTED / MANIFEST).read_text(encoding="utf-8") == manifest.to_json()


def _manifest_with_file(directory: Path, file: str) -> Path:
    directory.mkdir(exist_ok=True)
    (directory / "language.tsv").write_bytes(b"id\n1\n")
    document = {
        "format": "genonaut-seed/1",
        "schema_fingerprint": "sha256:x",
        "tables": [{"name": "public.language", "file": file, "rows": 1, "columns": ["id"]}],
    }
    (directory / MANIFEST).write_text(json.dumps(document), encoding="utf-8")
    return directory


@pytest.mark.parametrize(
    "file", ["/etc/passwd", "../other/language.tsv", "./language.tsv", "other.tsv", ".language.tsv"]
)
def test_a_manifest_file_entry_must_be_the_tables_plain_name(tmp_path: Path, file: str) -> None:
    seed = _manifest_with_file(tmp_path / "seed", file)
    with pytest.raises(FixtureError) as caught:
        read_manifest(seed)
    assert caught.value.message.startswith(f"{seed / MANIFEST}: table public.language names")
    assert "root:" not in caught.value.message


def test_a_wrong_table_name_in_the_manifest_names_manifest(tmp_path: Path) -> None:
    seed = _manifest_with_file(tmp_path / "seed", "language.tsv")
    text = (seed / MANIFEST).read_text().replace("public.language", "public.languag")
    (seed / MANIFEST).write_text(text)
    with pytest.raises(FixtureError, match=r"manifest.json: table public.languag names"):
        read_manifest(seed)


def test_a_file_linking_outside_is_damage(tmp_path: Path) -> None:
    seed = _manifest_with_file(tmp_path / "seed", "language.tsv")
    outside = tmp_path / "elsewhere.tsv"
    outside.write_bytes(b"id\n1\n")
    (seed / "language.tsv").unlink()
    (seed / "language.tsv").symlink_to(outside)
    manifest = read_manifest(seed)
    with pytest.raises(FixtureError, match="links outside the fixture directory"):
        read_fixture_files(seed, manifest.tables)


def test_a_table_listed_twice_is_damage() -> None:
    entry = {"name": "public.t", "file": "t.tsv", "rows": 0, "columns": ["id"]}
    document = {"format": "genonaut-seed/1", "schema_fingerprint": "x", "tables": [entry, entry]}
    with pytest.raises(FixtureError, match="listed twice"):
        Manifest.from_json(json.dumps(document), "m/manifest.json")


def test_the_swap_exchanges_in_one_step(tmp_path: Path) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    (first / "x").write_text("1")
    (second / "y").write_text("2")
    if exchange_paths(first, second):
        assert (second / "x").is_file() and (first / "y").is_file()
    else:  # a system without renameat2: nothing moved
        assert (first / "x").is_file() and (second / "y").is_file()


def test_stale_scratch_directories_are_removed_and_a_lost_target_restored(
    tmp_path: Path,
) -> None:
    target = tmp_path / "seed"
    new = tmp_path / ".seed.new-abc"
    new.mkdir()
    (new / "half.tsv").write_text("x")
    old = tmp_path / ".seed.old-def"
    (old / "seed").mkdir(parents=True)
    (old / "seed" / MANIFEST).write_text("{}")
    other = tmp_path / ".other.new-1"
    other.mkdir()
    removed = remove_stale_scratch(target)
    assert sorted(p.name for p in removed) == [".seed.new-abc", ".seed.old-def"]
    assert (target / MANIFEST).read_text() == "{}"
    assert other.is_dir()
    assert sorted(os.listdir(tmp_path)) == [".other.new-1", "seed"]


def test_replace_directory_leaves_only_the_new_directory(tmp_path: Path) -> None:
    target = tmp_path / "seed"
    target.mkdir()
    (target / "old.tsv").write_text("old")
    (tmp_path / ".seed.new-killed").mkdir()
    with replace_directory(target) as scratch:
        (scratch / "new.tsv").write_text("new")
    assert os.listdir(target) == ["new.tsv"]
    assert os.listdir(tmp_path) == ["seed"]
