"""What the command-line scripts share: target flags, verbosity, and one way to fail."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from genonaut.errors import fail as fail
from genonaut.seed.errors import ConfigError

if TYPE_CHECKING:
    from genonaut.seed.engines.postgres.connection import Tracer


def add_target_flags(parser: argparse.ArgumentParser, default_env: str, verb: str) -> None:
    """--env-target ENV | --database-url URL."""
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--env-target",
        default=default_env,
        help=f"environment whose database to {verb} (config/local-<env>.json, "
        f"DATABASE_URL_<ENV>); default: {default_env}",
    )
    target.add_argument("--database-url", help=f"{verb} this database instead")


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbosity",
        choices=("quiet", "info", "debug"),
        default="info",
        help="info: a line per table on stderr; debug: every SQL statement too",
    )
    parser.add_argument("--traceback", action="store_true", help="show the stack on errors")


def database_url_of(args: argparse.Namespace) -> str:
    """The URL --database-url or --env-target names; a malformed one is a ConfigError."""
    from genonaut.db.utils import SettingsError, target_url

    try:
        return target_url(args.env_target, args.database_url)
    except SettingsError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from exc


def tracer_for(args: argparse.Namespace) -> Tracer | None:
    if args.verbosity != "debug":
        return None
    return lambda statement: print(f"SQL: {statement}", file=sys.stderr)


def say(args: argparse.Namespace) -> Callable[[str], None]:
    """A progress printer for stderr that --verbosity quiet silences."""

    def progress(line: str) -> None:
        if args.verbosity != "quiet":
            print(line, file=sys.stderr, flush=True)

    return progress
