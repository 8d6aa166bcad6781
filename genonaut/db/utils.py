"""Database URL of an environment: config/local-<env>.json < env/.env.shared < DATABASE_URL_*."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path

from dotenv import dotenv_values
from sqlalchemy.engine import URL

from genonaut.db.demo.seed_data_gen.errors import ConfigError

ENVIRONMENTS = ("demo", "test")
REPO_ROOT = Path(__file__).resolve().parents[2]


def database_url(
    env: str, *, root: Path | None = None, environ: Mapping[str, str] | None = None
) -> str:
    """The URL of environment `env`'s database.

    `DATABASE_URL_<ENV>` wins outright; otherwise host, port, database and user come from
    `config/local-<env>.json` and the password from `env/.env.shared` (`DB_PASSWORD_<ENV>`).

    >>> database_url("test", environ={"DATABASE_URL_TEST": "postgresql://u@h/t"})
    'postgresql://u@h/t'
    """
    if env not in ENVIRONMENTS:
        raise ConfigError(
            f"unknown environment {env!r}", hint=f"use one of: {', '.join(ENVIRONMENTS)}"
        )
    root = root or REPO_ROOT
    environ = os.environ if environ is None else environ
    override = environ.get(f"DATABASE_URL_{env.upper()}")
    if override:
        return override
    path = root / "config" / f"local-{env}.json"
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"no {path} and no DATABASE_URL_{env.upper()}",
            hint=f"create {path.name} (host, port, database, user) "
            f"or set DATABASE_URL_{env.upper()}",
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path} is not valid JSON: {exc.msg} (line {exc.lineno})") from exc
    secrets = dotenv_values(root / "env" / ".env.shared")
    password = secrets.get(f"DB_PASSWORD_{env.upper()}") or config.get("password") or None
    return URL.create(
        "postgresql",
        username=config.get("user"),
        password=password,
        host=config.get("host"),
        port=int(config["port"]) if config.get("port") else None,
        database=config.get("database", f"genonaut_{env}"),
    ).render_as_string(hide_password=False)


def redact(url: str) -> str:
    """The URL with its password hidden, for messages."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
