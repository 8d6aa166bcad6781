"""Command line: fill a database with deterministic demo data.

python -m genonaut.db.demo.seed_data_gen --scale S (--env-target demo | --database-url URL)
"""

from __future__ import annotations

import argparse
import sys

from genonaut.db.demo.seed_data_gen.demo_data import generate_demo_data, has_data
from genonaut.db.demo.seed_data_gen.errors import SeedError


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
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    from genonaut.db.init_db import create_schema, ensure_database
    from genonaut.db.utils import database_url, redact

    try:
        url = args.database_url or database_url(args.env_target)
        ensure_database(url)
        create_schema(url)
        if has_data(url) and not args.replace:
            print(
                f"Error: {redact(url)} already holds demo data\n"
                "Hint: add --replace to empty it first",
                file=sys.stderr,
            )
            return 2
        report = generate_demo_data(
            url,
            args.scale,
            replace=args.replace,
            on_table=lambda name, rows, secs: print(
                f"  {name}: {rows:,} rows in {secs:.2f}s", file=sys.stderr, flush=True
            ),
        )
    except SeedError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"Hint: {exc.hint}", file=sys.stderr)
        return 2
    print(report.as_table())
    summary = f"{report.rows:,} rows, {report.seconds:.1f}s"
    print(f"demo data at scale {args.scale} in {redact(url)}: {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
