"""Create an environment's database and the app's schema in it.

python -m genonaut.db.init_db (--env-target demo|test | --database-url URL)
"""

from __future__ import annotations

import argparse
import sys

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url

from genonaut.db.schema import ALEMBIC_REVISION, PARTITION_DDL, alembic_version, metadata


def _engine(url: str, **kwargs: object) -> Engine:
    # SQLAlchemy 2.1 would pick psycopg 3 for a plain postgresql:// URL; the project uses psycopg2.
    parsed = make_url(url).set(drivername="postgresql+psycopg2")
    return create_engine(parsed, **kwargs)


def ensure_database(url: str) -> bool:
    """Create the database named in `url` if it does not exist; True when it was created."""
    target = make_url(url)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="init_db", description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--env-target", default="demo", help="demo or test (default: demo)")
    target.add_argument("--database-url", help="this database instead")
    args = parser.parse_args(argv)
    from genonaut.db.demo.seed_data_gen.errors import SeedError
    from genonaut.db.utils import database_url, redact

    try:
        url = args.database_url or database_url(args.env_target)
        created = ensure_database(url)
        built = create_schema(url)
    except SeedError as exc:
        print(f"Error: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"Hint: {exc.hint}", file=sys.stderr)
        return 2
    except Exception as exc:  # a server that is down or refuses us: say so in one line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(
            f"Error: cannot prepare {args.database_url or args.env_target}: {first}",
            file=sys.stderr,
        )
        print(
            "Hint: start the server, or set DATABASE_URL_DEMO / DATABASE_URL_TEST", file=sys.stderr
        )
        return 2
    state = "created" if created else "exists"
    schema = "schema created" if built else "schema already there"
    print(f"{redact(url)}: database {state}, {schema}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
