"""Benchmark: export and import of the demo database against their floors, run as a user runs them.

    python bench/run_bench.py [--scales 0.1 0.3 1.0] [--runs 3] [--database-url URL]

Builds (or reuses) one demo database per scale. For each scale it exports the seed, and imports
it into an empty copy of the schema; then it imports the committed seed
(test/db/input/rdbms_init_from_demo). Each step runs beside its floor (bench/floor_export.py,
bench/floor_import.py: the least any tool must do for the same files), alternating, each as its
own process after a warm-up, recording wall time, CPU time and peak memory of the whole process.
The ratio to the floor is the figure that matters: absolute seconds vary between machines.
Writes bench/results/bench.md, bench.csv and bench.png, and prints PASS/FAIL for each target
without failing.
"""

from __future__ import annotations

import argparse
import csv
import filecmp
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import psycopg2
from sqlalchemy.engine import make_url

from genonaut.database_url import to_libpq_dsn

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULTS = BENCH / "results"
COMMITTED_SEED = REPO / "test" / "db" / "input" / "rdbms_init_from_demo"
PACKAGE = "genonaut.db.demo.seed_data_gen"
LIMIT = 100
# The targets of issue 10: whole process, same run.
EXPORT_OVER_FLOOR = 1.5  # export at scale 1.0, over its floor
EXPORT_GROWTH = 1.2  # export at scale 1.0, over scale 0.1
IMPORT_OVER_FLOOR = 1.3  # import of the committed seed, over its floor
PEAK_RSS_MB = 60.0  # export and import, at every scale
IMPORT_MS = 150.0  # python -X importtime of what each command loads
# What each command loads for its work: the script, and the engine modules it imports once its
# flags are read.
LOADS = {
    "export": (
        f"{PACKAGE}.export_seed_from_demo",
        "genonaut.seed.commands.export",
        "genonaut.seed.engines.postgres.adapter",
    ),
    "import": (
        f"{PACKAGE}.import_seed_to_test",
        "genonaut.seed.commands.load",
        "genonaut.seed.commands.verify",
        "genonaut.seed.engines.postgres.adapter",
        "genonaut.seed.engines.postgres.loader",
        "genonaut.seed.engines.postgres.verify",
    ),
}


@dataclass(frozen=True)
class Run:
    """One measured process."""

    data: str  # the scale, or "committed" for the committed seed
    step: str  # export | import
    program: str  # tool | floor
    run: int
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


@dataclass(frozen=True)
class Step:
    """Medians of one step (export or import of one scale's data) and of its floor."""

    data: str
    step: str
    tool_s: float
    floor_s: float
    tool_min_s: float
    floor_min_s: float
    tool_cpu_s: float
    floor_cpu_s: float
    tool_rss_mb: float
    floor_rss_mb: float
    statements: int
    floor_statements: int

    @property
    def ratio(self) -> float:
        return self.tool_s / self.floor_s


@dataclass(frozen=True)
class Source:
    """A demo database and the seed exported from it."""

    scale: float
    rows: int
    mb: float
    tables: int
    seed_rows: int
    closure_rows: int
    closure_rounds: int  # walks of closure: statements the data decide
    # The export's statements other than COPY, run again under EXPLAIN ANALYZE: what the
    # server spends planning and executing them, the client aside (best of three).
    planning_ms: float
    executing_ms: float


@dataclass(frozen=True)
class Measured:
    code: int
    stdout: str
    stderr: str
    wall_s: float
    cpu_s: float
    peak_rss_mb: float


# Runs a command and writes its wall time, CPU time, peak RSS (kB) and exit code to the file
# named first. A process's peak RSS includes that of the process it was forked from, up to
# its exec (Linux keeps the larger of the two): forked from this benchmark, which holds
# psycopg2 and SQLAlchemy, every command would show at least ~50 MB. This launcher is a bare
# interpreter (python -S, ~8 MB), smaller than any command it runs.
_LAUNCHER = """
import os, sys, time
started = time.perf_counter()
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - started
with open(sys.argv[1], "w") as out:
    cpu = usage.ru_utime + usage.ru_stime
    print(wall, cpu, usage.ru_maxrss, os.waitstatus_to_exitcode(status), file=out)
"""


def measure(argv: Sequence[str]) -> Measured:
    """Run a process; its wall time, CPU time and peak resident memory (its own, from wait4)."""
    with tempfile.TemporaryDirectory() as scratch:
        figures, out, err = (Path(scratch) / name for name in ("figures", "out", "err"))
        with out.open("wb") as stdout, err.open("wb") as stderr:
            launcher = [sys.executable, "-S", "-c", _LAUNCHER, str(figures), *argv]
            subprocess.run(launcher, stdout=stdout, stderr=stderr, cwd=REPO, check=True)
        wall, cpu, rss_kb, code = figures.read_text().split()
        return Measured(
            int(code),
            out.read_text(),
            err.read_text(),
            float(wall),
            float(cpu),
            int(rss_kb) / 1024,  # kilobytes on Linux
        )


def checked(argv: Sequence[str], what: str) -> Measured:
    done = measure(argv)
    if done.code != 0:
        raise SystemExit(f"{what} failed:\n{done.stderr}{done.stdout}")
    return done


def sql(url: str, statement: str) -> list[tuple[object, ...]]:
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


def floor(program: str, *args: str) -> list[str]:
    return [sys.executable, str(BENCH / program), *args]


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
    built = checked(
        python(PACKAGE, "--database-url", url, "--scale", str(scale)), "building the demo database"
    )
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


def alternate(
    data: str,
    step: str,
    runs: int,
    tool: Sequence[str],
    floor_argv: Sequence[str],
    before: Callable[[], None],
) -> list[Run]:
    """`runs` rounds of the tool then its floor, each after `before()` (a fresh target, say)."""
    results = []
    for number in range(1, runs + 1):
        for program, argv in (("tool", tool), ("floor", floor_argv)):
            before()
            done = checked(argv, f"{step} ({program}, {data})")
            results.append(
                Run(data, step, program, number, done.wall_s, done.cpu_s, done.peak_rss_mb)
            )
        print(f"  {step} run {number}: {results[-2].wall_s:.2f}s, floor {done.wall_s:.2f}s")
    return results


def statements_of(output: str) -> int:
    """The count a floor program prints: "N statements"."""
    return int(output.split()[0])


def bench_export(
    admin: str, scale: float, runs: int, work: Path
) -> tuple[Source, Path, list[Run], tuple[int, int]]:
    """Export runs beside the floor's; the seed written, and (statements, floor statements)."""
    from floor_export import chosen_keys

    from genonaut.seed import ExportSettings, export_seed
    from genonaut.seed.core.settings import DEFAULT_CONFIG, apply_config, load_config

    demo = ensure_demo(admin, scale)
    rows, mb = source_size(demo)
    seed, by_library, by_floor = (work / f"{kind}_{scale}" for kind in ("seed", "lib", "floor"))
    # The library call tells the statements and rows; the command must write the same files.
    config = REPO / DEFAULT_CONFIG
    settings = apply_config(ExportSettings(demo, by_library), load_config(config), str(config))
    statements: list[str] = []
    report = export_seed(settings.merged(default_limit=LIMIT), tracer=statements.append)
    planning_ms, executing_ms = server_time(demo, statements)
    keys = work / f"keys_{scale}.json"
    keys.write_text(json.dumps(chosen_keys(by_library, to_libpq_dsn(demo))))
    tool = python(
        f"{PACKAGE}.export_seed_from_demo",
        *("--database-url", demo, "--output-dir", str(seed)),
        *("--default-limit", str(LIMIT), "--verbosity", "quiet"),
    )
    floor_argv = floor("floor_export.py", to_libpq_dsn(demo), str(keys), str(by_floor))
    checked(tool, "export")  # warm-up, and the files to compare
    floor_statements = statements_of(checked(floor_argv, "export floor").stdout)
    for other, what in ((by_library, "the library's export"), (by_floor, "the floor's files")):
        differ = _differing(seed, other)
        if differ:
            raise SystemExit(f"scale {scale}: {what} differ from the command's: {differ}")
    results = alternate(str(scale), "export", runs, tool, floor_argv, lambda: None)
    source = Source(
        scale,
        rows,
        mb,
        len(report.tables),
        report.rows,
        report.closure_rows,
        report.closure_rounds,
        planning_ms,
        executing_ms,
    )
    return source, seed, results, (report.statements, floor_statements)


def server_time(url: str, statements: Sequence[str], rounds: int = 3) -> tuple[float, float]:
    """Planning and execution time, in ms, that the server reports for `statements` (all but
    the COPYs) under EXPLAIN ANALYZE without per-node timing, in one read-only snapshot with
    the export's JIT setting: the best of `rounds` for each statement, summed."""
    asked = [s for s in statements if s.lstrip().upper().startswith(("SELECT", "WITH"))]
    best: list[tuple[float, float]] = [(float("inf"), float("inf"))] * len(asked)
    conn = psycopg2.connect(to_libpq_dsn(url))
    try:
        for _ in range(rounds):
            conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
            with conn.cursor() as cur:
                cur.execute("SET LOCAL jit = off")
                for i, statement in enumerate(asked):
                    cur.execute(f"EXPLAIN (ANALYZE, TIMING off, SUMMARY, FORMAT JSON) {statement}")
                    plan = cur.fetchone()[0][0]  # type: ignore[index]
                    best[i] = (
                        min(best[i][0], plan["Planning Time"]),
                        min(best[i][1], plan["Execution Time"]),
                    )
            conn.rollback()
    finally:
        conn.close()
    return sum(p for p, _ in best), sum(e for _, e in best)


def _differing(left: Path, right: Path) -> list[str]:
    names = sorted(p.name for p in left.iterdir() if p.suffix == ".tsv")
    _, mismatch, errors = filecmp.cmpfiles(left, right, names, shallow=False)
    return mismatch + errors


def bench_import(
    admin: str, empty: str, fixtures: Path, data: str, runs: int
) -> tuple[list[Run], tuple[int, int]]:
    """Import runs beside the floor's, each into a fresh copy of the empty schema."""
    from genonaut.seed import import_seed

    name = f"genonaut_bench_target_{os.getpid()}"
    target = with_database(admin, name)

    def fresh() -> None:
        sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        sql(admin, f'CREATE DATABASE "{name}" TEMPLATE "{empty}"')

    tool = python(
        f"{PACKAGE}.import_seed_to_test",
        *("--database-url", target, "--input-dir", str(fixtures), "--verbosity", "quiet"),
    )
    floor_argv = floor("floor_import.py", to_libpq_dsn(target), str(fixtures))
    try:
        fresh()
        statements = import_seed(fixtures, target).statements  # and a warm-up
        fresh()
        floor_statements = statements_of(checked(floor_argv, "import floor").stdout)
        results = alternate(data, "import", runs, tool, floor_argv, fresh)
    finally:
        sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return results, (statements, floor_statements)


@contextmanager
def empty_schema(admin: str) -> Iterator[str]:
    """A database holding the app's schema and no rows, to copy for each import."""
    name = f"genonaut_bench_empty_{os.getpid()}"
    url = with_database(admin, name)
    sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    checked(python("genonaut.db.init_db", "--database-url", url), "init_db")
    sql(url, "DELETE FROM alembic_version")  # the seed holds this row too
    try:
        yield name
    finally:
        sql(admin, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def summarize(runs: list[Run], data: str, step: str, statements: tuple[int, int]) -> Step:
    tool = [r for r in runs if r.data == data and r.step == step and r.program == "tool"]
    base = [r for r in runs if r.data == data and r.step == step and r.program == "floor"]
    return Step(
        data,
        step,
        statistics.median(r.wall_s for r in tool),
        statistics.median(r.wall_s for r in base),
        min(r.wall_s for r in tool),
        min(r.wall_s for r in base),
        statistics.median(r.cpu_s for r in tool),
        statistics.median(r.cpu_s for r in base),
        max(r.peak_rss_mb for r in tool),
        max(r.peak_rss_mb for r in base),
        *statements,
    )


def import_ms(modules: Sequence[str], runs: int = 11) -> float:
    """Median over `runs` processes of what `python -X importtime -c "import <modules>"` says
    importing them costs: the cumulative time of each top-level genonaut entry, summed."""
    times = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-X", "importtime", "-c", f"import {', '.join(modules)}"],
            capture_output=True,
            text=True,
            cwd=REPO,
            check=True,
        )
        total = 0
        for line in done.stderr.splitlines():  # import time: self | cumulative | name
            parts = line.split("|")
            # One space before the name: top level. Times in microseconds.
            if len(parts) == 3 and parts[2].startswith(" genonaut") and parts[1].strip().isdigit():
                total += int(parts[1])
        times.append(total / 1000)
    return statistics.median(times)


def targets(
    steps: list[Step], sources: list[Source], start_up: dict[str, float]
) -> list[tuple[str, bool | None, str]]:
    """Each target: its name, whether it holds (None: not measured in this run), the figures."""
    exports = {s.data: s for s in steps if s.step == "export"}
    by_scale = {str(s.scale): s for s in sources}
    checks: list[tuple[str, bool | None, str]] = []
    at_1 = exports.get("1.0")
    checks.append(
        (
            f"export <= {EXPORT_OVER_FLOOR} x its floor at scale 1.0",
            at_1.ratio <= EXPORT_OVER_FLOOR if at_1 else None,
            f"{at_1.ratio:.2f}x ({at_1.tool_s:.3f}s / {at_1.floor_s:.3f}s); the selection "
            f"alone executes for {by_scale['1.0'].executing_ms / 1000:.3f}s on the server, "
            f"where the target leaves {(EXPORT_OVER_FLOOR - 1) * at_1.floor_s:.3f}s over the floor"
            if at_1
            else "scale 1.0 not run",
        )
    )
    at_01 = exports.get("0.1")
    growth = at_1.tool_s / at_01.tool_s if at_1 and at_01 else None
    checks.append(
        (
            f"export at scale 1.0 <= {EXPORT_GROWTH} x scale 0.1",
            growth <= EXPORT_GROWTH if growth is not None else None,
            f"{growth:.2f}x" if growth is not None else "scales 0.1 and 1.0 not both run",
        )
    )
    seed = next(s for s in steps if s.data == "committed")
    checks.append(
        (
            f"import of the committed seed <= {IMPORT_OVER_FLOOR} x its floor",
            seed.ratio <= IMPORT_OVER_FLOOR,
            f"{seed.ratio:.2f}x ({seed.tool_s:.3f}s / {seed.floor_s:.3f}s)",
        )
    )
    rss = max(s.tool_rss_mb for s in steps)
    checks.append(
        (
            f"peak RSS <= {PEAK_RSS_MB:.0f} MB, export and import, every scale",
            rss <= PEAK_RSS_MB,
            ", ".join(f"{s.step} {s.data}: {s.tool_rss_mb:.0f}" for s in steps) + " MB",
        )
    )
    checks.append(
        (
            f"importing what each command loads <= {IMPORT_MS:.0f} ms (python -X importtime)",
            max(start_up.values()) <= IMPORT_MS,
            ", ".join(f"{step}: {ms:.0f} ms" for step, ms in start_up.items()),
        )
    )
    # Closure takes as many walks as the data need (a chain of new parents); every other
    # statement is a fixed number a table.
    fixed = {data: s.statements - by_scale[data].closure_rounds for data, s in exports.items()}
    most = 2 * max(s.tables for s in sources)
    checks.append(
        (
            "export statements, closure rounds aside, the same at every scale and <= 2 a table",
            len(set(fixed.values())) == 1 and max(fixed.values()) <= most,
            ", ".join(
                f"{data}: {s.statements} - {by_scale[data].closure_rounds} rounds = {fixed[data]}"
                for data, s in exports.items()
            )
            + f" (2 a table: {most})",
        )
    )
    worst = max(s.seed_rows / (LIMIT * s.tables) for s in sources)
    checks.append(
        ("seed rows at most 1.5 x limit x tables", worst <= 1.5, f"{worst:.2f} x limit x tables")
    )
    return checks


def verdict(ok: bool | None) -> str:
    return "n/a" if ok is None else "PASS" if ok else "FAIL"


def server_description(admin: str) -> str:
    """The server measured on, for the results: its version and where it runs."""
    ((version,),) = sql(admin, "SELECT current_setting('server_version')")
    host = make_url(admin).query.get("host") or make_url(admin).host or "localhost"
    where = "embedded" if str(host).startswith("/") else str(host)
    return f"PostgreSQL {version} ({where}), {os.cpu_count()} cores"


def write_results(
    runs: list[Run],
    steps: list[Step],
    sources: list[Source],
    checks: list[tuple[str, bool | None, str]],
    server_name: str,
    load: tuple[float, float, float],
) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "bench.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(Run)])
        writer.writeheader()
        writer.writerows(asdict(r) for r in runs)
    count = max(r.run for r in runs)
    lines = [
        f"Measured on {server_name}: {count} runs of each program after a warm-up, tool and "
        "floor alternating, medians of whole processes (peak RSS: the largest); the fastest "
        "run of each is shown too, as the least disturbed by other work on the machine "
        f"(load average {load[0]:.1f} at the start, {os.getloadavg()[0]:.1f} at the end). "
        "CPU is the client process's own (user + system), not the server's. Selection "
        "planning and executing: the export's statements other than COPY, run again under "
        "EXPLAIN ANALYZE (best of three): the server's own share of choosing the rows, which "
        "the floor does not do.",
        "",
        "| scale | source rows | source MB | tables | seed rows | by closure | closure rounds "
        "| selection planning ms | selection executing ms |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.scale} | {s.rows:,} | {s.mb:,.0f} | {s.tables} | {s.seed_rows:,} "
        f"| {s.closure_rows:,} | {s.closure_rounds} | {s.planning_ms:.0f} | {s.executing_ms:.0f} |"
        for s in sources
    ]
    lines += [
        "",
        "| step | data | tool s | floor s | tool / floor | fastest: tool s | floor s "
        "| tool / floor | tool CPU s | floor CPU s | tool peak MB | floor peak MB | statements "
        "| floor statements |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {s.step} | {s.data if s.data == 'committed' else 'scale ' + s.data} "
        f"| {s.tool_s:.3f} | {s.floor_s:.3f} | {s.ratio:.2f}x | {s.tool_min_s:.3f} "
        f"| {s.floor_min_s:.3f} | {s.tool_min_s / s.floor_min_s:.2f}x | {s.tool_cpu_s:.3f} "
        f"| {s.floor_cpu_s:.3f} | {s.tool_rss_mb:.0f} | {s.floor_rss_mb:.0f} "
        f"| {s.statements} | {s.floor_statements} |"
        for s in steps
    ]
    lines += ["", "| target | result | measured |", "|---|---|---|"]
    lines += [f"| {name} | {verdict(ok)} | {value} |" for name, ok, value in checks]
    (RESULTS / "bench.md").write_text("\n".join(lines) + "\n")
    plot(steps, sources)


def plot(steps: list[Step], sources: list[Source]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = {str(s.scale): s.rows / 1e6 for s in sources}
    fig, (times, ratios) = plt.subplots(1, 2, figsize=(11, 4))
    styles = {"export": ("tab:blue", "o"), "import": ("tab:green", "s")}
    for step, (color, marker) in styles.items():
        chosen = [s for s in steps if s.step == step and s.data in rows]
        x = [rows[s.data] for s in chosen]
        times.plot(x, [s.tool_s for s in chosen], marker + "-", color=color, label=step)
        times.plot(x, [s.floor_s for s in chosen], marker + ":", color=color, label=f"{step} floor")
        ratios.plot(x, [s.ratio for s in chosen], marker + "-", color=color, label=step)
    seed = next(s for s in steps if s.data == "committed")
    ratios.axhline(EXPORT_OVER_FLOOR, color="tab:blue", linewidth=0.8, linestyle="--")
    ratios.axhline(IMPORT_OVER_FLOOR, color="tab:green", linewidth=0.8, linestyle="--")
    ratios.plot([], [], " ", label=f"committed seed import: {seed.ratio:.2f}x")
    times.set_xlabel("rows in the demo database (millions)")
    times.set_ylabel("seconds (median, whole process)")
    times.set_ylim(bottom=0)
    times.legend(loc="upper left")
    times.set_title(f"Seed export (limit {LIMIT}) and import, and their floors")
    ratios.set_xlabel("rows in the demo database (millions)")
    ratios.set_ylabel("tool / floor (dashed: targets)")
    ratios.set_ylim(bottom=0)
    ratios.legend(loc="lower right")
    ratios.set_title("Ratio to the floor")
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
    # Compiled as an installation compiles it: no run pays for compiling the package (nor do
    # runs differ by it where PYTHONDONTWRITEBYTECODE is set).
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "genonaut", "bench"], cwd=REPO, check=True
    )
    load = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="genonaut-bench-"))
    runs: list[Run] = []
    steps: list[Step] = []
    sources: list[Source] = []
    try:
        with server(args.database_url) as admin, empty_schema(admin) as empty:
            server_name = server_description(admin)
            for scale in sorted(args.scales):
                source, seed, measured, counts = bench_export(admin, scale, args.runs, work)
                sources.append(source)
                runs += measured
                steps.append(summarize(runs, str(scale), "export", counts))
                measured, counts = bench_import(admin, empty, seed, str(scale), args.runs)
                runs += measured
                steps.append(summarize(runs, str(scale), "import", counts))
            print("committed seed:", flush=True)
            measured, counts = bench_import(admin, empty, COMMITTED_SEED, "committed", args.runs)
            runs += measured
            steps.append(summarize(runs, "committed", "import", counts))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    start_up = {step: import_ms(modules) for step, modules in LOADS.items()}
    checks = targets(steps, sources, start_up)
    write_results(runs, steps, sources, checks, server_name, load)
    print((RESULTS / "bench.md").read_text())
    for name, ok, value in checks:
        print(f"{verdict(ok):4}  {name}: {value}")
    print(f"results: {RESULTS / 'bench.md'}, {RESULTS / 'bench.csv'}, {RESULTS / 'bench.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
