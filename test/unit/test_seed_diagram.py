"""SEED.md: the Mermaid picture of a fixture directory, its counts and relation coverage."""

from __future__ import annotations

from pathlib import Path

from genonaut.seed.core.fixture_files import read_fixture_files
from genonaut.seed.core.fixture_format import (
    MANIFEST,
    FixtureTable,
    Manifest,
    encode_row,
    file_name,
    header_line,
)
from genonaut.seed.core.schema_graph import ForeignKey, TableName
from genonaut.seed.core.seed_diagram import (
    SEED_MD,
    TableCounts,
    check_seed_md,
    counts_in,
    coverage,
    decoded_rows,
    render_seed_md,
)

USERS, POSTS, LIKES = (
    TableName("public", "users"),
    TableName("public", "posts"),
    TableName("app", "likes"),
)
SPEC: dict[TableName, tuple[tuple[str, ...], list[list[str | None]]]] = {
    USERS: (("id", "name"), [["1", "ann"], ["2", "bob"]]),
    POSTS: (
        ("id", "user_id", "editor_id"),
        [["10", "1", None], ["11", "2", "9"], ["12", "1", "2"]],
    ),
    LIKES: (
        ("id", "kind", "target"),
        [["1", "post", "10"], ["2", "post", "99"], ["3", "user", "1"]],
    ),
}
RELATIONS = (
    ForeignKey("posts_user_fkey", POSTS, ("user_id",), USERS, ("id",)),
    ForeignKey("posts_editor_fkey", POSTS, ("editor_id",), USERS, ("id",)),
    ForeignKey(
        "virtual:likes->posts#1",
        LIKES,
        ("target",),
        POSTS,
        ("id",),
        is_virtual=True,
        condition="kind = 'post'",
    ),
)
COUNTS = {
    USERS: TableCounts(2, 1, 1, 0),
    POSTS: TableCounts(3, 3, 0, 0),
    LIKES: TableCounts(3, 2, 0, 1),
}


def write(directory: Path) -> Manifest:
    directory.mkdir()
    entries = []
    for name, (columns, rows) in SPEC.items():
        with (directory / file_name(name)).open("wb") as out:
            out.write(header_line(columns))
            out.writelines((encode_row(r) + "\n").encode() for r in rows)
        entries.append(FixtureTable(name, file_name(name), len(rows), columns))
    manifest = Manifest(tuple(entries), RELATIONS, "sha256:test")
    (directory / MANIFEST).write_text(manifest.to_json(), encoding="utf-8")
    return manifest


def test_coverage_counts_references_and_those_pointing_into_the_seed(tmp_path: Path) -> None:
    manifest = write(tmp_path / "seed")
    rows = decoded_rows(read_fixture_files(tmp_path / "seed", manifest.tables))
    found = {c.relation.name: c for c in coverage(manifest, rows)}
    editor = found["posts_editor_fkey"]
    assert (editor.child_rows, editor.referencing, editor.covered) == (3, 2, 1)
    assert editor.percent == "50.0%"
    # The condition kind = 'post' is applied: the like of a user is not a reference to a post.
    likes = found["virtual:likes->posts#1"]
    assert (likes.referencing, likes.covered, likes.condition_applied) == (2, 1, True)


def test_the_diagram_names_every_table_and_relation_and_renders_the_same_twice(
    tmp_path: Path,
) -> None:
    manifest = write(tmp_path / "seed")
    rows = decoded_rows(read_fixture_files(tmp_path / "seed", manifest.tables))
    text = render_seed_md(manifest, COUNTS, rows)
    assert text == render_seed_md(manifest, COUNTS, rows)
    assert "```mermaid\nerDiagram\n" in text
    assert 'app_likes["app.likes"] {' in text
    assert 'rows n "2 rows: 1 by limit, 1 by closure"' in text
    assert 'rows n "3 rows: 2 by limit, 0 by closure, 1 by include"' in text
    assert 'users ||--o{ posts : "posts_editor_fkey"' in text
    assert 'posts ||..o{ app_likes : "virtual likes- posts 1"' in text
    assert "| `posts(editor_id) -> users(id)` | foreign key | 3 | 2 | 1 | 50.0% |" in text
    assert counts_in(text) == COUNTS


def test_check_finds_a_missing_or_stale_seed_md_and_accepts_a_fresh_one(tmp_path: Path) -> None:
    directory = tmp_path / "seed"
    manifest = write(directory)
    assert check_seed_md(directory, manifest) == [f"{SEED_MD} is missing: re-export to write it"]
    rows = decoded_rows(read_fixture_files(directory, manifest.tables))
    (directory / SEED_MD).write_text(render_seed_md(manifest, COUNTS, rows), encoding="utf-8")
    assert check_seed_md(directory, manifest) == []
    # A fixture row edited by hand changes the coverage the file recorded.
    users = directory / file_name(USERS)
    users.write_bytes(users.read_bytes().replace(b"2\tbob", b"3\tbob"))
    assert check_seed_md(directory, manifest) != []
