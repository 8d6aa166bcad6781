"""Command line: load the TSV fixtures into the test database, and verify them there.

python -m genonaut.db.demo.seed_data_gen.import_seed_to_test [options]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genonaut.db.demo.seed_data_gen.errors import SeedError
from genonaut.db.demo.seed_data_gen.loader import TableResult, import_seed
from genonaut.db.demo.seed_data_gen.settings import DEFAULT_OUTPUT_DIR
from genonaut.db.demo.seed_data_gen.verify import verify_seed


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="import_seed_to_test",
        description="Load the TSV fixtures into a database in one transaction: parents before "
        "children, rows already there skipped, sequences moved past the loaded values.",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--env-target",
        default="test",
        help="environment whose database to load (config/local-<env>.json, DATABASE_URL_<ENV>); "
        "default: test",
    )
    target.add_argument("--database-url", help="load into this database instead")
    parser.add_argument(
        "--input-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help=f"fixture directory (default: {DEFAULT_OUTPUT_DIR})",
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
    parser.add_argument(
        "--verbosity",
        choices=("quiet", "info", "debug"),
        default="info",
        help="info: a line per table on stderr; debug: every SQL statement too",
    )
    parser.add_argument("--traceback", action="store_true", help="show the stack on errors")
    args = parser.parse_args(argv)
    if args.cascade and not args.truncate_first:
        parser.error("--cascade only applies with --truncate-first")
    if args.verify_only and args.truncate_first:
        parser.error("--verify-only loads nothing: drop --truncate-first")
    return args


def _env_url(env: str) -> str:
    from genonaut.db.utils import database_url

    url: str = database_url(env)
    return url


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tracer = (
        (lambda statement: print(f"SQL: {statement}", file=sys.stderr))
        if args.verbosity == "debug"
        else None
    )

    def progress(result: TableResult) -> None:
        if args.verbosity != "quiet":
            print(
                f"  {result.table}: {result.in_file} rows, {result.inserted} inserted",
                file=sys.stderr,
            )

    try:
        url = args.database_url or _env_url(args.env_target)
        if not args.verify_only:
            report = import_seed(
                args.input_dir,
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
            verdict = verify_seed(args.input_dir, url, tables=args.tables, tracer=tracer)
            print(verdict.as_table())
            return 0 if verdict.ok else 1
    except SeedError as exc:
        if args.traceback:
            raise
        return fail(exc)
    return 0


def fail(exc: SeedError) -> int:
    print(f"Error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"Hint: {exc.hint}", file=sys.stderr)
    return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
