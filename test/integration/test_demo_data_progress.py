"""The demo-data generator says which table it fills, how far it is, and the time left."""

from __future__ import annotations

import re
import subprocess
import sys

from cli_helpers import REPO


def test_the_generator_names_each_table_with_how_far_and_an_estimate(app_db_url: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "genonaut.db.demo.seed_data_gen",
            "--database-url",
            app_db_url,
            "--scale",
            "0.001",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    steps = [
        re.fullmatch(r"  generate: (\d+)/(\d+) (\w+): about [\d,]+ rows(, about \S+ left)?", x)
        for x in lines
    ]
    assert all(steps), lines
    numbers = [(int(m[1]), int(m[2])) for m in steps if m]
    n = numbers[0][1]
    assert numbers == [(i, n) for i in range(1, n + 1)]
    assert steps[0] and steps[0][3] == "users" and steps[0][4] is None  # nothing to go by yet
    assert all(m and m[4] for m in steps[1:])
    assert done.stdout.splitlines()[-1].startswith("demo data at scale 0.001 in ")
