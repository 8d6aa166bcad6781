"""Command line: load the TSV fixtures into the test database, and verify them there.

python -m genonaut.db.demo.seed_data_gen.import_seed_to_test [options]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from genonaut.db.utils import repo_root
from genonaut.seed.cli import (
    add_output_flags,
    add_target_flags,
    database_url_of,
    fail,
    say,
    tracer_for,
)
from genonaut.seed.core.settings import DEFAULT_OUTPUT_DIR
from genonaut.seed.errors import SeedError

if TYPE_CHECKING:
    from genonaut.seed.engines.postgres.loader import TableResult


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="import_seed_to_test",
        description="Load the TSV fixtures into a database in one transaction: parents before "
        "children, rows already there skipped, sequences moved past the loaded values.",
    )
    add_target_flags(parser, "test", "load")
    parser.add_argument(
        "--input-dir",
        type=Path,
        help=f"fixture directory (default: {DEFAULT_OUTPUT_DIR} of the checkout)",
    )
    parser.add_argument(
        "--tables",
        nargs="+",
        action="extend",
        dest="tables",
        default=[],
        metavar="T",
        help="load only these tables; the rows they reference must already be in the target",
    )
    parser.add_argument(
        "--table", action="append", dest="tables", metavar="T", help="load this table; repeatable"
    )
    parser.add_argument(
        "--truncate-first",
        action="store_true",
        help="empty the loaded tables first, in the same transaction (RESTART IDENTITY)",
    )
    parser.add_argument(
        "--cascade",
        action="store_true",
        help="with --truncate-first: also empty the tables that reference them",
    )
    parser.add_argument(
        "--disable-triggers",
        action="store_true",
        help="keep the tables' own triggers from firing while loading (foreign keys are still "
        "checked); needs ownership of the tables",
    )
    checks = parser.add_mutually_exclusive_group()
    checks.add_argument(
        "--verify", action="store_true", help="after loading, check every row and relation"
    )
    checks.add_argument(
        "--verify-only", action="store_true", help="load nothing: only check rows and relations"
    )
    add_output_flags(parser)
    args = parser.parse_args(argv)
    if args.cascade and not args.truncate_first:
        parser.error("--cascade only applies with --truncate-first")
    if args.verify_only and args.truncate_first:
        parser.error("--verify-only loads nothing: drop --truncate-first")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Imported once the flags are read, so that --help and a usage error do not load the driver.
    from genonaut.seed.engines.postgres.loader import import_seed
    from genonaut.seed.engines.postgres.verify import verify_seed

    tracer = tracer_for(args)
    progress_line = say(args)

    progressed: list[TableResult] = []

    def progress(result: TableResult) -> None:
        progressed.append(result)
        progress_line(f"  {result.table}: {result.in_file} rows, {result.inserted} inserted")

    input_dir = args.input_dir or repo_root() / DEFAULT_OUTPUT_DIR
    try:
        url = database_url_of(args)
        if not args.verify_only:
            report = import_seed(
                input_dir,
                url,
                tables=args.tables,
                truncate_first=args.truncate_first,
                cascade=args.cascade,
                disable_triggers=args.disable_triggers,
                on_table=progress,
                tracer=tracer,
            )
            print(report.as_table())
        if args.verify or args.verify_only:
            verdict = verify_seed(input_dir, url, tables=args.tables, tracer=tracer)
            print(verdict.as_table())
            return 0 if verdict.ok else 1
    except SeedError as exc:
        if args.traceback:
            raise
        code = fail(exc)
        if progressed and args.verbosity != "quiet":
            # The progress lines above spoke of rows inserted in the transaction undone.
            print("Nothing was written: the import rolled back as a whole.", file=sys.stderr)
        return code
    return 0


if __name__ == "__main__":
    sys.exit(main())
