"""A failed verify on SQLite names each row it found wrong: table, key, column and both values
in the fixture's text form (a trigger that rewrote a loaded value, a value edited later)."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from pathlib import Path

from cli_helpers import invoke_assert_code
from engine_scripts import export

from genonaut.seed.core.reports import SAMPLE

TABLE = "CREATE TABLE ev (id INTEGER PRIMARY KEY, at TEXT, note TEXT, b BLOB);"
ROWS = 7
HEX_03, HEX_FF = "\\x03", "\\xff"  # a blob's fixture text: \x and hex, as bytea


def _source(make_db: Callable[..., Path]) -> str:
    values = ", ".join(
        f"({i}, '2020-01-0{i} 10:00:00', 'note {i}', x'0{i}')" for i in range(1, ROWS + 1)
    )
    return f"sqlite:///{make_db(f'{TABLE} INSERT INTO ev VALUES {values};', 'source.sqlite')}"


def _sql(path: Path, *statements: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        found: list[tuple[object, ...]] = []
        for statement in statements:
            found = conn.execute(statement).fetchall()
        conn.commit()
        return found
    finally:
        conn.close()


def _verify(target: Path, seed: Path, flag: str) -> list[str]:
    url = f"sqlite:///{target}"
    done = invoke_assert_code(
        1, "import_seed_to_test", "--database-url", url, "--input-dir", str(seed), flag
    )
    assert "verify FAILED: 1 problem" in done.stdout
    return done.stdout.splitlines()


def test_a_trigger_setting_now_is_named_by_row_and_column(
    make_db: Callable[..., Path], tmp_path: Path
) -> None:
    seed = export(_source(make_db), tmp_path / "seed", 10)
    # SQLite has no BEFORE trigger that sets NEW: the AFTER INSERT one rewrites the row.
    target = make_db(
        f"{TABLE} CREATE TRIGGER ev_now AFTER INSERT ON ev BEGIN "
        "UPDATE ev SET at = datetime('now', '+1 day') WHERE id = NEW.id; END;",
        "target.sqlite",
    )
    lines = _verify(target, seed.directory, "--verify")
    stamped = {int(str(i)): str(at) for i, at in _sql(target, "SELECT id, at FROM ev ORDER BY id")}
    assert len(stamped) == ROWS
    expected = [
        f"differs: ev id={i}: at: fixture '2020-01-0{i} 10:00:00', database '{stamped[i]}'"
        for i in range(1, SAMPLE + 1)
    ]
    assert [line for line in lines if line.startswith("differs: ev ")] == expected
    assert f"  ... and {ROWS - SAMPLE} more rows of ev missing or differing" in lines
    assert [
        line for line in _verify(target, seed.directory, "--verify-only") if "differs" in line
    ] == expected


def test_values_edited_after_a_clean_load_are_named(
    make_db: Callable[..., Path], tmp_path: Path
) -> None:
    seed = export(_source(make_db), tmp_path / "seed", 10)
    target = make_db(TABLE, "target.sqlite")
    url = f"sqlite:///{target}"
    args = ("--database-url", url, "--input-dir", str(seed.directory))
    assert "verify OK" in invoke_assert_code(0, "import_seed_to_test", *args, "--verify").stdout
    _sql(
        target,
        "UPDATE ev SET note = 'edited', b = x'ff' WHERE id = 3",
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
