"""Database URLs as users write them, for the app and the seed tool alike: to a libpq DSN, with
the password hidden for messages, and what to say when a connection fails.

No SQLAlchemy: libpq (through psycopg2) parses the URL when a connection is made, and
psycopg2 itself is imported only then, so a command's `--help` does not load it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit, urlunsplit

# SQLAlchemy's spelling names the driver: postgresql+psycopg2://. libpq knows only the scheme.
_DRIVER = re.compile(r"^(postgres(?:ql)?)\+[\w.]*://")
# The DSN lists these first, in this order, as people write them; libpq's other keys follow.
_LEADING = ("host", "port", "user", "password", "dbname")
# scheme://user:password@ : a non-empty password up to the last @ before any query string.
_URL_PASSWORD = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:@/?]*:)[^?]+@")
# password=... in a query string or a libpq keyword string, quoted or not.
_PARAM_PASSWORD = re.compile(r"(\bpassword\s*=\s*)('(?:[^'\\]|\\.)*'|[^&\s]+)", re.IGNORECASE)


def to_libpq_dsn(url: str) -> str:
    """A DSN psycopg2.connect accepts, from a SQLAlchemy-style or libpq URL (or a DSN).

    >>> to_libpq_dsn("postgresql+psycopg2://app:pw@db:6543/genonaut_test")
    'host=db port=6543 user=app password=pw dbname=genonaut_test'
    >>> to_libpq_dsn("postgresql://postgres:@/postgres?host=/tmp/sock")
    'host=/tmp/sock user=postgres dbname=postgres'
    """
    from psycopg2.extensions import make_dsn, parse_dsn

    parts: dict[str, str] = parse_dsn(_DRIVER.sub(r"\1://", url, count=1))
    ordered = {key: parts.pop(key) for key in _LEADING if key in parts} | parts
    dsn: str = make_dsn(**{key: value for key, value in ordered.items() if value})
    return dsn


def redact(url: str) -> str:
    """The URL as written, with its password hidden, for messages.

    >>> redact("postgresql://app:s3cret@db/genonaut_demo")
    'postgresql://app:***@db/genonaut_demo'
    >>> redact("host=db password='a b' dbname=demo")
    'host=db password=*** dbname=demo'
    """
    return _PARAM_PASSWORD.sub(r"\1***", _URL_PASSWORD.sub(r"\1***@", url, count=1))


def first_line(exc: BaseException) -> str:
    """A driver error's message in one line (SQLAlchemy's wrapper unwrapped); its class name
    when it says nothing."""
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def connection_error(exc: BaseException, url: str) -> tuple[str, str]:
    """The message and the hint for a connection to `url` that failed with `exc`.

    The driver's message names the host, user and database but never the password.
    """
    first = first_line(exc)
    if "password authentication failed" in first or "no password supplied" in first:
        hint = (
            "check the password: DB_PASSWORD or DB_PASSWORD_DEMO / DB_PASSWORD_TEST in "
            "env/.env.shared, or the one in DATABASE_URL_DEMO / DATABASE_URL_TEST"
        )
    elif 'role "' in first and "does not exist" in first:
        hint = "check the user in config/local-<env>.json, or in DATABASE_URL_DEMO / _TEST"
    elif 'database "' in first and "does not exist" in first:
        hint = "create it with its schema: make init-demo / make init-test"
    elif "permission denied" in first:
        hint = "ask for the CREATEDB privilege, or create the database yourself and run again"
    else:
        hint = (
            "start the server, or point the tool elsewhere: config/local-<env>.json, "
            "DATABASE_URL_DEMO / DATABASE_URL_TEST or --database-url"
        )
    return f"cannot connect to {redact(url)}: {first}", hint


def with_database(url: str, name: str) -> str:
    """`url` pointing at database `name` instead.

    >>> with_database("postgresql://app@db:5432/postgres?sslmode=require", "t1")
    'postgresql://app@db:5432/t1?sslmode=require'
    """
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, "/" + quote(name), parts.query, ""))


def database_of(url: str) -> str:
    """The database name in `url`, '' when it names none."""
    return urlsplit(url).path.lstrip("/")
