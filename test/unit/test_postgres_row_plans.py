"""Decisions of PostgreSQL's row source that need no database: which scans the requests of one
statement share, and when the head of a table is not worth trying."""

from __future__ import annotations

from dataclasses import replace

from genonaut.seed.core.row_source import KEY_ORDER, Filter, Find, Order, Projection, RefersTo
from genonaut.seed.core.schema_graph import Column, ForeignKey, Schema, Table, TableName
from genonaut.seed.engines.postgres.row_source import expected_in_head, shared_scans

LINKS = TableName.parse("links")
LEFT, RIGHT = TableName.parse("left_side"), TableName.parse("right_side")
TABLE = Table(
    LINKS, (Column("left_id", "integer"), Column("right_id", "integer")), ("left_id", "right_id")
)
TO_LEFT = ForeignKey("to_left", LINKS, ("left_id",), LEFT, ("id",))
TO_RIGHT = ForeignKey("to_right", LINKS, ("right_id",), RIGHT, ("id",))
PROJECTION = Projection(TABLE, TABLE.primary_key, (TO_LEFT, TO_RIGHT), ())


def _find(fk: ForeignKey, keys: set[str], order: Order, **kw: object) -> Find:
    chosen = Filter(RefersTo(fk, frozenset((k,) for k in keys)), is_selective=True)
    return Find(PROJECTION, (chosen,), order, 100, **kw)  # type: ignore[arg-type]


def test_requests_reading_the_same_children_share_one_scan() -> None:
    by_left = Order(grouped=("left_id",))
    by_right = Order(grouped=("right_id",))
    shared = shared_scans(
        [_find(TO_RIGHT, {"1", "2"}, by_left), _find(TO_RIGHT, {"2", "1"}, by_right)]
    )
    assert list(shared) == [(LINKS, RefersTo(TO_RIGHT, frozenset({("1",), ("2",)})))]


def test_other_key_lists_and_requests_that_may_stop_early_do_not_share() -> None:
    grouped = Order(grouped=("left_id",))
    other_keys = [_find(TO_RIGHT, {"1"}, grouped), _find(TO_RIGHT, {"2"}, grouped)]
    # A request in key order first tries the head of the table, and may never read the scan.
    head_first = [_find(TO_RIGHT, {"1"}, grouped), _find(TO_RIGHT, {"1"}, KEY_ORDER)]
    fallback = replace(_find(TO_LEFT, {"9"}, grouped), otherwise=_find(TO_RIGHT, {"1"}, grouped))
    assert shared_scans(other_keys) == {}
    assert shared_scans(head_first) == {}
    assert shared_scans([fallback, _find(TO_RIGHT, {"1"}, grouped)]) == {}


def test_the_head_is_skipped_when_the_chosen_parents_are_a_small_share() -> None:
    parents = (Column("id", "integer"),)
    schema = Schema(
        (
            TABLE,
            Table(LEFT, parents, ("id",), estimated_rows=1000),
            Table(RIGHT, parents, ("id",), estimated_rows=0),  # never analyzed: no estimate
        ),
        (TO_LEFT, TO_RIGHT),
    )
    ten = _find(TO_LEFT, {str(i) for i in range(10)}, KEY_ORDER)
    assert expected_in_head(schema, ten, 5000) == 50  # 1% of 5000 rows: fewer than 100
    both = replace(ten, filters=(*ten.filters, *_find(TO_RIGHT, {"1"}, KEY_ORDER).filters))
    assert expected_in_head(schema, both, 5000) == 50  # no estimate, no guess
    assert expected_in_head(schema, _find(TO_RIGHT, {"1"}, KEY_ORDER), 5000) == 5000
