"""SIGKILL at random moments: a killed import leaves the target as it was (rows and
sequences) or, if it got as far as COMMIT, holding the whole fixture; a killed export leaves
the previous fixtures or the complete new ones, and the next export removes its scratch.

The moments come from a fixed seed; GENONAUT_KILL_CASES sets how many kills of each tool
(`make test-datasets` runs more).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import PACKAGE, REPO
from db_helpers import run_sql
from fixture_damage import TargetState
from import_fixtures import SCHEMA, seed_rows, write_fixture

from genonaut.seed.commands.export import export_seed
from genonaut.seed.core.settings import ExportSettings
from genonaut.seed.engines.postgres.loader import import_seed

SEED = 7001
KILL_CASES = 8


def kill_count() -> int:
    return int(os.environ.get("GENONAUT_KILL_CASES") or KILL_CASES)


def _start(script: str, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", f"{PACKAGE}.{script}", *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _run_and_kill(command: tuple[str, ...], delay: float) -> int | None:
    """Start the command, SIGKILL it after `delay` seconds; its exit code if it ended first."""
    process = _start(*command)
    try:
        return process.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.wait()
        return None


def _timed(command: tuple[str, ...]) -> float:
    started = time.monotonic()
    assert _start(*command).wait(timeout=300) == 0
    return time.monotonic() - started


def _changed_rows() -> dict[str, Any]:
    """The seed with other names and more tickets: a different state, other sequences."""
    spec = seed_rows()
    columns, rows = spec["authors"]
    spec["authors"] = (columns, [(i, f"renamed {i}", d) for i, _, d in rows])
    spec["tickets_b"] = (("id",), [(str(i),) for i in range(100, 161)])
    return spec


def test_a_killed_import_leaves_the_target_whole(empty_db_url: str, tmp_path: Path) -> None:
    url = empty_db_url
    run_sql(url, SCHEMA)
    pristine = write_fixture(tmp_path / "pristine", seed_rows())
    changed = write_fixture(tmp_path / "changed", _changed_rows())
    import_seed(pristine, url, truncate_first=True, cascade=True)
    target = TargetState(url)
    before = target.read()
    import_seed(changed, url, truncate_first=True, cascade=True)
    after = target.read()
    assert after != before
    target.restore(pristine, before)
    assert target.read() == before
    command = (
        "import_seed_to_test",
        *("--database-url", url, "--input-dir", str(changed)),
        *("--truncate-first", "--cascade", "--verbosity", "quiet"),
    )
    duration = _timed(command)
    assert target.read() == after
    target.restore(pristine, before)
    rng = random.Random(SEED)
    outcomes = {"unchanged": 0, "complete": 0}
    for _ in range(kill_count()):
        code = _run_and_kill(command, duration * rng.uniform(0.4, 1.1))
        assert code in (None, 0)
        now = target.read()
        assert now in (before, after), "a killed import left the target half-loaded"
        outcomes["unchanged" if now == before else "complete"] += 1
        if now == after:
            target.restore(pristine, before)
    target.conn.close()
    print(f"\nimport kills: {outcomes}")
    assert sum(outcomes.values()) == kill_count()


def _files(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_a_killed_export_leaves_the_previous_fixtures_or_the_new_ones(
    empty_db_url: str, tmp_path: Path
) -> None:
    url = empty_db_url
    run_sql(url, SCHEMA)
    import_seed(write_fixture(tmp_path / "source", seed_rows()), url)
    out = tmp_path / "out" / "seed"
    export_seed(ExportSettings(url, tmp_path / "new", default_limit=20))
    new = _files(tmp_path / "new")
    export_seed(ExportSettings(url, out, default_limit=3))
    previous = _files(out)
    assert previous != new
    command = (
        "export_seed_from_demo",
        *("--database-url", url, "--no-config", "--output-dir", str(out)),
        *("--default-limit", "20", "--verbosity", "quiet"),
    )
    duration = _timed(command)
    assert _files(out) == new
    export_seed(ExportSettings(url, out, default_limit=3))
    rng = random.Random(SEED)
    outcomes = {"previous": 0, "new": 0}
    for _ in range(kill_count()):
        code = _run_and_kill(command, duration * rng.uniform(0.4, 1.1))
        assert code in (None, 0)
        assert out.is_dir(), "a killed export left no fixture directory"
        now = _files(out)
        assert now in (previous, new), "a killed export left a mixed fixture directory"
        outcomes["previous" if now == previous else "new"] += 1
        if now == new:
            export_seed(ExportSettings(url, out, default_limit=3))
    export_seed(ExportSettings(url, out, default_limit=3))
    assert sorted(p.name for p in out.parent.iterdir()) == ["seed"]
    print(f"\nexport kills: {outcomes}")
    assert sum(outcomes.values()) == kill_count()


@pytest.mark.parametrize("kind", ["new", "old"])
def test_the_next_export_removes_scratch_of_killed_runs(
    empty_db_url: str, tmp_path: Path, kind: str
) -> None:
    run_sql(empty_db_url, SCHEMA)
    import_seed(write_fixture(tmp_path / "source", seed_rows()), empty_db_url)
    out = tmp_path / "out" / "seed"
    export_seed(ExportSettings(empty_db_url, out, default_limit=3))
    stale = out.parent / f".seed.{kind}-killed"
    (stale / "seed").mkdir(parents=True)
    (stale / "seed" / "x.tsv").write_text("x")
    export_seed(ExportSettings(empty_db_url, out, default_limit=3))
    assert sorted(p.name for p in out.parent.iterdir()) == ["seed"]
