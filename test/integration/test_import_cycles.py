"""Cycles PostgreSQL will not load in one statement (a table with rules refuses data-modifying
CTEs): deferrable constraints are the way out, and without one the error says so."""

from __future__ import annotations

from pathlib import Path

import pytest
from db_helpers import run_sql
from import_fixtures import seed_rows

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed
from genonaut.seed.errors import LoadFailed, UnbreakableCycle

# A DO ALSO rule: ordinary inserts work, a data-modifying CTE on ships is refused.
RULE = """
CREATE TABLE ship_log (ship_id int);
CREATE RULE log_ships AS ON INSERT TO ships DO ALSO INSERT INTO ship_log VALUES (NEW.id);
"""
DEFERRABLE = """
ALTER TABLE ships DROP CONSTRAINT ships_captain_id_fkey;
ALTER TABLE ships ADD CONSTRAINT ships_captain_id_fkey FOREIGN KEY (captain_id)
    REFERENCES sailors DEFERRABLE;
"""


def test_a_cycle_with_a_rule_loads_through_its_deferrable_constraint(
    target: str, seed: Path
) -> None:
    run_sql(target, RULE + DEFERRABLE)
    report = import_seed(seed, target)
    assert {str(t.table): t.inserted for t in report.tables}["sailors"] == 9
    assert run_sql(target, "SELECT count(*) FROM ships") == [(3,)]
    assert verify_seed(seed, target).ok
    assert import_seed(seed, target).inserted == 0


def test_a_missing_parent_in_such_a_cycle_is_named_as_one(target: str, seed: Path) -> None:
    run_sql(target, RULE + DEFERRABLE)
    spec = seed_rows()
    path = seed / "ships.tsv"
    path.write_bytes(path.read_bytes().replace(b"1\t10\n", b"1\t19\n"))
    assert spec["ships"][1][0] == ("1", "10")
    with pytest.raises(LoadFailed) as caught:
        import_seed(seed, target)
    assert "ships_captain_id_fkey" in caught.value.message
    assert "Key (captain_id)=(19)" in caught.value.message
    assert run_sql(target, "SELECT count(*) FROM ships") == [(0,)]


def test_without_a_deferrable_constraint_the_error_names_them_and_the_ways_out(
    target: str, seed: Path
) -> None:
    run_sql(target, RULE)
    with pytest.raises(UnbreakableCycle) as caught:
        import_seed(seed, target)
    message = caught.value.message
    assert "ships.ships_captain_id_fkey" in message and "sailors.sailors_ship_id_fkey" in message
    assert "DEFERRABLE" in caught.value.hint and "rules" in caught.value.hint
    assert run_sql(target, "SELECT count(*) FROM authors") == [(0,)]
