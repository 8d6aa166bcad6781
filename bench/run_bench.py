"""Benchmark: export and import of the demo database at several sizes, run as a user runs them.

    python bench/run_bench.py [--scales 0.1 0.3 1.0] [--runs 3] [--database-url URL]

Builds (or reuses) one demo database per scale, then for each scale runs the exporter and the
importer several times with a warm cache, each as its own process, and records wall time, CPU
time and peak memory of the whole process. Writes bench/results/bench.md, bench.csv and
bench.png, and prints PASS/FAIL for each target without failing.
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
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
PACKAGE = "genonaut.db.demo.seed_data_gen"
LIMIT = 100
SUMMARY = re.compile(
    r"(?P<tables>\d+) tables, (?P<rows>\d+) rows \((?P<closure>\d+) added by closure\) "
    r"in [\d.]+s with (?P<statements>\d+) statements"
)


@dataclass(frozen=True)
class Run:
    scale: float
    source_rows: int
    source_mb: float
    step: str  # export | import
    run: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float
    statements: int
    tables: int
    seed_rows: int
    closure_rows: int


@dataclass(frozen=True)
class Measured:
    code: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


def measure(argv: Sequence[str], env: dict[str, str] | None = None) -> Measured:
    """Run a process; its wall time, CPU time and peak resident memory (its own, from wait4)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=REPO, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Measured(
            proc.returncode,
            out.read().decode(),
            err.read().decode(),
            wall,
            usage.ru_utime + usage.ru_stime,
            usage.ru_maxrss / 1024,  # kilobytes on Linux
        )


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
    from genonaut.seed.engines.postgres.connection import to_libpq_dsn

    conn = psycopg2.connect(to_libpq_dsn(url))
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(statement)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def python(*args: str) -> list[str]:
    return [sys.executable, "-m", *args]


def ensure_demo(admin: str, scale: float) -> str:
    """A demo database at `scale`, reused when one was built before."""
    name = f"genonaut_bench_{str(scale).replace('.', '_')}"
    url = with_database(admin, name)
    marker = f"genonaut demo scale={scale}"
    found = sql(
        admin,
        f"SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '{name}'",
    )
    if found and found[0][0] == marker:
        print(f"scale {scale}: reusing database {name}", flush=True)
        return url
    if found:
        sql(admin, f'DROP DATABASE "{name}" WITH (FORCE)')
    sql(admin, f'CREATE DATABASE "{name}"')
    print(f"scale {scale}: building database {name} ...", flush=True)
    built = measure(python(PACKAGE, "--database-url", url, "--scale", str(scale)))
    if built.code != 0:
        raise SystemExit(f"building the demo database failed:\n{built.stderr}")
    sql(url, "VACUUM ANALYZE")
    sql(admin, f"COMMENT ON DATABASE \"{name}\" IS '{marker}'")
    print(f"scale {scale}: built in {built.wall_s:.1f}s", flush=True)
    return url


def source_size(url: str) -> tuple[int, float]:
    (rows, size) = sql(
        url,
        "SELECT sum(greatest(reltuples, 0))::bigint, pg_database_size(current_database()) "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind = 'r' AND n.nspname = 'public'",
    )[0]
    return int(str(rows or 0)), float(str(size)) / 2**20


def bench_scale(admin: str, scale: float, runs: int, work: Path) -> list[Run]:
    demo = ensure_demo(admin, scale)
    rows, mb = source_size(demo)
    results: list[Run] = []
    out = work / f"seed_{scale}"
    export = python(
        f"{PACKAGE}.export_seed_from_demo",
        "--database-url",
        demo,
        "--output-dir",
        str(out),
        "--default-limit",
        str(LIMIT),
        "--verbosity",
        "quiet",
    )
    measure(export)  # warm the cache
    for number in range(1, runs + 1):
        done = measure(export)
        if done.code != 0:
            raise SystemExit(f"export failed:\n{done.stderr}")
        found = SUMMARY.search(done.stdout)
        assert found, done.stdout
        results.append(
            Run(
                scale,
                rows,
                mb,
                "export",
                number,
                done.wall_s,
                done.cpu_s,
                done.peak_rss_mb,
                int(found["statements"]),
                int(found["tables"]),
                int(found["rows"]),
                int(found["closure"]),
            )
        )
        print(f"  export run {number}: {done.wall_s:.2f}s", flush=True)
    target_name = "genonaut_bench_import"
    target = with_database(admin, target_name)
    for number in range(1, runs + 1):
        sql(admin, f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
        sql(admin, f'CREATE DATABASE "{target_name}"')
        init = measure(python("genonaut.db.init_db", "--database-url", target))
        if init.code != 0:
            raise SystemExit(f"creating the empty schema failed:\n{init.stderr}")
        done = measure(
            python(
                f"{PACKAGE}.import_seed_to_test",
                "--database-url",
                target,
                "--input-dir",
                str(out),
                "--truncate-first",
                "--verbosity",
                "quiet",
            )
        )
        if done.code != 0:
            raise SystemExit(f"import failed:\n{done.stderr}")
        seed = results[-1]
        results.append(
            Run(
                scale,
                rows,
                mb,
                "import",
                number,
                done.wall_s,
                done.cpu_s,
                done.peak_rss_mb,
                0,
                seed.tables,
                seed.seed_rows,
                seed.closure_rows,
            )
        )
        print(f"  import run {number}: {done.wall_s:.2f}s", flush=True)
    sql(admin, f'DROP DATABASE IF EXISTS "{target_name}" WITH (FORCE)')
    return results


@dataclass(frozen=True)
class Summary:
    scale: float
    source_rows: int
    source_mb: float
    export_s: float
    export_cpu_s: float
    export_rss_mb: float
    import_s: float
    import_rss_mb: float
    statements: int
    tables: int
    seed_rows: int
    closure_rows: int


def summarize(runs: list[Run]) -> list[Summary]:
    summaries = []
    for scale in sorted({r.scale for r in runs}):
        exports = [r for r in runs if r.scale == scale and r.step == "export"]
        imports = [r for r in runs if r.scale == scale and r.step == "import"]
        first = exports[0]
        summaries.append(
            Summary(
                scale,
                first.source_rows,
                first.source_mb,
                statistics.median(r.wall_s for r in exports),
                statistics.median(r.cpu_s for r in exports),
                max(r.peak_rss_mb for r in exports),
                statistics.median(r.wall_s for r in imports),
                max(r.peak_rss_mb for r in imports),
                max(r.statements for r in exports),
                first.tables,
                first.seed_rows,
                first.closure_rows,
            )
        )
    return summaries


def targets(summaries: list[Summary]) -> list[tuple[str, bool, str]]:
    """Each target: its name, whether it holds, and the numbers behind it."""
    by_scale = {s.scale: s for s in summaries}
    largest, smallest = summaries[-1], summaries[0]
    checks = []
    if 1.0 in by_scale:
        s = by_scale[1.0]
        checks.append(("export at scale 1.0 under 1 s", s.export_s < 1.0, f"{s.export_s:.2f}s"))
    ratio = largest.export_s / smallest.export_s
    checks.append(
        (
            f"export at scale {largest.scale} within 1.5x of scale {smallest.scale}",
            ratio <= 1.5,
            f"{ratio:.2f}x",
        )
    )
    statements = {s.statements for s in summaries}
    spread = max(statements) - min(statements)
    checks.append(
        (
            "statements grow with tables, not rows",
            spread <= max(5, min(statements) // 10),
            ", ".join(f"{s.scale}: {s.statements}" for s in summaries),
        )
    )
    rss = max(max(s.export_rss_mb, s.import_rss_mb) for s in summaries)
    checks.append(("peak RSS under 150 MB at every scale", rss < 150, f"{rss:.0f} MB"))
    worst_import = max(s.import_s for s in summaries)
    checks.append(("import under 1 s", worst_import < 1.0, f"{worst_import:.2f}s"))
    worst = max(s.seed_rows / (LIMIT * s.tables) for s in summaries)
    checks.append(
        ("seed rows at most 1.5 x limit x tables", worst <= 1.5, f"{worst:.2f} x limit x tables")
    )
    return checks


def server_description(admin: str) -> str:
    """The server measured on, for the results: its version and where it runs."""
    ((version,),) = sql(admin, "SELECT current_setting('server_version')")
    host = make_url(admin).query.get("host") or make_url(admin).host or "localhost"
    where = "embedded" if str(host).startswith("/") else str(host)
    return f"PostgreSQL {version} ({where}), {os.cpu_count()} cores"


def write_results(
    runs: list[Run],
    summaries: list[Summary],
    checks: list[tuple[str, bool, str]],
    server_name: str,
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "bench.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Run)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in runs)
    lines = [
        f"Measured on {server_name}, {runs_per_scale(runs)} runs per step, medians.",
        "",
        "| scale | source rows | source MB | export s (median) | export CPU s | export peak MB "
        "| import s (median) | import peak MB | statements | tables | seed rows | by closure |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s.scale} | {s.source_rows:,} | {s.source_mb:,.0f} | {s.export_s:.3f} "
            f"| {s.export_cpu_s:.3f} | {s.export_rss_mb:.0f} | {s.import_s:.3f} "
            f"| {s.import_rss_mb:.0f} | {s.statements} | {s.tables} | {s.seed_rows:,} "
            f"| {s.closure_rows:,} |"
        )
    lines += ["", "| target | result | measured |", "|---|---|---|"]
    lines += [f"| {name} | {'PASS' if ok else 'FAIL'} | {value} |" for name, ok, value in checks]
    (RESULTS / "bench.md").write_text("\n".join(lines) + "\n")
    plot(summaries)


def runs_per_scale(runs: list[Run]) -> int:
    return max(r.run for r in runs)


def plot(summaries: list[Summary]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [s.source_rows / 1e6 for s in summaries]
    fig, left = plt.subplots(figsize=(7, 4))
    left.plot(rows, [s.export_s for s in summaries], "o-", color="tab:blue", label="export time")
    left.plot(rows, [s.import_s for s in summaries], "s--", color="tab:green", label="import time")
    left.set_xlabel("rows in the demo database (millions)")
    left.set_ylabel("seconds (median, whole process)")
    left.set_ylim(bottom=0)
    right = left.twinx()
    right.plot(
        rows, [s.export_rss_mb for s in summaries], "^:", color="tab:red", label="export peak RSS"
    )
    right.set_ylabel("peak RSS (MB)")
    right.set_ylim(0, 1.6 * max(s.export_rss_mb for s in summaries))
    handles = left.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    labels = left.get_legend_handles_labels()[1] + right.get_legend_handles_labels()[1]
    left.legend(handles, labels, loc="lower right")
    left.set_title(f"Seed export (limit {LIMIT}) and import against source size")
    fig.tight_layout()
    fig.savefig(RESULTS / "bench.png", dpi=110)


@contextmanager
def server(url: str | None) -> Iterator[str]:
    """The admin URL of the server to use: the one given, or an embedded one."""
    if url:
        yield url
        return
    from genonaut.db.embedded import EmbeddedServer

    with EmbeddedServer(REPO / ".pgdata" / "bench") as embedded:
        yield embedded.admin_url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--scales", nargs="+", type=float, default=[0.1, 0.3, 1.0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument(
        "--database-url",
        default=os.environ.get("GENONAUT_BENCH_DATABASE_URL"),
        help="a server's maintenance database (default: GENONAUT_BENCH_DATABASE_URL, "
        "else an embedded server under .pgdata/bench)",
    )
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="genonaut-bench-"))
    try:
        with server(args.database_url) as admin:
            server_name = server_description(admin)
            runs: list[Run] = []
            for scale in sorted(args.scales):
                runs += bench_scale(admin, scale, args.runs, work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summaries = summarize(runs)
    checks = targets(summaries)
    write_results(runs, summaries, checks, server_name)
    print((RESULTS / "bench.md").read_text())
    for name, ok, value in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {value}")
    print(f"results: {RESULTS / 'bench.md'}, {RESULTS / 'bench.csv'}, {RESULTS / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
