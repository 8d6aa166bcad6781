"""Create an environment's database and the app's schema in it.

python -m genonaut.db.init_db (--env-target demo|test | --database-url URL)
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, OperationalError

from genonaut.database_url import connection_error, first_line, redact
from genonaut.db.schema import ALEMBIC_REVISION, PARTITION_DDL, alembic_version, metadata
from genonaut.db.utils import target_url
from genonaut.errors import HintedError, fail


class CannotConnect(HintedError):
    """The database server could not be reached or refused the login."""


class SchemaRefused(HintedError):
    """The database would not take the app's schema."""


def _engine(url: str, **kwargs: object) -> Engine:
    # SQLAlchemy 2.1 would pick psycopg 3 for a plain postgresql:// URL; the project uses psycopg2.
    parsed = make_url(url).set(drivername="postgresql+psycopg2")
    return create_engine(parsed, **kwargs)


def ensure_database(url: str) -> bool:
    """Create the database named in `url` if it does not exist; True when it was created.

    The maintenance database `postgres` is asked only when the target does not answer, so a
    role that may connect to its own database but not to `postgres` (as on managed servers)
    can still prepare it.
    """
    target = make_url(url)
    if _answers(url):
        return False
    admin = _engine(
        target.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    try:
        with admin.connect() as conn:
            exists = conn.execute(
                text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": target.database},
            ).first()
            if exists:
                return False
            quoted = admin.dialect.identifier_preparer.quote(target.database or "")
            conn.execute(text(f"CREATE DATABASE {quoted}"))
            return True
    finally:
        admin.dispose()


def _answers(url: str) -> bool:
    """Whether the database in `url` exists and lets us in."""
    engine = _engine(url)
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def create_schema(url: str) -> bool:
    """Create the app's tables, partitions and keys; False when they were there already."""
    engine = _engine(url)
    try:
        with engine.begin() as conn:
            if inspect(conn).has_table(alembic_version.name):
                return False
            metadata.create_all(conn)
            for statement in PARTITION_DDL:
                conn.execute(text(statement))
            conn.execute(alembic_version.insert().values(version_num=ALEMBIC_REVISION))
        return True
    finally:
        engine.dispose()


def prepare(url: str) -> tuple[bool, bool]:
    """`ensure_database` then `create_schema`, with the driver's errors as `HintedError`s.

    Returns (database created, schema created).
    """
    try:
        created = ensure_database(url)
    except DBAPIError as exc:  # unreachable, refused login, no right to create databases
        raise _cannot_connect(exc, url) from exc
    try:
        built = create_schema(url)
    except OperationalError as exc:
        raise _cannot_connect(exc, url) from exc
    except DBAPIError as exc:
        raise SchemaRefused(
            f"cannot create the app's schema in {redact(url)}: {first_line(exc)}",
            hint="the database holds other tables; use an empty or a new database",
        ) from exc
    return created, built


def _cannot_connect(exc: DBAPIError, url: str) -> CannotConnect:
    message, hint = connection_error(exc, url)
    return CannotConnect(message, hint=hint)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="init_db", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--env-target", default="demo", help="demo or test (default: demo)")
    target.add_argument("--database-url", help="this database instead")
    parser.add_argument("--traceback", action="store_true", help="show the stack on errors")
    args = parser.parse_args(argv)
    try:
        url = target_url(args.env_target, args.database_url)
        created, built = prepare(url)
    except HintedError as exc:
        if args.traceback:
            raise
        return fail(exc)
    state = "created" if created else "exists"
    schema = "schema created" if built else "schema already there"
    print(f"{redact(url)}: database {state}, {schema}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
