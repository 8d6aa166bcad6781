"""`make demo`: the whole workflow, on an embedded PostgreSQL unless DATABASE_URL_DEMO is set.

Starts the server, creates the demo and test databases, fills the demo database at a small
scale, exports its seed into build/demo-seed (not the committed fixtures) and imports it into
the test database, verified; then prints what happened and stops the server.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]
SEED = "genonaut.db.demo.seed_data_gen"


@contextmanager
def servers() -> Iterator[tuple[str, str, str]]:
    """(demo URL, test URL, where they run)."""
    demo, test = os.environ.get("DATABASE_URL_DEMO"), os.environ.get("DATABASE_URL_TEST")
    if demo:
        if not test:
            raise SystemExit("Error: DATABASE_URL_DEMO is set but DATABASE_URL_TEST is not")
        yield demo, test, "the configured servers"
        return
    from genonaut.db.embedded import EmbeddedServer

    with EmbeddedServer(REPO / ".pgdata" / "demo") as server:
        yield (
            server.url("genonaut_demo"),
            server.url("genonaut_test"),
            f"an embedded PostgreSQL (data in {server.data_dir.relative_to(REPO)})",
        )


def step(title: str, argv: list[str], env: dict[str, str], log: list[tuple[str, float]]) -> str:
    print(f"==> {title}", flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", *argv], cwd=REPO, env=env, text=True, stdout=subprocess.PIPE
    )
    print(done.stdout, end="", flush=True)
    if done.returncode != 0:
        raise SystemExit(f"Error: step '{title}' failed (exit {done.returncode}); see above")
    log.append((title, time.perf_counter() - started))
    return done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.01, help="demo data size (0.01)")
    parser.add_argument(
        "--output-dir", type=Path, default=REPO / "build" / "demo-seed", help="seed directory"
    )
    args = parser.parse_args(argv)
    log: list[tuple[str, float]] = []
    with servers() as (demo, test, where):
        env = dict(os.environ, DATABASE_URL_DEMO=demo, DATABASE_URL_TEST=test)
        seed = str(args.output_dir)
        step("create the demo database", ["genonaut.db.init_db", "--env-target", "demo"], env, log)
        step("create the test database", ["genonaut.db.init_db", "--env-target", "test"], env, log)
        step(
            f"generate demo data (scale {args.scale})",
            [SEED, "--env-target", "demo", "--scale", str(args.scale), "--replace"],
            env,
            log,
        )
        step(
            "export the seed",
            [f"{SEED}.export_seed_from_demo", "--output-dir", seed],
            env,
            log,
        )
        step(
            "import the seed into the test database, verified",
            [f"{SEED}.import_seed_to_test", "--input-dir", seed, "--truncate-first", "--verify"],
            env,
            log,
        )
    print("\n==> summary")
    print(f"ran on {where}")
    for title, seconds in log:
        print(f"  {seconds:7.2f}s  {title}")
    print(f"seed written to {args.output_dir}; committed fixtures untouched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
