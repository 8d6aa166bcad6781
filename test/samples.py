"""Where the public sample databases live (DATASETS_DIR) and what each holds."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def datasets_dir() -> Path:
    return Path(os.environ.get("DATASETS_DIR", REPO.parent / "shared" / "datasets")).resolve()


def expected_rows(name: str) -> dict[str, int]:
    rows = {}
    for line in (datasets_dir() / name / "expected_rows.tsv").read_text().splitlines():
        if line and not line.startswith("#"):
            table, count = line.split("\t")
            rows[table] = int(count)
    return rows
