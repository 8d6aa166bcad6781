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
from genonaut.seed.core.fixture_format import DEFAULT_OUTPUT_DIR
from genonaut.seed.errors import SeedError

if TYPE_CHECKING:
    from genonaut.seed.core.engine import LoadedTable


def build_parser() -> argparse.ArgumentParser:
    """The command line's flags (docs/cli.md lists them; test/unit/test_docs.py checks it)."""
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
        help="empty the loaded tables first, in the same transaction (RESTART IDENTITY); "
        "PostgreSQL and SQLite",
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="put the seeded tables back to exactly the fixtures (empty, restart identities, "
        "load, verify); does nothing when they already match; PostgreSQL only",
    )
    parser.add_argument(
        "--cascade",
        action="store_true",
        help="with --truncate-first or --reset: also empty the tables that reference them",
    )
    parser.add_argument(
        "--disable-triggers",
        action="store_true",
        help="keep the tables' own triggers from firing while loading (foreign keys are still "
        "checked); needs ownership of the tables; PostgreSQL and SQLite",
    )
    checks = parser.add_mutually_exclusive_group()
    checks.add_argument(
        "--verify", action="store_true", help="after loading, check every row and relation"
    )
    checks.add_argument(
        "--verify-only", action="store_true", help="load nothing: only check rows and relations"
    )
    add_output_flags(parser)
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.cascade and not (args.truncate_first or args.reset):
        parser.error("--cascade only applies with --truncate-first or --reset")
    if args.reset and (args.truncate_first or args.tables or args.verify_only):
        parser.error(
            "--reset resets every seeded table: drop --truncate-first, --tables and --verify-only"
        )
    if args.verify_only and args.truncate_first:
        parser.error("--verify-only loads nothing: drop --truncate-first")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Imported once the flags are read, so that --help and a usage error do not load the driver.
    from genonaut.seed.commands.load import import_seed, reset_to_seed
    from genonaut.seed.commands.verify import verify_seed

    tracer = tracer_for(args)
    output = say(args)
    progressed: list[LoadedTable] = []
    input_dir = args.input_dir or repo_root() / DEFAULT_OUTPUT_DIR

    total: list[int] = []

    def progress(result: LoadedTable) -> None:
        progressed.append(result)
        kept = f", {result.already_there} already there" if result.already_there else ""
        output.update(
            "import",
            f"{len(progressed)}/{total[0] if total else '?'} {result.table}: "
            f"{result.in_file} rows, {result.inserted} inserted{kept}",
        )

    imported = False
    try:
        url = database_url_of(args)
        if args.reset:
            reset = reset_to_seed(input_dir, url, cascade=args.cascade, tracer=tracer)
            print(reset.as_text())
            return 0 if reset.ok else 1
        if not args.verify_only:
            from genonaut.seed.core.fixture_files import choose_tables, read_fixture_manifest

            total.append(len(choose_tables(read_fixture_manifest(input_dir), args.tables)))
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
            imported = True
            output.report(report.as_table(), report.result_line())
            for note in report.notes() if args.verbosity == "quiet" else ():
                print(note, file=sys.stderr)
        if args.verify or args.verify_only:
            verdict = verify_seed(input_dir, url, tables=args.tables, tracer=tracer)
            # A failed verify names its problems even when quiet.
            shown = verdict.result_line()
            if not verdict.ok:
                shown = "\n".join([*verdict.problems(), shown])
            output.report(verdict.as_table(), shown)
            return 0 if verdict.ok else 1
    except SeedError as exc:
        output.end()
        if args.traceback:
            raise
        code = fail(exc)
        if progressed and args.verbosity != "quiet":
            # The progress lines above spoke of rows inserted in the transaction undone.
            print("Nothing was written: the import rolled back as a whole.", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        if imported:
            return output.interrupted("the import had finished; the check stopped, writing nothing")
        return output.interrupted("nothing was written: the import rolled back as a whole")
    return 0


if __name__ == "__main__":
    sys.exit(main())
