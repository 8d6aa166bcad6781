"""Database URL of an environment: config/local-<env>.json < env/.env.shared < DATABASE_URL_*."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from genonaut.database_url import redact, to_libpq_dsn
from genonaut.errors import HintedError

__all__ = [
    "SettingsError",
    "checked_url",
    "database_url",
    "redact",
    "repo_root",
    "target_url",
    "to_libpq_dsn",
]

ENVIRONMENTS = ("demo", "test")
# What config/local-<env>.json may hold; anything else is a typo that would silently pick the
# wrong database ("dbname" for "database", say).
CONFIG_KEYS = ("host", "port", "database", "user", "password")
# scheme://[userinfo@]host[:port][,host[:port]...][/database][?query]
_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<rest>[^?]*)(?:\?.*)?", re.DOTALL)
_HOST_PORT = re.compile(r"(?:\[[^\]]*\]|[^:\[\]]*)(?::(?P<port>\d*))?")


class SettingsError(HintedError):
    """An environment's database settings are missing or malformed: config/local-<env>.json,
    env/.env.shared or a DATABASE_URL_<ENV> / --database-url."""


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
        raise SettingsError(
            f"unknown environment {env!r}", hint=f"use one of: {', '.join(ENVIRONMENTS)}"
        )
    root = root or repo_root()
    environ = os.environ if environ is None else environ
    variable = f"DATABASE_URL_{env.upper()}"
    override = environ.get(variable)
    if override:
        return checked_url(override, variable)
    path = root / "config" / f"local-{env}.json"
    config = _read_config(path, variable)
    from dotenv import dotenv_values  # only here: a --database-url needs no env file

    # No ${VAR} expansion: a password is taken exactly as written.
    secrets = dotenv_values(root / "env" / ".env.shared", interpolate=False)
    password = (
        secrets.get(f"DB_PASSWORD_{env.upper()}")
        or secrets.get("DB_PASSWORD")
        or _text(config, "password", path)
        or None
    )
    return _postgres_url(
        user=_text(config, "user", path),
        password=password,
        host=_text(config, "host", path),
        port=_port(config.get("port"), path),
        database=_text(config, "database", path) or f"genonaut_{env}",
    )


def _postgres_url(
    *, user: str | None, password: str | None, host: str | None, port: int | None, database: str
) -> str:
    """postgresql://user:password@host:port/database, each part percent-encoded.

    A unix-socket directory ("/var/run/postgresql") cannot sit in the URL's host part: it goes
    in the query, as libpq's own URLs write it.

    >>> _postgres_url(user="app", password="p@ss", host="/tmp", port=None, database="demo")
    'postgresql://app:p%40ss@/demo?host=/tmp'
    """
    userinfo = quote(user or "", safe="")
    if password:
        userinfo += ":" + quote(password, safe="")
    socket_dir = host if host and host.startswith("/") else None
    netloc = f"{userinfo}@" if userinfo else ""
    if host and not socket_dir:
        netloc += f"[{host}]" if ":" in host else host
    if port:
        netloc += f":{port}"
    query = f"?host={quote(socket_dir)}" if socket_dir else ""
    return f"postgresql://{netloc}/{quote(database, safe='')}{query}"


def target_url(env_target: str, database_url_flag: str | None) -> str:
    """The URL a command's --database-url gives, else that of its --env-target.

    >>> target_url("demo", "postgresql://app@db/mine")
    'postgresql://app@db/mine'
    """
    if database_url_flag:
        return checked_url(database_url_flag, "--database-url")
    return database_url(env_target)


def checked_url(url: str, source: str) -> str:
    """`url` when it parses as a database URL; else a SettingsError naming `source`, not the URL
    (which may hold a password).

    >>> checked_url("postgresql://app@db/genonaut_test", "--database-url")
    'postgresql://app@db/genonaut_test'
    """
    found = _URL.fullmatch(url)
    if found is None or not _ports_are_numbers(found["rest"]):
        raise SettingsError(
            f"{source} is not a database URL",
            hint="write it as postgresql://user:password@host:5432/dbname "
            "(percent-encode @ : / % # in the password)",
        )
    scheme = found["scheme"].split("+")[0]
    if not scheme.startswith("postgres"):
        raise SettingsError(
            f"{source} names a {scheme} database; the tools need PostgreSQL",
            hint="write it as postgresql://user:password@host:5432/dbname",
        )
    return url


def _ports_are_numbers(rest: str) -> bool:
    """Whether every host of a URL's `[userinfo@]hosts[/database]` part has a numeric port,
    or none (libpq itself would only say so on connecting)."""
    hosts = rest.rpartition("@")[2].partition("/")[0]
    for host in hosts.split(","):
        found = _HOST_PORT.fullmatch(host)
        if found is None or (found["port"] is not None and not 0 < int(found["port"] or 0) < 65536):
            return False
    return True


def _text(config: dict[str, Any], key: str, path: Path) -> str | None:
    value = config.get(key)
    if value is None or isinstance(value, str):
        return value or None
    raise SettingsError(
        f"{path}: {key} must be a string, not {value!r}",
        hint='e.g. {"host": "127.0.0.1", "port": 5432, "database": "genonaut_demo", ...}',
    )


def _port(value: Any, path: Path) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 < value < 65536:
        return value
    if isinstance(value, str) and value.isdigit() and 0 < int(value) < 65536:
        return int(value)
    raise SettingsError(
        f"{path}: port must be a number from 1 to 65535, not {value!r}",
        hint='write it as a JSON number, e.g. "port": 5432',
    )


def _read_config(path: Path, variable: str) -> dict[str, Any]:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SettingsError(
            f"no {path} and no {variable}",
            hint=f"create {path.name} (host, port, database, user) or set {variable}",
        ) from None
    except json.JSONDecodeError as exc:
        raise SettingsError(
            f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})",
            hint='it holds one object, e.g. {"host": "127.0.0.1", "port": 5432, ...}',
        ) from exc
    if not isinstance(config, dict):
        raise SettingsError(
            f"{path} holds a {type(config).__name__}, not an object",
            hint="write host, port, database and user as keys of one JSON object",
        )
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise SettingsError(
            f"{path} has unknown key(s): {', '.join(unknown)}",
            hint=f"known keys: {', '.join(CONFIG_KEYS)} (the password belongs in env/.env.shared)",
        )
    return config
