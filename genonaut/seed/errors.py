"""Errors the seed tools raise: one class per condition, each with a hint saying what to do next."""

from __future__ import annotations

from genonaut.errors import HintedError


class SeedError(HintedError):
    """Base class of the seed tool's errors: a condition the user can act on. `hint` says how."""


class ConfigError(SeedError):
    """A flag or config-file entry is malformed or names something that does not exist."""


class ConnectionFailed(SeedError):
    """The database server could not be reached or refused the login."""


class UnknownTable(ConfigError):
    """A table named in options or config is not in the database."""


class UnknownColumn(ConfigError):
    """A column named in options or config is not in its table."""


class EmptySelection(SeedError):
    """A table that has rows in the source would export none."""


class UnbreakableCycle(SeedError):
    """Tables reference each other in a way no load order can satisfy."""


class FixtureError(SeedError):
    """A fixture file or manifest is missing, malformed or damaged."""


class SchemaDrift(SeedError):
    """The fixtures and the target database disagree about tables or columns."""


class VerifyFailed(SeedError):
    """The database refused a check of verify; nothing was written."""


class LoadFailed(SeedError):
    """The database rejected a row while loading; nothing was committed."""


class SetupFailed(SeedError):
    """The database refused to take the app's schema or the demo data."""


class ExportFailed(SeedError):
    """The source refused a statement of the export; nothing was written."""


def export_refused(message: str) -> ExportFailed:
    """The one-line error for a driver error raised while an export reads its source."""
    return ExportFailed(
        f"the source refused a statement of the export: {message}; nothing was written",
        hint="a condition (--where, --include, the config file's where or a relation's when) "
        "is the usual cause: try it in a SELECT of your own; --verbosity debug shows each "
        "statement",
    )
