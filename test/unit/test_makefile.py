"""`make help` lists every target with its description, and the workflow's targets are there."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MAKEFILE = (REPO / "Makefile").read_text()
WORKFLOW = {
    "help",
    "install",
    "test",
    "test-datasets",
    "lint",
    "format",
    "demo",
    "init-demo",
    "init-test",
    "generate-demo-data",
    "bench",
    "export-demo-seed",
    "import-demo-seed-to-test",
    "refresh-test-seed-from-demo",
    "reset-test-db",
    "check-demo-seed",
    "clean",
}


def described_targets() -> dict[str, str]:
    return dict(re.findall(r"^([a-z][a-z-]*):[^\n]*?## (.+)$", MAKEFILE, re.MULTILINE))


def phony_targets() -> set[str]:
    declared = re.search(r"^\.PHONY:((?:[^\n]*\\\n)*[^\n]*)", MAKEFILE, re.MULTILINE)
    assert declared, "the Makefile declares its targets .PHONY"
    return set(declared.group(1).replace("\\\n", " ").split())


def make(*args: str) -> str:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_every_workflow_target_is_described() -> None:
    assert set(described_targets()) >= WORKFLOW


def test_every_phony_target_is_described() -> None:
    assert phony_targets() == set(described_targets())


def test_help_lists_every_described_target_with_its_description() -> None:
    shown = {
        line.split(maxsplit=1)[0]: line.split(maxsplit=1)[1]
        for line in make("help").splitlines()
        if line.strip()
    }
    assert shown == described_targets()


def test_help_is_the_default_goal() -> None:
    assert make() == make("help")


def test_make_test_leaves_the_dataset_suite_out() -> None:
    recipe = make("-n", "test", "-W", "env/python_venv/.installed")
    assert "pytest test --ignore=test/datasets" in recipe


def test_readme_names_the_two_commands() -> None:
    readme = (REPO / "README.md").read_text()
    assert "make demo" in readme and "make test" in readme


def test_make_test_names_what_it_runs_and_shows_the_slowest_tests() -> None:
    dry = make("-n", "test", "GENONAUT_TEST_DATABASE_URL=")
    assert "on an embedded PostgreSQL" in dry
    assert "--durations=" in dry
    assert "on GENONAUT_TEST_DATABASE_URL" in make("-n", "test", "GENONAUT_TEST_DATABASE_URL=x")


def test_make_test_datasets_without_datasets_is_one_message(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "--no-print-directory", "test-datasets", f"DATASETS_DIR={tmp_path}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    errors = [x for x in done.stderr.splitlines() if not re.match(r"make(\[\d+\])?: ", x)]
    assert (
        errors[0] == f"Error: no sample databases in DATASETS_DIR={tmp_path} (it holds no load.sh)"
    )
    assert errors[1].startswith("Hint: ") and "DATASETS_DIR=" in errors[1]
    assert len(errors) == 2 and done.stdout == ""


def test_the_readme_gives_ci_the_check_command_that_keeps_its_exit_code() -> None:
    recipe = make("-n", "check-demo-seed")
    command = (
        "env/python_venv/bin/python -m genonaut.db.demo.seed_data_gen.export_seed_from_demo --check"
    )
    assert command in recipe
    assert command in (REPO / "README.md").read_text()
