"""Benchmark: what the seed pytest plugin costs a test, against importing the seed per test.

    python bench/plugin_bench.py [--tests 200] [--database-url URL]

On an embedded PostgreSQL without durability (data on /dev/shm), unless a server is given:
1. the seed template built cold (schema, import, verify, seal) and found again (reused);
2. a session whose template is reused: from starting `python -m pytest` to the first test body;
3. a real pytest run of `--tests` tests on `seeded_db` and as many on `seeded_tx`, timing each
   fixture's setup and the test's teardown (the copy dropped, the transaction rolled back);
4. `import_seed(truncate_first=True)` per test, in-process, as many times; and the importer
   as a whole process (`import_seed_to_test --truncate-first`), `--process-imports` times;
5. the copy alone with each CREATE DATABASE strategy.
Writes bench/results/plugin.md and plugin.csv, and prints PASS/FAIL for each target of the
plugin without failing.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.templates import database_of
from genonaut.seed.pytest_plugin import TemplateServer
from genonaut.seed.pytest_plugin.plugin import build_seed
from genonaut.seed.pytest_plugin.sources import SchemaSource, template_key, template_name

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
SEED = REPO / "test" / "db" / "input" / "rdbms_init_from_demo"

# The plugin's targets (issue 9).
SEEDED_DB_MS = 30.0
SEEDED_TX_MS = 2.0
FASTER_THAN_IMPORT = 30.0
SESSION_START_S = 1.0
PROCESS_IMPORT = "import_seed_to_test per test (a whole process)"

TIMING_CONFTEST = """
import json, os, time
import pytest

SEEN = {"seeded_db": [], "seeded_tx": [], "teardown_db": [], "teardown_tx": []}


@pytest.hookimpl(wrapper=True)
def pytest_fixture_setup(fixturedef, request):
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        if fixturedef.argname in ("seeded_db", "seeded_tx"):
            SEEN[fixturedef.argname].append(time.perf_counter() - started)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    started = time.perf_counter()
    try:
        return (yield)
    finally:
        kind = "teardown_db" if "seeded_db" in item.fixturenames else "teardown_tx"
        SEEN[kind].append(time.perf_counter() - started)


def pytest_sessionfinish(session):
    with open(os.environ["BENCH_TIMES"], "w") as out:
        json.dump(SEEN, out)
"""

FIRST_TEST = """
import os, time


def test_first(seeded_db):
    with open(os.environ["BENCH_FIRST"], "w") as out:
        out.write(repr(time.time()))
"""


@dataclass(frozen=True)
class Row:
    measure: str
    count: int
    median_ms: float
    p95_ms: float


def p95(values: Sequence[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def row(measure: str, seconds: Sequence[float]) -> Row:
    ms = [s * 1000 for s in seconds]
    return Row(measure, len(ms), statistics.median(ms), p95(ms))


@contextmanager
def server(database_url: str | None) -> Iterator[str]:
    if database_url:
        yield database_url
        return
    from genonaut.db.embedded import EmbeddedServer, scratch_root

    with (
        tempfile.TemporaryDirectory(prefix="genonaut-bench-", dir=scratch_root()) as scratch,
        EmbeddedServer(Path(scratch) / "data", keep_data=False, durable=False) as embedded,
    ):
        yield embedded.admin_url


def run_pytest(project: Path, env: dict[str, str], *args: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise SystemExit(f"pytest failed in {project}:\n{done.stdout}\n{done.stderr}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="plugin_bench", description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=200, help="tests per fixture (200)")
    parser.add_argument(
        "--process-imports",
        type=int,
        default=20,
        help="runs of the importer as a whole process (20; each takes about a second)",
    )
    parser.add_argument("--database-url", help="a server of your own (role with CREATEDB)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)

    rows: list[Row] = []
    with server(args.database_url) as admin_url:
        templates = TemplateServer(admin_url)
        schema = SchemaSource.parse("app", REPO)
        key = template_key(schema, SEED, templates.major)
        name = template_name(key)
        print(f"server: PostgreSQL {templates.major}, copies by {templates.strategy}", flush=True)

        # 1. The template, cold and reused.
        templates.drop(name)
        build = build_seed(schema, SEED)
        cold = templates.ensure_template(name, key=key, family="bench", build=build)
        reused = templates.ensure_template(name, key=key, family="bench", build=build)
        assert cold.built and not reused.built
        rows += [
            row("template build, cold", [cold.seconds]),
            row("template found, reused", [reused.seconds]),
        ]

        with tempfile.TemporaryDirectory(prefix="genonaut-bench-project-") as scratch:
            project = Path(scratch)
            (project / "pytest.ini").write_text(f"[pytest]\nseed_fixtures = {SEED}\n")
            times = project / "times.json"
            env = {**os.environ, "GENONAUT_TEST_DATABASE_URL": admin_url}
            env.update(BENCH_TIMES=str(times), BENCH_FIRST=str(project / "first"))
            env.pop("PYTEST_ADDOPTS", None)

            # 2. A session whose template is reused: process start to the first test body.
            (project / "test_first.py").write_text(FIRST_TEST)
            starts = []
            for _ in range(5):
                started = time.time()
                run_pytest(project, env, "test_first.py")
                starts.append(float((project / "first").read_text()) - started)
            rows.append(row("session start, template reused (process start to first test)", starts))

            # 3. Many tests on seeded_db and seeded_tx, in one real pytest run.
            (project / "conftest.py").write_text(TIMING_CONFTEST)
            (project / "test_many.py").write_text(
                textwrap.dedent(f"""
                import pytest

                @pytest.mark.parametrize("i", range({args.tests}))
                def test_db(seeded_db, i):
                    pass

                @pytest.mark.parametrize("i", range({args.tests}))
                def test_tx(seeded_tx, i):
                    seeded_tx.cursor().execute("SELECT 1")
                """)
            )
            run_pytest(project, env, "test_many.py")
            seen = json.loads(times.read_text())
            db = [a + b for a, b in zip(seen["seeded_db"], seen["teardown_db"], strict=True)]
            tx = [a + b for a, b in zip(seen["seeded_tx"], seen["teardown_tx"], strict=True)]
            rows += [
                row("seeded_db: copy before the test", seen["seeded_db"]),
                row("seeded_db: copy + drop, per test", db),
                row("seeded_tx: begin + rollback, per test", tx),
            ]

        # 4. Importing the seed per test (in-process, into one database with the schema).
        target = templates.copy(templates_app(templates, schema))
        imports = []
        for _ in range(args.tests):
            started = time.perf_counter()
            import_seed(SEED, target, truncate_first=True)
            imports.append(time.perf_counter() - started)
        rows.append(row("import_seed per test (truncate + load, in-process)", imports))
        command = [sys.executable, "-m", "genonaut.db.demo.seed_data_gen.import_seed_to_test"]
        command += ["--database-url", target, "--truncate-first", "--verbosity", "quiet"]
        processes = []
        for _ in range(args.process_imports):
            started = time.perf_counter()
            subprocess.run(command, check=True, capture_output=True, cwd=REPO)
            processes.append(time.perf_counter() - started)
        rows.append(row(PROCESS_IMPORT, processes))
        templates.drop(database_of(target))

        # 5. The copy alone, by strategy.
        for strategy in ("file_copy", "wal_log"):
            forced = TemplateServer(admin_url, strategy=strategy)
            copies = []
            for _ in range(args.tests):
                started = time.perf_counter()
                url = forced.copy(name)
                copies.append(time.perf_counter() - started)
                forced.drop(database_of(url))
            forced.close()
            rows.append(row(f"copy alone, STRATEGY {strategy.upper()}", copies))
        templates.drop(name)
        templates.close()

    write(args.out, rows)
    return 0


def templates_app(templates: TemplateServer, schema: SchemaSource) -> str:
    """A sealed template with the app's schema and no rows, for the import runs."""
    return templates.ensure_template(
        "gnseed_bench_app", key="0" * 16, family="bench-app", build=schema.create
    ).name


def verdicts(rows: Sequence[Row]) -> list[tuple[str, bool, str]]:
    by = {r.measure: r for r in rows}
    copy = by["seeded_db: copy before the test"]
    per_test = by["seeded_db: copy + drop, per test"]
    tx = by["seeded_tx: begin + rollback, per test"]
    imp = by["import_seed per test (truncate + load, in-process)"]
    start = by["session start, template reused (process start to first test)"]
    ratio = imp.median_ms / per_test.median_ms
    process_ratio = by[PROCESS_IMPORT].median_ms / per_test.median_ms
    return [
        (
            f"seeded_db median <= {SEEDED_DB_MS:.0f} ms",
            copy.median_ms <= SEEDED_DB_MS,
            f"{copy.median_ms:.1f} ms (copy + drop {per_test.median_ms:.1f} ms)",
        ),
        (
            f"seeded_db >= {FASTER_THAN_IMPORT:.0f}x faster than import_seed per test",
            ratio >= FASTER_THAN_IMPORT,
            f"{ratio:.0f}x (copy + drop against an in-process import)",
        ),
        (
            f"seeded_db >= {FASTER_THAN_IMPORT:.0f}x faster than the importer run per test",
            process_ratio >= FASTER_THAN_IMPORT,
            f"{process_ratio:.0f}x (copy + drop against import_seed_to_test as a process)",
        ),
        (
            f"seeded_tx median <= {SEEDED_TX_MS:.0f} ms",
            tx.median_ms <= SEEDED_TX_MS,
            f"{tx.median_ms:.2f} ms",
        ),
        (
            f"session with a reused template starts within {SESSION_START_S:.0f} s",
            start.median_ms / 1000 <= SESSION_START_S,
            f"{start.median_ms / 1000:.2f} s",
        ),
    ]


def write(out: Path, rows: Sequence[Row]) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with (out / "plugin.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["measure", "count", "median_ms", "p95_ms"])
        writer.writerows(
            [r.measure, r.count, f"{r.median_ms:.3f}", f"{r.p95_ms:.3f}"] for r in rows
        )
    lines = [
        "# The seed pytest plugin: cost per test",
        "",
        "Written by `bench/plugin_bench.py` (`make bench`). Embedded PostgreSQL without "
        "durability, data on /dev/shm, unless `--database-url` was given.",
        "",
        "| measure | n | median ms | p95 ms |",
        "|---|---:|---:|---:|",
        *[f"| {r.measure} | {r.count} | {r.median_ms:.2f} | {r.p95_ms:.2f} |" for r in rows],
        "",
        "| target | verdict | measured |",
        "|---|---|---|",
        *[f"| {t} | {'PASS' if ok else 'FAIL'} | {m} |" for t, ok, m in verdicts(rows)],
        "",
    ]
    (out / "plugin.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
