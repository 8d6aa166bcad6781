"""Command line: export a foreign-key-closed seed of the demo database as TSV fixtures.

python -m genonaut.db.demo.seed_data_gen.export_seed_from_demo [options]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from genonaut.db.utils import repo_root
from genonaut.seed.cli import (
    add_output_flags,
    add_target_flags,
    database_url_of,
    fail,
    say,
    tracer_for,
)
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import (
    DEFAULT_CONFIG,
    DEFAULT_OUTPUT_DIR,
    ExportSettings,
    apply_config,
    load_config,
    parse_assignment,
)
from genonaut.seed.errors import ConfigError, SeedError


def build_parser() -> argparse.ArgumentParser:
    """The command line's flags (docs/cli.md lists them; test/unit/test_docs.py checks it)."""
    parser = argparse.ArgumentParser(
        prog="export_seed_from_demo",
        description="Export up to N rows of every table of the demo database (or of any "
        "PostgreSQL, MariaDB or SQLite database), with every row they reference, as TSV "
        "fixtures (PostgreSQL COPY text format) plus manifest.json.",
    )
    add_target_flags(parser, "demo", "read")
    parser.add_argument(
        "--output-dir",
        type=Path,
        help="fixture directory, replaced only when the export succeeds "
        f"(default: {DEFAULT_OUTPUT_DIR} of the checkout)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        help=f"JSON config file: limits, filters, includes, virtual relations "
        f"(default: {DEFAULT_CONFIG} of the checkout, when it exists)",
    )
    parser.add_argument("--no-config", action="store_true", help="ignore the default config file")
    parser.add_argument("--default-limit", type=int, help="rows per table before closure (100)")
    parser.add_argument(
        "--table-limit", action="append", default=[], metavar="T=N", help="limit for one table"
    )
    parser.add_argument(
        "--tables",
        nargs="+",
        action="extend",
        metavar="T",
        help="export only these tables (and what they reference)",
    )
    parser.add_argument(
        "--exclude", nargs="+", action="extend", default=[], metavar="T", help="leave tables out"
    )
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
    add_output_flags(parser)
    return parser


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def build_settings(args: argparse.Namespace) -> ExportSettings:
    """Defaults < config file < flags. The default paths are the checkout's, wherever the
    command runs from."""
    output_dir = args.output_dir or repo_root() / DEFAULT_OUTPUT_DIR
    settings = ExportSettings(database_url=database_url_of(args), output_dir=output_dir)
    if args.config is not None and args.no_config:
        raise ConfigError(
            f"--config {args.config} and --no-config contradict each other",
            hint="give one of them",
        )
    default_config = repo_root() / DEFAULT_CONFIG
    config = args.config or (default_config if default_config.is_file() else None)
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
                raise ConfigError(
                    f"--table-limit {text}: {value!r} is not a whole number",
                    hint="write --table-limit TABLE=N, for example --table-limit users=50",
                ) from None
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


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    # Imported once the flags are read, so that --help and a usage error do not load the driver.
    from genonaut.seed.commands.export import check_fixtures, export_seed

    tracer = tracer_for(args)
    progress = say(args)
    chosen: list[TableName] = []

    def on_table(table: TableName, rows: int) -> None:
        chosen.append(table)
        # Rows chosen before closure adds more: shown live on a terminal, kept out of logs.
        progress.update("choose rows", f"{len(chosen)} tables, {table}: {rows}", log=False)

    def on_file(table: TableName, rows: int, i: int, n: int) -> None:
        progress.update("write", f"{i}/{n} {table}: {rows} row{'s' if rows != 1 else ''}")

    output_dir = args.output_dir or repo_root() / DEFAULT_OUTPUT_DIR
    try:
        settings = build_settings(args)
        if args.check:
            freshness = check_fixtures(settings, tracer=tracer)
            print(freshness.as_text(settings.output_dir))
            return 1 if freshness.is_stale else 0
        report = export_seed(settings, on_table=on_table, on_file=on_file, tracer=tracer)
    except SeedError as exc:
        progress.end()
        if args.traceback:
            raise
        return fail(exc)
    except KeyboardInterrupt:
        if args.check:
            return progress.interrupted("nothing was written")
        return progress.interrupted(f"the fixtures in {output_dir} are unchanged")
    progress.report(report.as_table(), report.result_line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
