"""A failed verify on MariaDB names each row it found wrong: table, key, column and both values
in the fixture's text form (a trigger that rewrote a loaded value, a value edited later)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from cli_helpers import invoke_assert_code
from engine_scripts import export
from mariadb_helpers import run

from genonaut.seed.core.reports import SAMPLE

TABLE = "CREATE TABLE ev (id INT PRIMARY KEY, at DATETIME, note VARCHAR(20), b VARBINARY(4))"
ROWS = 7
HEX_03, HEX_FF = "\\x03", "\\xff"  # VARBINARY's fixture text: \x and hex, as bytea


def _source(make_mariadb: Callable[..., str]) -> str:
    source = make_mariadb("verify_source")
    values = ", ".join(
        f"({i}, '2020-01-0{i} 10:00:00', 'note {i}', UNHEX('0{i}'))" for i in range(1, ROWS + 1)
    )
    run(source, TABLE, f"INSERT INTO ev VALUES {values}")
    return source


def _verify(target: str, seed: Path, flag: str) -> list[str]:
    done = invoke_assert_code(
        1, "import_seed_to_test", "--database-url", target, "--input-dir", str(seed), flag
    )
    assert "verify FAILED: 1 problem" in done.stdout
    return done.stdout.splitlines()


def test_a_trigger_setting_now_is_named_by_row_and_column(
    make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    seed = export(_source(make_mariadb), tmp_path / "seed", 10)
    target = make_mariadb("verify_trigger")
    run(
        target,
        TABLE,
        "CREATE TRIGGER ev_now BEFORE INSERT ON ev FOR EACH ROW SET NEW.at = NOW()",
    )
    lines = _verify(target, seed.directory, "--verify")
    stamped = {
        int(str(i)): str(at)
        for i, at in run(target, "SELECT id, CAST(at AS CHAR) FROM ev ORDER BY id")
    }
    assert len(stamped) == ROWS
    expected = [
        f"differs: ev id={i}: at: fixture '2020-01-0{i} 10:00:00', database '{stamped[i]}'"
        for i in range(1, SAMPLE + 1)
    ]
    shown = [line for line in lines if line.startswith("differs: ev ")]
    assert shown == expected
    assert f"  ... and {ROWS - SAMPLE} more rows of ev missing or differing" in lines
    # The same from a verify of its own, after the load.
    assert [
        line for line in _verify(target, seed.directory, "--verify-only") if "differs" in line
    ] == expected


def test_values_edited_after_a_clean_load_are_named(
    make_mariadb: Callable[..., str], tmp_path: Path
) -> None:
    seed = export(_source(make_mariadb), tmp_path / "seed", 10)
    target = make_mariadb("verify_edited")
    run(target, TABLE)
    done = invoke_assert_code(
        0,
        "import_seed_to_test",
        *("--database-url", target, "--input-dir", str(seed.directory), "--verify"),
    )
    assert "verify OK" in done.stdout
    run(
        target,
        "UPDATE ev SET note = 'edited', b = UNHEX('FF') WHERE id = 3",
        "UPDATE ev SET at = NULL WHERE id = 5",
        "DELETE FROM ev WHERE id = 6",
    )
    lines = _verify(target, seed.directory, "--verify-only")
    problems = [line for line in lines if line.startswith(("missing:", "differs:", "rows:"))]
    assert problems == [
        "rows: ev: 1 missing, 2 differing from the fixture",
        "missing: ev id=6",
        "differs: ev id=3: note: fixture 'note 3', database 'edited'; "
        f"b: fixture {HEX_03!r}, database {HEX_FF!r}",
        "differs: ev id=5: at: fixture '2020-01-05 10:00:00', database NULL",
    ]
