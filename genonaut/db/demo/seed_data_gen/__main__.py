"""Command line: fill a database with deterministic demo data.

python -m genonaut.db.demo.seed_data_gen --scale S (--env-target demo | --database-url URL)
"""

from __future__ import annotations

import argparse
import sys

from genonaut.db.demo.seed_data_gen.demo_data import generate_demo_data, has_data
from genonaut.errors import HintedError
from genonaut.seed.errors import SetupFailed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m genonaut.db.demo.seed_data_gen",
        description="Fill the app's tables with deterministic demo data (creating the database "
        "and schema if needed). Scale 1.0 is about a million rows in the largest tables.",
    )
    parser.add_argument("--scale", type=float, default=0.01, help="size (default: 0.01)")
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--env-target", default="demo", help="environment (default: demo)")
    target.add_argument("--database-url", help="this database instead")
    parser.add_argument(
        "--replace", action="store_true", help="empty the tables first if they hold data"
    )
    parser.add_argument(
        "--verbosity",
        choices=("quiet", "info"),
        default="info",
        help="info: progress on stderr (which table, how far, time left); quiet: the result only",
    )
    parser.add_argument("--traceback", action="store_true", help="show the stack on errors")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    import psycopg2

    from genonaut.db.init_db import prepare
    from genonaut.db.utils import redact
    from genonaut.seed.cli import database_url_of, fail, say
    from genonaut.seed.engines.postgres.connection import first_line

    output = say(args)

    def on_start(name: str, i: int, n: int, rows: int, left: float | None) -> None:
        estimate = f", about {_duration(left)} left" if left is not None else ""
        output.update("generate", f"{i}/{n} {name}: about {rows:,} rows{estimate}")

    try:
        url = database_url_of(args)
        prepare(url)
        try:
            if has_data(url) and not args.replace:
                raise SetupFailed(
                    f"{redact(url)} already holds demo data",
                    hint="add --replace to empty it first (make generate-demo-data ARGS=--replace)",
                )
            report = generate_demo_data(
                url,
                args.scale,
                replace=args.replace,
                on_start=on_start,
            )
        except psycopg2.Error as exc:
            raise SetupFailed(
                f"cannot fill {redact(url)}: {first_line(exc)}; nothing was written",
                hint="its tables are not the app's: fill a database that make init-demo made",
            ) from exc
    except HintedError as exc:  # the seed tool's errors, and init_db's
        output.end()
        if args.traceback:
            raise
        return fail(exc)
    except KeyboardInterrupt:
        return output.interrupted("no demo data was written: the tables are as they were")
    summary = f"{report.rows:,} rows, {report.seconds:.1f}s"
    result = f"demo data at scale {args.scale} in {redact(url)}: {summary}"
    output.report(f"{report.as_table()}\n{result}", result)
    return 0


def _duration(seconds: float) -> str:
    """`45s`, `3m10s`."""
    whole = round(seconds)
    return f"{whole}s" if whole < 60 else f"{whole // 60}m{whole % 60:02d}s"


if __name__ == "__main__":
    sys.exit(main())
