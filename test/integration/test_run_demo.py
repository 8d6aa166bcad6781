"""`make demo`'s runner, end to end against the test server: init, generate, export, import."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from db_helpers import run_sql

from genonaut.seed.core.fixture_format import read_manifest

REPO = Path(__file__).resolve().parents[2]


def test_demo_runs_the_whole_workflow(make_database: Callable[..., str], tmp_path: Path) -> None:
    demo, test = make_database(), make_database()
    out = tmp_path / "demo-seed"
    env = dict(os.environ, DATABASE_URL_DEMO=demo, DATABASE_URL_TEST=test)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "genonaut.db.demo.run_demo",
            "--scale",
            "0.001",
            "--output-dir",
            str(out),
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "ran on the configured servers" in done.stdout
    assert "verify OK" in done.stdout
    manifest = read_manifest(out)
    for table in manifest.tables:
        name = table.name
        (count,) = run_sql(test, f'SELECT count(*) FROM "{name.schema}"."{name.name}"')[0]
        assert count == table.rows, name


def test_generator_refuses_to_fill_a_database_twice_without_replace(app_db_url: str) -> None:
    def generate(*more: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "genonaut.db.demo.seed_data_gen",
                "--database-url",
                app_db_url,
                "--scale",
                "0.001",
                *more,
            ],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=300,
        )

    assert generate().returncode == 0
    (users,) = run_sql(app_db_url, "SELECT count(*) FROM users")[0]
    again = generate()
    assert again.returncode == 2
    assert again.stderr.startswith("Error: ") and "--replace" in again.stderr
    assert generate("--replace").returncode == 0
    assert run_sql(app_db_url, "SELECT count(*) FROM users")[0][0] == users
