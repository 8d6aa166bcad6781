"""Triggers of the target fire while loading: a failing one is named with its file and the way
out, one that changes rows shows in --verify, and --disable-triggers keeps them off."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_helpers import run_sql

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed
from genonaut.seed.errors import LoadFailed


def test_a_failing_trigger_names_the_file_and_the_way_out(target: str, seed: Path) -> None:
    run_sql(
        target,
        "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN RAISE EXCEPTION 'no books today'; END$$;"
        "CREATE TRIGGER refuse BEFORE INSERT ON books FOR EACH ROW EXECUTE FUNCTION refuse()",
    )
    with pytest.raises(LoadFailed) as caught:
        import_seed(seed, target)
    assert "books.tsv" in caught.value.message and "no books today" in caught.value.message
    assert "--disable-triggers" in caught.value.hint
    assert run_sql(target, "SELECT count(*) FROM authors") == [(0,)]
    assert import_seed(seed, target, disable_triggers=True).inserted > 0


def test_a_trigger_that_changes_rows_shows_in_verify(target: str, seed: Path) -> None:
    run_sql(
        target,
        "CREATE FUNCTION shout() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN NEW.name := upper(NEW.name); RETURN NEW; END$$;"
        "CREATE TRIGGER shout BEFORE INSERT ON authors FOR EACH ROW EXECUTE FUNCTION shout()",
    )
    import_seed(seed, target)
    by_table = {str(t.table): t for t in verify_seed(seed, target).tables}
    assert by_table["authors"].differing == 200
    import_seed(seed, target, truncate_first=True, cascade=True, disable_triggers=True)
    assert verify_seed(seed, target).ok
