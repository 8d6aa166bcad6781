"""`make help` lists every target, and the workflow's targets are there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WORKFLOW = {
    "install",
    "test",
    "test-datasets",
    "lint",
    "demo",
    "init-demo",
    "init-test",
    "generate-demo-data",
    "bench",
    "export-demo-seed",
    "import-demo-seed-to-test",
    "refresh-test-seed-from-demo",
    "check-demo-seed",
}


def test_help_lists_every_described_target() -> None:
    text = (REPO / "Makefile").read_text()
    described = set(re.findall(r"^([a-z-]+):.*## ", text, re.MULTILINE))
    assert described >= WORKFLOW
    shown = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed = {line.split()[0] for line in shown.splitlines() if line.strip()}
    assert listed == described


def test_readme_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme
