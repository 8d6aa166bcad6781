"""The selection's decisions, asked of rows in plain Python lists (`memory_rows`): no database."""

from __future__ import annotations

from collections.abc import Mapping

import pytest
from memory_rows import MemoryRows, Predicate, Row

from genonaut.seed.core.picks import CLOSURE, INCLUDE, LIMIT, Selection
from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import Column, ForeignKey, Schema, Table, TableName
from genonaut.seed.core.selection import plan_selection
from genonaut.seed.errors import EmptySelection, UnknownColumn

USERS = TableName.parse("users")
POSTS = TableName.parse("posts")
STAFF = TableName.parse("staff")


def _table(name: TableName, *columns: str, nullable: tuple[str, ...] = ()) -> Table:
    cols = tuple(Column(c, "integer", is_nullable=c in nullable) for c in columns)
    return Table(name, cols, ("id",))


def _fk(child: TableName, column: str, parent: TableName, **kw: object) -> ForeignKey:
    return ForeignKey(f"{child.name}_{column}", child, (column,), parent, ("id",), **kw)  # type: ignore[arg-type]


def _rows(*rows: tuple[int | None, ...], columns: tuple[str, ...]) -> list[Row]:
    return [
        {c: None if v is None else str(v) for c, v in zip(columns, row, strict=True)}
        for row in rows
    ]


def _users(count: int) -> list[Row]:
    return _rows(*((i,) for i in range(1, count + 1)), columns=("id",))


def _blog(*, editor: bool = False) -> Schema:
    """users; posts with an author (mandatory) and, optionally, an editor (nullable)."""
    columns = ("id", "user_id", "editor_id") if editor else ("id", "user_id")
    relations = [_fk(POSTS, "user_id", USERS)]
    if editor:
        relations.append(_fk(POSTS, "editor_id", USERS))
    posts = _table(POSTS, *columns, nullable=("editor_id",))
    return Schema((_table(USERS, "id"), posts), tuple(relations))


def _plan(
    schema: Schema,
    rows: Mapping[TableName, list[Row]],
    conditions: Mapping[str, Predicate] | None = None,
    **rules: object,
) -> tuple[Selection, MemoryRows]:
    source = MemoryRows(rows, conditions)
    tables = tuple(sorted(rows))
    return plan_selection(source, schema, Rules(tables, **rules)), source  # type: ignore[arg-type]


def _ids(selection: Selection, table: TableName, origin: str | None = None) -> set[int]:
    rows = selection.picks[table].rows.values()
    return {int(r.ident[0] or 0) for r in rows if origin is None or r.origin == origin}


def test_children_of_chosen_parents_come_first_by_key() -> None:
    posts = _rows((1, 5), (2, 1), (3, 2), (4, 1), columns=("id", "user_id"))
    selection, source = _plan(_blog(), {USERS: _users(5), POSTS: posts}, default_limit=2)
    assert _ids(selection, USERS) == {1, 2}
    # Post 1 comes first by key but names user 5, who is not chosen: posts 2 and 3 do not.
    assert _ids(selection, POSTS) == {2, 3}
    assert not selection.dropped
    # One question per table when the first one fills it; nothing to close.
    assert source.calls["find"] == 2
    assert source.calls["walk"] == selection.closure_rounds == 0


def test_top_up_takes_rows_sharing_a_new_parent_first() -> None:
    posts = _rows((1, 3), (2, 2), (3, 1), (4, 2), (5, 4), columns=("id", "user_id"))
    selection, _ = _plan(
        _blog(), {USERS: _users(4), POSTS: posts}, default_limit=3, limits={USERS: 1}
    )
    # Post 3 names the one chosen user; posts 2 and 4 share user 2, cheaper together than
    # posts 1 and 5, which need a new user each.
    assert _ids(selection, POSTS) == {2, 3, 4}
    assert _ids(selection, USERS) == {1, 2}
    assert _ids(selection, USERS, CLOSURE) == {2}


def test_rows_beyond_the_budget_still_come_when_nothing_else_does() -> None:
    parents = [TableName.parse(n) for n in ("a", "b", "c")]
    link = TableName.parse("link")
    schema = Schema(
        (*(_table(p, "id") for p in parents), _table(link, "id", "a_id", "b_id", "c_id")),
        tuple(_fk(link, f"{p.name}_id", p) for p in parents),
    )
    rows = {p: _users(2) for p in parents}
    rows[link] = _rows((1, 2, 2, 2), (2, 2, 2, 2), columns=("id", "a_id", "b_id", "c_id"))
    selection, _ = _plan(schema, rows, default_limit=1)
    # Every link row needs three new parents, more than twice the limit: the last resort
    # takes one anyway, and its parents come along.
    assert _ids(selection, link) == {1}
    assert all(_ids(selection, p) == {1, 2} for p in parents)


def test_an_optional_relation_set_nowhere_gets_a_row_within_the_limit() -> None:
    posts = _rows((1, 1, None), (2, 1, None), (3, 2, 5), columns=("id", "user_id", "editor_id"))
    selection, _ = _plan(_blog(editor=True), {USERS: _users(5), POSTS: posts}, default_limit=2)
    # Posts 1 and 2 fill the limit but leave editor_id unset everywhere: post 3 covers it,
    # and the last row the limit chose makes room.
    assert _ids(selection, POSTS) == {1, 3}
    assert _ids(selection, USERS, CLOSURE) == {5}


def test_a_chain_of_managers_closes_in_one_walk() -> None:
    staff = _table(STAFF, "id", "manager_id", nullable=("manager_id",))
    schema = Schema((staff,), (_fk(STAFF, "manager_id", STAFF),))
    rows = _rows((1, None), (2, 1), (3, 2), (4, 3), (5, 4), columns=("id", "manager_id"))

    def deepest(row: Row) -> bool:
        return row["id"] == "5"

    selection, source = _plan(
        schema, {STAFF: rows}, {"id = 5": deepest}, default_limit=1, where={STAFF: "id = 5"}
    )
    assert _ids(selection, STAFF, LIMIT) == {5}
    assert _ids(selection, STAFF, CLOSURE) == {1, 2, 3, 4}
    assert source.calls["walk"] == selection.closure_rounds == 1


def test_include_brings_the_rows_that_reference_it_beyond_the_limit() -> None:
    posts = _rows((1, 1), (2, 4), (3, 4), columns=("id", "user_id"))

    def fourth(row: Row) -> bool:
        return row["id"] == "4"

    selection, _ = _plan(
        _blog(),
        {USERS: _users(4), POSTS: posts},
        {"id = 4": fourth},
        default_limit=1,
        include=((USERS, "id = 4"),),
    )
    assert _ids(selection, USERS, INCLUDE) == {4}
    assert _ids(selection, POSTS, INCLUDE) == {2, 3}
    # Include rows do not count against the limit: one user and one post more by it.
    assert _ids(selection, USERS, LIMIT) == {1}
    assert _ids(selection, POSTS, LIMIT) == {1}


def test_rows_whose_virtual_reference_matches_nothing_are_left_out() -> None:
    tags = TableName.parse("tags")
    schema = Schema(
        (_table(tags, "id"), _table(POSTS, "id", "tag_id", nullable=("tag_id",))),
        (_fk(POSTS, "tag_id", tags, is_virtual=True),),
    )
    posts = _rows((1, 1), (2, 9), columns=("id", "tag_id"))
    selection, _ = _plan(schema, {tags: _users(2), POSTS: posts}, default_limit=5)
    assert _ids(selection, POSTS) == {1}
    assert len(selection.dropped) == 1
    assert "posts: left out 1 row(s)" in selection.dropped[0]


def test_a_where_matching_nothing_is_an_error_naming_it() -> None:
    with pytest.raises(EmptySelection, match="none match --where"):
        _plan(
            _blog(),
            {USERS: _users(2), POSTS: []},
            {"id > 9": lambda row: int(row["id"] or 0) > 9},
            where={USERS: "id > 9"},
        )


def test_a_condition_the_source_refuses_is_reported_before_any_row_is_read() -> None:
    with pytest.raises(UnknownColumn, match="--where on users"):
        _plan(_blog(), {USERS: _users(2), POSTS: []}, where={USERS: "nosuch = 1"})


def test_tables_that_reference_nothing_are_asked_together() -> None:
    names = [TableName.parse(n) for n in ("a", "b", "c")]
    schema = Schema(tuple(_table(n, "id") for n in names))
    selection, source = _plan(schema, {n: _users(5) for n in names}, default_limit=2)
    assert all(_ids(selection, n) == {1, 2} for n in names)
    assert source.calls["find"] == 1


def test_rows_left_out_take_the_rows_that_reference_them_along() -> None:
    tags = TableName.parse("tags")
    comments = TableName.parse("comments")
    schema = Schema(
        (
            _table(tags, "id"),
            _table(POSTS, "id", "tag_id", nullable=("tag_id",)),
            _table(comments, "id", "post_id"),
        ),
        (_fk(POSTS, "tag_id", tags, is_virtual=True), _fk(comments, "post_id", POSTS)),
    )
    posts = _rows((1, 1), (2, 9), columns=("id", "tag_id"))
    said = _rows((1, 1), (2, 2), (3, 2), columns=("id", "post_id"))
    selection, _ = _plan(schema, {tags: _users(2), POSTS: posts, comments: said}, default_limit=5)
    assert _ids(selection, POSTS) == {1}
    assert _ids(selection, comments) == {1}
    assert selection.dropped == [
        "posts: left out 1 row(s) whose posts(tag_id) -> tags(id) matches no row in the source",
        "comments: left out 2 row(s) whose comments(post_id) -> posts(id) matches no row in the "
        "source",
    ]
