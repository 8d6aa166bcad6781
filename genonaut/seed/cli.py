"""What the command-line scripts share: target flags, verbosity, and one way to fail."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, TextIO

from genonaut.errors import fail as fail
from genonaut.seed.errors import ConfigError

if TYPE_CHECKING:
    from genonaut.seed.core.engine import Tracer


def add_target_flags(parser: argparse.ArgumentParser, default_env: str, verb: str) -> None:
    """--env-target ENV | --database-url URL."""
    target = parser.add_mutually_exclusive_group()
    target.add_argument(
        "--env-target",
        default=default_env,
        help=f"environment whose database to {verb} (config/local-<env>.json, "
        f"DATABASE_URL_<ENV>); default: {default_env}",
    )
    target.add_argument(
        "--database-url",
        help=f"{verb} this database instead: postgresql://, mysql:// or mariadb://, sqlite:///path",
    )


def add_output_flags(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--verbosity",
        choices=("quiet", "info", "debug"),
        default="info",
        help="info: a line per table on stderr; debug: every SQL statement too",
    )
    parser.add_argument("--traceback", action="store_true", help="show the stack on errors")


def database_url_of(args: argparse.Namespace) -> str:
    """The URL --database-url or --env-target names; a malformed one, or one whose scheme no
    engine serves, is a ConfigError. The engines check their own URLs on connecting."""
    from genonaut.db.utils import SettingsError, target_url
    from genonaut.seed.engines import package_for

    if args.database_url:
        try:
            package = package_for(args.database_url)
        except ConfigError as exc:
            raise ConfigError(f"--database-url: {exc.message}", hint=exc.hint) from None
        if package != "postgres":
            return str(args.database_url)
    try:
        return target_url(args.env_target, args.database_url)
    except SettingsError as exc:
        raise ConfigError(exc.message, hint=exc.hint) from exc


def tracer_for(args: argparse.Namespace) -> Tracer | None:
    if args.verbosity != "debug":
        return None
    return lambda statement: print(f"SQL: {statement}", file=sys.stderr)


def say(args: argparse.Namespace) -> Output:
    """What a script shows on stdout and stderr, as --verbosity and the terminal allow."""
    return Output(args)


INTERRUPTED = 130  # what a shell reports for a process ended by SIGINT (128 + 2)


class Output:
    """A script's output. Progress goes to stderr: on a terminal one line per phase, rewritten
    in place as tables go by; in a log (not a terminal) one line per table; with --verbosity
    quiet, none. The report goes to stdout: a summary table ending in the one-line result, or
    with quiet that line alone.

    Example: `out = say(args); out.update("import", "3/28 users: 424 rows"); out.end()`.
    """

    def __init__(self, args: argparse.Namespace, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.quiet = args.verbosity == "quiet"
        self.live = not self.quiet and self.stream.isatty()
        self._phase: str | None = None

    def update(self, phase: str, text: str, *, log: bool = True) -> None:
        """Show `phase: text`; `log=False` keeps the line out of a log (a terminal sees it)."""
        if self.quiet:
            return
        if self.live:
            if self._phase not in (None, phase):
                self.stream.write("\n")
            self.stream.write(f"\r\033[K{phase}: {text}")
            self._phase = phase
        elif log:
            self.stream.write(f"  {phase}: {text}\n")
        self.stream.flush()

    def note(self, line: str) -> None:
        """A line on stderr unless quiet (after the live line, which it closes)."""
        self.end()
        if not self.quiet:
            print(line, file=self.stream, flush=True)

    def end(self) -> None:
        """Close the live line, so that what follows starts on a line of its own."""
        if self.live and self._phase is not None:
            self.stream.write("\n")
            self.stream.flush()
        self._phase = None

    def report(self, table: str, result_line: str) -> None:
        """The summary table (it ends with the one-line result) on stdout; quiet: that line."""
        self.end()
        print(result_line if self.quiet else table, flush=True)

    def interrupted(self, what_was_kept: str) -> int:
        """One line on stderr instead of a KeyboardInterrupt traceback; exit code 130."""
        self.end()
        print(f"interrupted: {what_was_kept}", file=self.stream, flush=True)
        return INTERRUPTED
