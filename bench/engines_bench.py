"""Benchmark: export and import of the sample databases on each engine, run as a user runs them.

    python bench/engines_bench.py [--runs 3]

For each sample database (chinook on PostgreSQL, chinook_mariadb on MariaDB, chinook_sqlite and
sakila_sqlite on SQLite; loaded from DATASETS_DIR, default ../shared/datasets, by its load.sh or
load_other.sh) it measures the export script (limit 100) and the import script into an empty
copy of the schema (a fresh copy per run, made and dropped outside the measurement through the
engine adapter's copy_database and drop_database), each as a whole process after a warm-up:
medians of wall time, CPU time of the process, peak memory, and the statements and rows the
scripts' summary lines report.

Servers: PostgreSQL from GENONAUT_BENCH_DATABASE_URL (a maintenance database), else an embedded
server as bench/run_bench.py starts; MariaDB from GENONAUT_MARIADB_URL (default
mysql://root@127.0.0.1:3306/). An engine whose server does not answer, or a sample that is not
there, is skipped with its reason printed and written to the results: this is a benchmark, not
a test. Writes bench/results/engines.md and engines.csv.
"""

from __future__ import annotations

import argparse
import csv
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, ExitStack, contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import psycopg2
import pymysql
from run_bench import PACKAGE, REPO, RESULTS, Measured, measure, python, server, sql, with_database
from sqlalchemy.engine import make_url

from genonaut.seed.engines import engine_for
from genonaut.seed.errors import SeedError

LIMIT = 100
DEFAULT_MARIADB_URL = "mysql://root@127.0.0.1:3306/"
# (sample database, engine, loader script in DATASETS_DIR)
SAMPLES = (
    ("chinook", "PostgreSQL", "load.sh"),
    ("chinook_mariadb", "MariaDB", "load_other.sh"),
    ("chinook_sqlite", "SQLite", "load_other.sh"),
    ("sakila_sqlite", "SQLite", "load_other.sh"),
)
_EXPORTED = re.compile(r"(\d+) tables, (\d+) rows .* with (\d+) statements")
_IMPORTED = re.compile(r"(\d+) tables, (\d+) rows inserted .* with (\d+) statements")


@dataclass(frozen=True)
class Run:
    """One measured process."""

    engine: str
    sample: str
    step: str  # export | import
    run: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Step:
    """Medians of one step of one sample, and what its script's summary line said."""

    engine: str
    sample: str
    step: str
    median_s: float
    fastest_s: float
    cpu_s: float
    peak_rss_mb: float
    tables: int
    rows: int
    statements: int


@dataclass(frozen=True)
class Sample:
    """A loaded sample database: its URL, and how to make and drop an empty copy of it."""

    engine: str
    name: str
    url: str
    fresh_target: Callable[[], str]
    drop_target: Callable[[str], None]


class Skipped(Exception):
    """A sample that cannot be measured here, with the reason."""


def datasets_dir() -> Path:
    return Path(os.environ.get("DATASETS_DIR", REPO.parent / "shared" / "datasets")).resolve()


def source_rows(name: str) -> int:
    """The sample's rows, as its expected_rows.tsv counts them."""
    lines = (datasets_dir() / name / "expected_rows.tsv").read_text().splitlines()
    return sum(int(line.split("\t")[1]) for line in lines if line and not line.startswith("#"))


def load_sample(script: str, name: str, target: str, env: dict[str, str] | None = None) -> None:
    path = datasets_dir() / script
    if not path.is_file():
        raise Skipped(f"no {path}: set DATASETS_DIR to the sample databases")
    done = subprocess.run(
        [str(path), "--no-check", name, target], capture_output=True, text=True, env=env
    )
    if done.returncode != 0:
        raise Skipped(f"{script} {name} failed: {done.stderr.strip().splitlines()[-1:]}")


@contextmanager
def postgres_sample(admin: str, name: str) -> Iterator[Sample]:
    """The sample loaded by load.sh, and an empty copy of it (every table truncated) that each
    import copies as its target (CREATE DATABASE ... TEMPLATE)."""
    from genonaut.db.embedded import bin_dir

    base = f"genonaut_bench_{name}_{os.getpid()}"
    source = with_database(admin, base)
    engine = engine_for(source)
    try:
        sql(admin, "SELECT 1")
    except psycopg2.Error as exc:
        raise Skipped(f"no PostgreSQL server answers at {admin}: {first_line(exc)}") from exc
    # The system's psql where installed, else the embedded server's.
    env = dict(os.environ, PATH=f"{os.environ['PATH']}{os.pathsep}{bin_dir()}")
    plain = make_url(source).set(drivername="postgresql").render_as_string(hide_password=False)
    empty = with_database(admin, f"{base}_empty")
    try:
        load_sample("load.sh", name, plain, env)
        engine.copy_database(source, f"{base}_empty")
        ((tables,),) = sql(
            empty,
            "SELECT string_agg(format('%I.%I', schemaname, tablename), ', ') FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')",
        )
        sql(empty, f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
        yield Sample(
            "PostgreSQL",
            name,
            source,
            lambda: engine.copy_database(empty, f"{base}_target"),
            engine.drop_database,
        )
    finally:
        for url in (with_database(admin, f"{base}_target"), empty, source):
            engine.drop_database(url)


@contextmanager
def mariadb_sample(server_url: str, name: str) -> Iterator[Sample]:
    """The sample loaded by load_other.sh, and an empty copy of its schema that each import
    copies as its target."""
    from genonaut.seed.engines.mariadb.clone import clone_database
    from genonaut.seed.engines.mariadb.connection import session
    from genonaut.seed.engines.mariadb.connection import with_database as mariadb_database

    try:
        with session(mariadb_database(server_url, "")) as db:
            db.fetch("SELECT 1")
    except (SeedError, pymysql.err.MySQLError) as exc:
        raise Skipped(f"no MariaDB server answers at {server_url}: {first_line(exc)}") from exc
    base = f"genonaut_bench_{name}_{os.getpid()}"
    source = mariadb_database(server_url, base)
    empty = mariadb_database(server_url, f"{base}_empty")
    engine = engine_for(source)
    try:
        load_sample("load_other.sh", name, source)
        with session(source) as db:
            clone_database(db, base, f"{base}_empty", with_rows=False)
        yield Sample(
            "MariaDB",
            name,
            source,
            lambda: engine.copy_database(empty, f"{base}_target"),
            engine.drop_database,
        )
    finally:
        for url in (mariadb_database(server_url, f"{base}_target"), empty, source):
            engine.drop_database(url)


@contextmanager
def sqlite_sample(work: Path, name: str) -> Iterator[Sample]:
    """The sample file built by load_other.sh, and an empty copy of its schema that each
    import copies (backup API) as its target."""
    from genonaut.seed.engines.sqlite.clone import copy_schema

    path = work / f"{name}.sqlite"
    load_sample("load_other.sh", name, str(path))
    empty = copy_schema(path, work / f"{name}_empty.sqlite")
    source = f"sqlite:///{path}"
    engine = engine_for(source)
    yield Sample(
        "SQLite",
        name,
        source,
        lambda: engine.copy_database(f"sqlite:///{empty}", str(work / f"{name}_target.sqlite")),
        engine.drop_database,
    )


def first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def checked(argv: list[str], what: str) -> Measured:
    done = measure(argv)
    if done.code != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr}{done.stdout}")
    return done


def summary(done: Measured, pattern: re.Pattern[str], what: str) -> tuple[int, int, int]:
    """(tables, rows, statements) from a script's one-line result."""
    found = pattern.search(done.stdout)
    if found is None:
        raise SystemExit(f"{what}: no summary line in its output:\n{done.stdout}")
    tables, rows, statements = found.groups()
    return int(tables), int(rows), int(statements)


def bench_sample(sample: Sample, runs: int, work: Path) -> tuple[list[Run], list[Step]]:
    """Export (warm-up, then `runs` runs), then import of that seed into a fresh empty copy
    (warm-up, then `runs` runs)."""
    seed = work / f"seed_{sample.name}"
    export = python(
        f"{PACKAGE}.export_seed_from_demo",
        *("--database-url", sample.url, "--output-dir", str(seed), "--no-config"),
        *("--default-limit", str(LIMIT), "--verbosity", "quiet"),
    )
    label = f"{sample.engine} {sample.name}"
    measured: list[Run] = []
    steps: list[Step] = []
    exported = summary(checked(export, f"export of {label}"), _EXPORTED, "export")  # warm-up
    for number in range(1, runs + 1):
        done = checked(export, f"export of {label}")
        measured.append(
            Run(
                sample.engine,
                sample.name,
                "export",
                number,
                done.wall_s,
                done.cpu_s,
                done.peak_rss_mb,
            )
        )
        print(f"  {label}: export run {number}: {done.wall_s:.3f}s", flush=True)
    steps.append(step_of(measured, "export", exported))

    def import_once(what: str) -> Measured:
        target = sample.fresh_target()
        try:
            argv = python(
                f"{PACKAGE}.import_seed_to_test",
                *("--database-url", target, "--input-dir", str(seed), "--verbosity", "quiet"),
            )
            return checked(argv, what)
        finally:
            sample.drop_target(target)

    imported = summary(import_once(f"import of {label}"), _IMPORTED, "import")  # warm-up
    for number in range(1, runs + 1):
        done = import_once(f"import of {label}")
        measured.append(
            Run(
                sample.engine,
                sample.name,
                "import",
                number,
                done.wall_s,
                done.cpu_s,
                done.peak_rss_mb,
            )
        )
        print(f"  {label}: import run {number}: {done.wall_s:.3f}s", flush=True)
    steps.append(step_of(measured, "import", imported))
    return measured, steps


def step_of(runs: list[Run], step: str, counts: tuple[int, int, int]) -> Step:
    mine = [r for r in runs if r.step == step]
    return Step(
        mine[0].engine,
        mine[0].sample,
        step,
        statistics.median(r.wall_s for r in mine),
        min(r.wall_s for r in mine),
        statistics.median(r.cpu_s for r in mine),
        max(r.peak_rss_mb for r in mine),
        *counts,
    )


def write_results(
    runs: list[Run], steps: list[Step], skipped: list[str], servers: list[str], runs_each: int
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "engines.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Run)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in runs)
    lines = [
        f"Export (limit {LIMIT}) and import into an empty copy of the schema, per sample "
        f"database: median of {runs_each} runs after a warm-up, whole processes of the two "
        "scripts (CPU: the script's own process; peak: the largest of the runs); tables, rows "
        "and statements as the scripts' summary lines say. "
        f"Servers: {'; '.join(servers) or 'none'}; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end.",
        "",
        "| engine | sample | source rows | step | median s | fastest s | CPU s | peak MB "
        "| tables | rows | statements |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.engine} | {s.sample} | {source_rows(s.sample):,} | {s.step} | {s.median_s:.3f} "
        f"| {s.fastest_s:.3f} | {s.cpu_s:.3f} | {s.peak_rss_mb:.0f} | {s.tables} | {s.rows:,} "
        f"| {s.statements:,} |"
        for s in steps
    ]
    if skipped:
        lines += ["", *(f"Skipped: {reason}" for reason in skipped)]
    (RESULTS / "engines.md").write_text("\n".join(lines) + "\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GENONAUT_BENCH_DATABASE_URL"),
        help="a PostgreSQL server's maintenance database (default: GENONAUT_BENCH_DATABASE_URL, "
        "else an embedded server under .pgdata/bench)",
    )
    parser.add_argument(
        "--mariadb-url",
        default=os.environ.get("GENONAUT_MARIADB_URL", DEFAULT_MARIADB_URL),
        help=f"a MariaDB server (default: GENONAUT_MARIADB_URL, else {DEFAULT_MARIADB_URL})",
    )
    args = parser.parse_args(argv)
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "genonaut", "bench"], cwd=REPO, check=True
    )
    work = Path(tempfile.mkdtemp(prefix="genonaut-engines-bench-"))
    runs: list[Run] = []
    steps: list[Step] = []
    skipped: list[str] = []
    servers: dict[str, str] = {}
    try:
        for name, engine, _ in SAMPLES:
            print(f"{engine} {name}:", flush=True)
            try:
                with ExitStack() as stack:
                    sample = stack.enter_context(_sample(stack, engine, name, args, work))
                    servers.setdefault(engine, describe(engine, sample.url))
                    measured, found = bench_sample(sample, args.runs, work)
            except Skipped as reason:
                print(f"  skipped: {reason}", flush=True)
                skipped.append(f"{engine} {name}: {reason}")
                continue
            runs += measured
            steps += found
    finally:
        shutil.rmtree(work, ignore_errors=True)
    write_results(runs, steps, skipped, list(servers.values()), args.runs)
    print((RESULTS / "engines.md").read_text())
    print(f"results: {RESULTS / 'engines.md'}, {RESULTS / 'engines.csv'}")
    return 0


def _sample(
    stack: ExitStack, engine: str, name: str, args: argparse.Namespace, work: Path
) -> AbstractContextManager[Sample]:
    if engine == "PostgreSQL":
        try:
            admin = stack.enter_context(server(args.database_url))
        except (SeedError, OSError, RuntimeError) as exc:
            raise Skipped(f"no PostgreSQL server could be started: {first_line(exc)}") from exc
        return postgres_sample(admin, name)
    if engine == "MariaDB":
        return mariadb_sample(args.mariadb_url, name)
    return sqlite_sample(work, name)


def describe(engine: str, url: str) -> str:
    """The engine's server version, for the results."""
    if engine == "PostgreSQL":
        ((version,),) = sql(url, "SELECT current_setting('server_version')")
        host = str(make_url(url).query.get("host") or make_url(url).host or "localhost")
        return f"PostgreSQL {version} ({'embedded' if host.startswith('/') else host})"
    if engine == "MariaDB":
        from genonaut.seed.engines.mariadb.connection import session

        with session(url) as db:
            ((version,),) = db.fetch("SELECT VERSION()")
        return f"MariaDB {version} ({make_url(url).host})"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


if __name__ == "__main__":
    sys.exit(main())
