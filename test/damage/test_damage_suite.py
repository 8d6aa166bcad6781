"""Generated damage, imported and verified: every mutated fixture directory is either refused
with one SeedError naming the file (and line where there is one) and the target exactly as it
was, rows and sequences, or accepted and then verified.

The target holds no fixture rows, so an accepted fixture verifies whole, and a bystander
table with rows; sequences start moved. A fixed seed makes the cases the same on every run:
`make test` runs DAMAGE_CASES of them; `make test-datasets` sets GENONAUT_DAMAGE_CASES higher.
"""

from __future__ import annotations

import os
import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from db_helpers import run_sql
from fixture_damage import Mutation, TargetState, mutations
from import_fixtures import SCHEMA, seed_rows, write_fixture

from genonaut.seed.core.fixture_format import MANIFEST
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed
from genonaut.seed.errors import FixtureError, SeedError

SEED = 20260801
DAMAGE_CASES = 256
# A bystander table the fixture does not touch, and sequences moved away from their start.
BYSTANDER = """
CREATE TABLE bystander (id serial PRIMARY KEY, note text);
INSERT INTO bystander (note) SELECT 'row ' || g FROM generate_series(1, 7) g;
"""


def case_count() -> int:
    return int(os.environ.get("GENONAUT_DAMAGE_CASES") or DAMAGE_CASES)


def _names_a_file(message: str, directory: Path, mutation: Mutation) -> bool:
    files = {p.name for p in directory.iterdir()} | {MANIFEST, mutation.file}
    return any(name and name in message for name in files) or str(directory) in message


@pytest.fixture
def damage_target(empty_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A target with the fixture's tables empty, a bystander table with rows, and sequences
    moved away from their start (one ahead of anything the fixture holds); the pristine
    fixture."""
    url = empty_db_url
    run_sql(url, SCHEMA + BYSTANDER)
    run_sql(
        url,
        "SELECT setval('bystander_id_seq', 40), setval('ticket_seq', 7), "
        "setval('authors_id_seq', 1000)",
    )
    pristine = write_fixture(tmp_path_factory.mktemp("pristine") / "seed", seed_rows())
    return url, pristine


def test_every_mutation_is_refused_cleanly_or_accepted_and_verified(
    damage_target: tuple[str, Path], tmp_path: Path
) -> None:
    url, pristine = damage_target
    target = TargetState(url)
    state = target.read
    initial = state()
    loaded = [name for name, _ in seed_rows().items()]
    outcomes: Counter[tuple[str, str]] = Counter()
    with_line = Counter[str]()
    failures: list[str] = []
    for number, mutation in enumerate(mutations(SEED, case_count(), pristine)):
        work = tmp_path / f"case{number}" / "seed"
        shutil.copytree(pristine, work, symlinks=True)
        mutation.apply(work)
        label = f"case {number} ({mutation.kind}: {mutation.detail})"
        try:
            import_seed(work, url)
        except SeedError as exc:
            outcomes[mutation.kind, "refused"] += 1
            with_line[mutation.kind] += bool(re.search(r"\blines? \d+", exc.message))
            if not _names_a_file(exc.message, work, mutation):
                failures.append(f"{label}: the error names no file: {exc.message}")
            if state() != initial:
                failures.append(f"{label}: refused ({exc.message}) but the target changed")
                target.empty(loaded, initial)
            continue
        try:
            report = verify_seed(work, url, condition_timeout=2)
        except FixtureError as exc:
            # A condition that is one expression but fails or runs too long: verify refuses
            # it naming manifest.json. The import does not run conditions.
            outcomes[mutation.kind, "accepted, condition refused by verify"] += 1
            if MANIFEST not in exc.message:
                failures.append(f"{label}: verify refused without naming {MANIFEST}: {exc}")
        else:
            outcomes[mutation.kind, "accepted and verified"] += 1
            if not report.ok:
                failures.append(f"{label}: accepted, but verify failed:\n{report.as_table()}")
        target.empty(loaded, initial)
        if state() != initial:
            failures.append(f"{label}: restoring the target did not give its first state")
    summary = "\n".join(
        f"  {kind:18} {outcome:40} {n:5}"
        + (f"  ({with_line[kind]} name a line)" if outcome == "refused" else "")
        for (kind, outcome), n in sorted(outcomes.items())
    )
    target.conn.close()
    print(f"\ndamage suite, seed {SEED}, {case_count()} cases:\n{summary}")
    assert not failures, "\n".join(failures[:20])
    assert sum(outcomes.values()) == case_count()
    # Each class is exercised, and at least the hostile ones are refused every time.
    kinds = {kind for kind, _ in outcomes}
    assert len(kinds) == 8
    for kind in ("hostile path", "manifest edit"):
        assert outcomes[kind, "accepted and verified"] <= outcomes[kind, "refused"]
