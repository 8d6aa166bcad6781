"""Ctrl-C while work is under way: one line saying what was left as it was, exit 130, no
traceback, and the fixtures or the target untouched. SIGINT goes to the process group, as a
terminal sends it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import PACKAGE, REPO, invoke_assert_code
from db_helpers import run_sql
from import_fixtures import counts

INTERRUPTED = 130


def interrupt_when(
    argv: list[str],
    ready: Callable[[str], bool],
    *,
    merged: bool = False,
    delay: float = 0.5,
    **kwargs: object,
) -> tuple[int, str]:
    """Run argv; once a line of its stderr (`merged`: of stdout and stderr) satisfies `ready`,
    send SIGINT to its group. Its exit code and the whole of what was read."""
    with subprocess.Popen(
        argv,
        cwd=REPO,
        stdout=subprocess.PIPE if merged else subprocess.DEVNULL,
        stderr=subprocess.STDOUT if merged else subprocess.PIPE,
        text=True,
        start_new_session=True,
        **kwargs,  # type: ignore[call-overload]
    ) as process:
        seen = []
        stream = process.stdout if merged else process.stderr
        assert stream is not None
        for line in stream:
            seen.append(line)
            if ready(line):
                break
        else:
            raise AssertionError(f"ended ({process.wait()}) before it was interrupted: {seen}")
        time.sleep(delay)  # 0.5 s: well inside the statement that sleeps
        os.killpg(process.pid, signal.SIGINT)
        rest = stream.read()
        return process.wait(timeout=60), "".join(seen) + rest


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def test_an_interrupted_export_leaves_the_fixtures_as_they_were(
    demo_db_url: str, tmp_path: Path
) -> None:
    out = tmp_path / "seed"
    invoke_assert_code(
        0, "export_seed_from_demo", "--database-url", demo_db_url, "--output-dir", str(out)
    )
    before = snapshot(out)
    code, stderr = interrupt_when(
        [
            sys.executable,
            "-m",
            f"{PACKAGE}.export_seed_from_demo",
            "--database-url",
            demo_db_url,
            "--output-dir",
            str(out),
            "--default-limit",
            "5",
            "--where",
            "users=(SELECT true FROM pg_sleep(3))",
            "--verbosity",
            "debug",
        ],
        lambda line: "pg_sleep" in line,
    )
    assert code == INTERRUPTED, stderr
    assert stderr.splitlines()[-1] == f"interrupted: the fixtures in {out} are unchanged"
    assert "Traceback" not in stderr
    assert snapshot(out) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["seed"]  # no scratch directory left


def test_an_interrupted_import_writes_nothing(target: str, seed: Path) -> None:
    run_sql(
        target,
        "CREATE FUNCTION slow() RETURNS trigger LANGUAGE plpgsql AS "
        "$$BEGIN PERFORM pg_sleep(3); RETURN NULL; END$$;"
        "CREATE TRIGGER slow BEFORE INSERT ON books FOR EACH STATEMENT EXECUTE FUNCTION slow()",
    )
    tables = ["authors", "books", "categories", "tickets_a", "events"]
    code, stderr = interrupt_when(
        [
            sys.executable,
            "-m",
            f"{PACKAGE}.import_seed_to_test",
            "--database-url",
            target,
            "--input-dir",
            str(seed),
        ],
        lambda line: line.startswith("  import: 1/12 authors"),
    )
    assert code == INTERRUPTED, stderr
    assert stderr.splitlines()[-1] == (
        "interrupted: nothing was written: the import rolled back as a whole"
    )
    assert "Traceback" not in stderr
    assert set(counts(target, tables).values()) == {0}


@pytest.mark.parametrize("delay", [0.0, 0.5])  # at once: while the step is starting up
def test_an_interrupted_demo_says_which_step_and_stops(
    make_database: Callable[..., str], tmp_path: Path, delay: float
) -> None:
    demo, test = make_database(), make_database()
    out = tmp_path / "demo-seed"
    env = dict(os.environ, DATABASE_URL_DEMO=demo, DATABASE_URL_TEST=test)
    code, stderr = interrupt_when(
        [
            sys.executable,
            "-m",
            "genonaut.db.demo.run_demo",
            "--scale",
            "0.05",
            "--output-dir",
            str(out),
        ],
        lambda line: line.startswith("==> generate demo data"),
        merged=True,
        delay=delay,
        env=env,
    )
    assert code == INTERRUPTED, stderr
    assert stderr.splitlines()[-1] == (
        "interrupted during 'generate demo data (scale 0.05)': the committed fixtures are unchanged"
    )
    assert "Traceback" not in stderr
    assert not out.exists()
    assert run_sql(demo, "SELECT count(*) FROM users") == [(0,)]
