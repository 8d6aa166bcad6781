"""Database URL of an environment: config/local-<env>.json < env/.env.shared < DATABASE_URL_*."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import psycopg2.extensions
from dotenv import dotenv_values
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from genonaut.db.demo.seed_data_gen.errors import ConfigError

ENVIRONMENTS = ("demo", "test")


def repo_root(start: Path | None = None) -> Path:
    """The nearest directory holding pyproject.toml above `start` (this module), else the cwd.

    >>> (repo_root() / "pyproject.toml").is_file()
    True
    """
    here = (start or Path(__file__)).resolve()
    for directory in (here, *here.parents):
        if (directory / "pyproject.toml").is_file():
            return directory
    # An installed (not editable) package: the checkout is where the command runs.
    return Path.cwd()


def database_url(
    env: str, *, root: Path | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The URL of environment `env`'s database.

    `DATABASE_URL_<ENV>` wins outright; otherwise host, port, database and user come from
    `config/local-<env>.json` and the password from `env/.env.shared` (`DB_PASSWORD_<ENV>`,
    else `DB_PASSWORD`).

    >>> database_url("test", environ={"DATABASE_URL_TEST": "postgresql://u@h/t"})
    'postgresql://u@h/t'
    """
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {env!r}", hint=f"use one of: {', '.join(ENVIRONMENTS)}"
        )
    root = root or repo_root()
    environ = os.environ if environ is None else environ
    variable = f"DATABASE_URL_{env.upper()}"
    override = environ.get(variable)
    if override:
        return override
    config = _read_config(root / "config" / f"local-{env}.json", variable)
    secrets = dotenv_values(root / "env" / ".env.shared")
    password = (
        secrets.get(f"DB_PASSWORD_{env.upper()}")
        or secrets.get("DB_PASSWORD")
        or config.get("password")
        or None
    )
    port = config.get("port")
    return URL.create(
        "postgresql",
        username=config.get("user"),
        password=password,
        host=config.get("host"),
        port=int(port) if port else None,
        database=config.get("database", f"genonaut_{env}"),
    ).render_as_string(hide_password=False)


def _read_config(path: Path, variable: str) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no {path} and no {variable}",
            hint=f"create {path.name} (host, port, database, user) or set {variable}",
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})",
            hint='it holds one object, e.g. {"host": "127.0.0.1", "port": 5432, ...}',
        ) from exc
    if not isinstance(config, dict):
        raise ConfigError(
            f"{path} holds a {type(config).__name__}, not an object",
            hint="write host, port, database and user as keys of one JSON object",
        )
    return config


def to_libpq_dsn(url: str) -> str:
    """A DSN psycopg2.connect accepts, from a SQLAlchemy-style or libpq URL.

    >>> to_libpq_dsn("postgresql+psycopg2://app:pw@db:6543/genonaut_test")
    'host=db port=6543 user=app password=pw dbname=genonaut_test'
    >>> to_libpq_dsn("postgresql://postgres:@/postgres?host=/tmp/sock")
    'host=/tmp/sock user=postgres dbname=postgres'
    """
    parsed = make_url(url)
    parts: dict[str, Any] = {
        "host": parsed.host,
        "port": parsed.port,
        "user": parsed.username,
        "password": parsed.password,
        "dbname": parsed.database,
    }
    for key, value in parsed.query.items():
        parts[key] = value if isinstance(value, str) else value[-1]
    dsn: str = psycopg2.extensions.make_dsn(
        **{key: value for key, value in parts.items() if value not in (None, "")}
    )
    return dsn


def redact(url: str) -> str:
    """The URL with its password hidden, for messages.

    >>> redact("postgresql://app:s3cret@db/genonaut_demo")
    'postgresql://app:***@db/genonaut_demo'
    """
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:  # not a URL (a libpq keyword string, say): show nothing that may leak
        return "<database URL>"
