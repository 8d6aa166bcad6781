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


def test_a_trigger_writing_elsewhere_is_blamed_on_the_loaded_table(target: str, seed: Path) -> None:
    """authors' insert trigger writes into tickets_a a row whose book does not exist: the error
    names authors' file and the trigger function, not tickets_a and --tables."""
    run_sql(
        target,
        "CREATE FUNCTION ticket_for_author() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN INSERT INTO tickets_a (book_id) VALUES (-NEW.id); RETURN NEW; END$$;"
        "CREATE TRIGGER ticket AFTER INSERT ON authors FOR EACH ROW "
        "EXECUTE FUNCTION ticket_for_author()",
    )
    with pytest.raises(LoadFailed) as caught:
        import_seed(seed, target)
    message = caught.value.message
    assert message.startswith("authors (") and "authors.tsv" in message
    assert "ticket_for_author()" in message
    assert "tickets_a" in message  # the database's own words still say where it failed
    assert "--disable-triggers" in caught.value.hint and "--tables" not in caught.value.hint


def test_a_trigger_naming_a_table_without_its_schema_gets_a_search_path_hint(
    target: str, seed: Path
) -> None:
    run_sql(
        target,
        "CREATE SCHEMA audit; CREATE TABLE audit.log (what text);"
        "CREATE FUNCTION log_author() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN INSERT INTO log VALUES (NEW.name); RETURN NEW; END$$;"
        "CREATE TRIGGER log_author AFTER INSERT ON authors FOR EACH ROW "
        "EXECUTE FUNCTION log_author()",
    )
    with pytest.raises(LoadFailed) as caught:
        import_seed(seed, target)
    assert "log_author()" in caught.value.message and "authors.tsv" in caught.value.message
    assert "search_path" in caught.value.hint and "PGOPTIONS" in caught.value.hint
