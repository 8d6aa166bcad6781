"""Make targets a user or CI runs: exit codes and messages that say what went wrong."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import REPO, invoke_assert_code
from db_helpers import run_sql

CHECK = "env/python_venv/bin/python -m genonaut.db.demo.seed_data_gen.export_seed_from_demo --check"


def make(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def test_check_demo_seed_tells_stale_from_broken(
    demo_db_template: str, make_database: Callable[..., str], tmp_path: Path
) -> None:
    url = make_database(template=demo_db_template)
    out = tmp_path / "seed"
    invoke_assert_code(0, "export_seed_from_demo", "--database-url", url, "--output-dir", str(out))
    args = f"ARGS=--database-url {url} --output-dir {out}"
    assert make("check-demo-seed", args).returncode == 0
    run_sql(url, "ALTER TABLE tags ADD COLUMN colour text")
    stale = make("check-demo-seed", args)
    assert "check-demo-seed: exit 1 (stale fixtures)" in stale.stderr
    assert CHECK in stale.stderr
    # The command the README gives CI keeps the script's own code: 1 stale, 2 broken.
    direct = [*CHECK.split(), "--database-url", url, "--output-dir", str(out)]
    assert subprocess.run(direct, cwd=REPO, capture_output=True, check=False).returncode == 1
    broken = subprocess.run([*direct[:-2], str(tmp_path / "none")], cwd=REPO, capture_output=True)
    assert broken.returncode == 2
    assert "exit 2 (error)" in make("check-demo-seed", f"{args}-missing").stderr


@pytest.mark.parametrize(
    ("given", "missing"),
    [("DATABASE_URL_DEMO", "DATABASE_URL_TEST"), ("DATABASE_URL_TEST", "DATABASE_URL_DEMO")],
)
def test_demo_with_one_database_url_names_the_other(given: str, missing: str) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_URL_")}
    env[given] = "postgresql://nobody@127.0.0.1:1/nothing"
    done = make("demo", env=env)
    assert done.returncode == 2
    (error,) = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert f"{given} is set but {missing} is not" in error
    assert "embedded" not in done.stdout
