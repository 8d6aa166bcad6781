"""Run the command-line scripts as a user would, and check what they say."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = "genonaut.db.demo.seed_data_gen"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


def invoke(script: str, *args: str, cwd: Path = REPO) -> Outcome:
    """Run `python -m genonaut.db.demo.seed_data_gen.<script> args...`."""
    done = subprocess.run(
        [sys.executable, "-m", f"{PACKAGE}.{script}", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )
    return Outcome(done.returncode, done.stdout, done.stderr)


def invoke_assert_code(expected: int, script: str, *args: str, cwd: Path = REPO) -> Outcome:
    outcome = invoke(script, *args, cwd=cwd)
    assert outcome.code == expected, (
        f"exit {outcome.code}, expected {expected}\nstdout:\n{outcome.stdout}\n"
        f"stderr:\n{outcome.stderr}"
    )
    if expected == 2:
        lines = outcome.stderr.strip().splitlines()
        assert lines and lines[0].startswith("Error: "), outcome.stderr
        assert "Traceback" not in outcome.stderr
    return outcome
