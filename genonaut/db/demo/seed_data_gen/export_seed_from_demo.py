"""Command line: export a foreign-key-closed seed of the demo database as TSV fixtures.

python -m genonaut.db.demo.seed_data_gen.export_seed_from_demo [options]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genonaut.db.demo.seed_data_gen.errors import SeedError
from genonaut.db.demo.seed_data_gen.exporter import check_fixtures, export_seed
from genonaut.db.demo.seed_data_gen.schema_graph import TableName
from genonaut.db.demo.seed_data_gen.settings import (
    DEFAULT_CONFIG,
    DEFAULT_OUTPUT_DIR,
    ExportSettings,
    apply_config,
    load_config,
    parse_assignment,
)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="export_seed_from_demo",
        description="Export up to N rows of every table of the demo database, with every row "
        "they reference, as TSV fixtures (PostgreSQL COPY text format) plus manifest.json.",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--env-target",
        default="demo",
        help="environment whose database to read (config/local-<env>.json, DATABASE_URL_<ENV>); "
        "default: demo",
    )
    target.add_argument("--database-url", help="read this database instead")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=DEFAULT_OUTPUT_DIR,
        help="fixture directory, replaced only when the export succeeds "
        f"(default: {DEFAULT_OUTPUT_DIR})",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help=f"JSON config file: limits, filters, includes, virtual relations "
        f"(default: {DEFAULT_CONFIG} when it exists)",
    )
    parser.add_argument("--no-config", action="store_true", help="ignore the default config file")
    parser.add_argument("--default-limit", type=int, help="rows per table before closure (100)")
    parser.add_argument(
        "--table-limit", action="append", default=[], metavar="T=N", help="limit for one table"
    )
    parser.add_argument(
        "--tables",
        nargs="+",
        metavar="T",
        help="export only these tables (and what they reference)",
    )
    parser.add_argument("--exclude", nargs="+", default=[], metavar="T", help="leave tables out")
    parser.add_argument(
        "--schema", action="append", default=[], help="export only tables of this schema"
    )
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="T=SQL",
        help="choose a table's rows among those matching SQL (closure may still add others)",
    )
    parser.add_argument(
        "--include",
        action="append",
        default=[],
        metavar="T=SQL",
        help="rows that must be in the seed, with every row that references them",
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing: exit 1 when the fixtures in --output-dir no longer match the schema",
    )
    parser.add_argument(
        "--verbosity",
        choices=("quiet", "info", "debug"),
        default="info",
        help="info: a line per table on stderr; debug: every SQL statement too",
    )
    parser.add_argument("--traceback", action="store_true", help="show the stack on errors")
    return parser.parse_args(argv)


def build_settings(args: argparse.Namespace) -> ExportSettings:
    """Defaults < config file < flags."""
    url = args.database_url or _env_url(args.env_target)
    settings = ExportSettings(database_url=url, output_dir=args.output_dir)
    config = args.config or (DEFAULT_CONFIG if DEFAULT_CONFIG.is_file() else None)
    if config is not None and not args.no_config:
        settings = apply_config(settings, load_config(config), str(config))
    changes: dict[str, object] = {}
    if args.default_limit is not None:
        changes["default_limit"] = args.default_limit
    if args.table_limit:
        limits = dict(settings.table_limits)
        for text in args.table_limit:
            name, value = parse_assignment(text, "--table-limit")
            try:
                limits[name] = int(value)
            except ValueError:
                limits[name] = -1  # rejected with a clear message when resolved
        changes["table_limits"] = limits
    if args.tables:
        changes["tables"] = tuple(args.tables)
    if args.exclude:
        changes["exclude"] = settings.exclude + tuple(args.exclude)
    if args.schema:
        changes["schemas"] = tuple(args.schema)
    if args.where:
        where = dict(settings.where)
        where.update(parse_assignment(text, "--where") for text in args.where)
        changes["where"] = where
    if args.include:
        changes["include"] = settings.include + tuple(
            parse_assignment(text, "--include") for text in args.include
        )
    return settings.merged(**changes)


def _env_url(env: str) -> str:
    from genonaut.db.utils import database_url

    return database_url(env)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    tracer = (
        (lambda statement: print(f"SQL: {statement}", file=sys.stderr))
        if (args.verbosity == "debug")
        else None
    )

    def progress(table: TableName, rows: int) -> None:
        if args.verbosity != "quiet":
            print(f"  {table}: {rows} rows", file=sys.stderr)

    try:
        settings = build_settings(args)
        if args.check:
            freshness = check_fixtures(settings, tracer=tracer)
            print(freshness.as_text(settings.output_dir))
            return 1 if freshness.is_stale else 0
        report = export_seed(settings, on_table=progress, tracer=tracer)
    except SeedError as exc:
        if args.traceback:
            raise
        return fail(exc)
    print(report.as_table())
    return 0


def fail(exc: SeedError) -> int:
    print(f"Error: {exc.message}", file=sys.stderr)
    if exc.hint:
        print(f"Hint: {exc.hint}", file=sys.stderr)
    return exc.exit_code


if __name__ == "__main__":
    sys.exit(main())
