"""Database engines: one package per engine holds everything that speaks to it through its
driver (connecting, catalogs, choosing rows, dumping and loading them, verifying), and an
`adapter` module with its `ENGINE`, the `core.engine.Engine` the commands use.

`engine_for(url)` picks the adapter by the URL's scheme from a plain table and imports it
on first use, so that a PostgreSQL export never loads PyMySQL, nor the reverse.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from genonaut.seed.errors import ConfigError

if TYPE_CHECKING:
    from genonaut.seed.core.engine import Engine

# The driver each engine package imports, and the extra that installs it.
DRIVERS = {"psycopg2": "psycopg2-binary", "pymysql": "genonaut[mariadb]"}

# URL scheme -> the engine package serving it.
SCHEMES = {
    "postgresql": "postgres",
    "postgres": "postgres",
    "postgresql+psycopg2": "postgres",
    "mysql": "mariadb",
    "mariadb": "mariadb",
    "mysql+pymysql": "mariadb",
    "mariadb+pymysql": "mariadb",
    "sqlite": "sqlite",
}


def scheme_of(url: str) -> str:
    """The scheme of `url`, lower case; "postgresql" for a libpq key=value DSN.

    >>> scheme_of("SQLite:///seed.db"), scheme_of("host=db dbname=demo")
    ('sqlite', 'postgresql')
    """
    scheme, sep, _ = url.partition("://")
    if not sep:
        scheme, sep, _ = url.partition(":")
        if not sep or "=" in scheme or " " in scheme:
            return "postgresql"  # libpq's key=value form
    return scheme.lower()


def package_for(url: str) -> str:
    """The engine package serving `url` ("postgres", "mariadb", "sqlite"); ConfigError for
    any other scheme."""
    scheme = scheme_of(url)
    if scheme not in SCHEMES:
        raise ConfigError(
            f"no engine serves {scheme}:// URLs",
            hint="use one of " + ", ".join(f"{s}://" for s in SCHEMES),
        )
    return SCHEMES[scheme]


def engine_for(url: str) -> Engine:
    """The adapter for `url`'s engine, its module imported on first use.

    >>> engine_for("sqlite:///seed.db").name
    'sqlite'
    """
    package = package_for(url)
    try:
        module = importlib.import_module(f"{__name__}.{package}.adapter")
    except ModuleNotFoundError as exc:
        if exc.name not in DRIVERS:
            raise
        raise ConfigError(
            f"{scheme_of(url)}:// URLs need the {exc.name} driver, which is not installed",
            hint=f"pip install {DRIVERS[exc.name]}",
        ) from exc
    engine: Engine = module.ENGINE
    return engine
