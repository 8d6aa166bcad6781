"""`make demo`: the whole workflow, on an embedded PostgreSQL unless DATABASE_URL_DEMO is set.

Starts the server, creates the demo and test databases, fills the demo database at a small
scale, exports its seed into build/demo-seed (not the committed fixtures) and imports it into
the test database, verified; then prints what happened and stops the server.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from genonaut.db.utils import redact, repo_root, to_libpq_dsn

REPO = repo_root()
SEED = "genonaut.db.demo.seed_data_gen"


class StepFailed(Exception):
    """A step's process exited non-zero."""


@dataclass
class Run:
    """Where the demo runs, and how long each step took."""

    demo_url: str
    test_url: str
    where: str
    env: dict[str, str]
    timings: list[tuple[str, float]] = field(default_factory=list)
    current: str = ""

    def step(self, title: str, *argv: str) -> None:
        """Run `python -m argv...` from the repository root; raise StepFailed if it fails."""
        print(f"==> {title}", flush=True)
        self.current = title
        started = time.perf_counter()
        # The step runs in a session of its own, so that Ctrl-C reaches this process alone,
        # which then stops the step the same way and waits for it to tidy up; the step's own
        # "interrupted" line (and any traceback from its start-up) stays out of the output.
        # Steps run quiet: their stderr holds errors only, shown when the step fails.
        # A Ctrl-C while the step is being started is held until it has started, so that
        # there is always a step to stop.
        held: list[int] = []
        previous = signal.signal(signal.SIGINT, lambda number, _: held.append(number))
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", *argv],
                cwd=REPO,
                env=self.env,
                stderr=subprocess.PIPE,
                text=True,
                start_new_session=True,
            )
        finally:
            signal.signal(signal.SIGINT, previous)
        with process:
            try:
                if held:
                    raise KeyboardInterrupt
                _, errors = process.communicate()
            except KeyboardInterrupt:
                process.send_signal(signal.SIGINT)
                try:
                    process.communicate(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
                raise
        if process.returncode != 0:
            sys.stderr.write(errors)
            raise StepFailed(
                f"step '{title}' failed (exit {process.returncode}); its output is above"
            )
        self.timings.append((title, time.perf_counter() - started))


@contextmanager
def servers() -> Iterator[Run]:
    """The configured servers when DATABASE_URL_DEMO is set, else an embedded one."""
    demo, test = os.environ.get("DATABASE_URL_DEMO"), os.environ.get("DATABASE_URL_TEST")
    if bool(demo) != bool(test):
        have, missing = (
            ("DATABASE_URL_DEMO", "DATABASE_URL_TEST")
            if demo
            else ("DATABASE_URL_TEST", "DATABASE_URL_DEMO")
        )
        raise StepFailed(
            f"{have} is set but {missing} is not: set both to use your servers, or neither "
            "for an embedded PostgreSQL"
        )
    if demo and test:
        yield Run(demo, test, "the configured servers", dict(os.environ))
        return
    from genonaut.db.embedded import EmbeddedServer

    data_dir = REPO / ".pgdata" / "demo"
    print(f"==> start an embedded PostgreSQL (data in {data_dir})", flush=True)
    try:
        server = EmbeddedServer(data_dir).start()
    except Exception as exc:  # the wheel raises whatever pg_ctl or initdb did
        raise StepFailed(
            f"the embedded PostgreSQL did not start: {exc}; its log is {data_dir / 'log'}"
        ) from exc
    try:
        demo, test = server.url("genonaut_demo"), server.url("genonaut_test")
        env = dict(os.environ, DATABASE_URL_DEMO=demo, DATABASE_URL_TEST=test)
        yield Run(demo, test, f"an embedded PostgreSQL (data in {data_dir})", env)
    finally:
        print("==> stop the embedded PostgreSQL", flush=True)
        _stop_quietly(server)


def _stop_quietly(server: object) -> None:
    """Stop the server, even when a second Ctrl-C comes while it stops."""
    for _ in range(3):
        try:
            server.stop()  # type: ignore[attr-defined]
            return
        except KeyboardInterrupt:
            continue


def table_counts(url: str) -> list[tuple[str, int]]:
    """(table, rows) of every ordinary table in the database's own schemas, in one statement;
    a table of the public schema by its bare name, as the seed scripts show it."""
    import psycopg2
    from psycopg2 import sql

    conn = psycopg2.connect(to_libpq_dsn(url))
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT n.nspname, c.relname FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')"
                " AND n.nspname NOT LIKE 'pg\\_%' ORDER BY 1, 2"
            )
            tables = cur.fetchall()
            if not tables:
                return []
            cur.execute(
                sql.SQL(" UNION ALL ").join(
                    sql.SQL("(SELECT {}, count(*) FROM {})").format(
                        sql.Literal(i), sql.Identifier(schema, name)
                    )
                    for i, (schema, name) in enumerate(tables)
                )
            )
            counts = dict(cur.fetchall())
        return [
            (name if schema == "public" else f"{schema}.{name}", int(counts[i]))
            for i, (schema, name) in enumerate(tables)
        ]
    finally:
        conn.close()


def summary(run: Run, seed_dir: Path) -> list[str]:
    from genonaut.seed.core.text_table import format_table

    counts = table_counts(run.test_url)
    lines = ["", "==> summary", f"ran on {run.where}"]
    lines += [f"  {seconds:7.2f}s  {title}" for title, seconds in run.timings]
    lines += [f"seed written to {seed_dir} (committed fixtures untouched)", ""]
    lines += [f"rows per table in the test database {redact(run.test_url)}:", ""]
    lines += format_table(("table", "rows"), counts, ("total", sum(n for _, n in counts)))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m genonaut.db.demo.run_demo", description=(__doc__ or "").splitlines()[0]
    )
    parser.add_argument(
        "--scale", type=float, default=0.01, help="size of the demo data (default: 0.01)"
    )
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=REPO / "build" / "demo-seed",
        help="where the exported seed goes (default: build/demo-seed)",
    )
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    seed = args.output_dir.resolve()
    run: Run | None = None
    try:
        with servers() as run:
            run.step(
                "create the demo database", "genonaut.db.init_db", "--database-url", run.demo_url
            )
            run.step(
                "create the test database", "genonaut.db.init_db", "--database-url", run.test_url
            )
            run.step(
                f"generate demo data (scale {args.scale})",
                SEED,
                "--database-url",
                run.demo_url,
                "--scale",
                str(args.scale),
                "--replace",
                "--verbosity",
                "quiet",
            )
            run.step(
                "export the seed from the demo database",
                f"{SEED}.export_seed_from_demo",
                "--database-url",
                run.demo_url,
                "--output-dir",
                str(seed),
                "--verbosity",
                "quiet",
            )
            run.step(
                "import the seed into the test database, verified",
                f"{SEED}.import_seed_to_test",
                "--database-url",
                run.test_url,
                "--input-dir",
                str(seed),
                "--truncate-first",
                "--verify",
                "--verbosity",
                "quiet",
            )
            print("\n".join(summary(run, seed)))
    except StepFailed as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        during = f" during '{run.current}'" if run and run.current else ""
        embedded = run is not None and run.where != "the configured servers"
        stopped = "; the embedded PostgreSQL is stopped" if embedded else ""
        print(
            f"interrupted{during}: the committed fixtures are unchanged{stopped}",
            file=sys.stderr,
            flush=True,
        )
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
