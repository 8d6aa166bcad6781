"""Copies of a MariaDB database under another name, for a test of its own, and their removal.

MariaDB has no template databases: a copy is `CREATE TABLE ... LIKE` per base table (columns,
keys, indexes, CHECK constraints, not foreign keys), `INSERT ... SELECT` of the rows, then
the foreign keys and the triggers re-created. Every step is DDL and commits on its own, so a
copy that fails half-way is dropped again.
"""

from __future__ import annotations

from collections import defaultdict

import pymysql

from genonaut.seed.core.schema_graph import ForeignKey, TableName
from genonaut.seed.errors import ConfigError

from .catalog import read_referential_rules, read_schema, read_triggers
from .connection import Session, column_list, ident, quote
from .staging import message_of


def clone_database(
    db: Session, source: str, target: str, *, with_rows: bool = True, with_triggers: bool = True
) -> None:
    """Create database `target` as a copy of `source`: tables, rows (unless `with_rows` is
    False: an empty copy of the schema), foreign keys with their ON DELETE / ON UPDATE rules,
    and triggers (created after the rows are copied, so they do not fire on the copy).

    >>> clone_database(db, "shop", "shop_test_1a2b")  # doctest: +SKIP
    """
    found = db.fetch(
        "SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME "
        "FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = %s",
        (source,),
    )
    if not found:
        raise ConfigError(f"no database {source!r} to copy", hint="check the database name")
    character_set, collation = found[0]
    try:
        db.execute(
            f"CREATE DATABASE {quote(target)} CHARACTER SET {quote(character_set)}"
            + (f" COLLATE {quote(collation)}" if collation else "")
        )
    except pymysql.err.MySQLError as exc:
        raise ConfigError(
            f"cannot create database {target!r}: {message_of(exc)}",
            hint="choose an unused name; the user needs the CREATE privilege",
        ) from exc
    try:
        _copy(db, source, target, with_rows=with_rows, with_triggers=with_triggers)
    except BaseException:
        drop_database(db, target)
        raise


def _copy(db: Session, source: str, target: str, *, with_rows: bool, with_triggers: bool) -> None:
    schema = read_schema(db, source)
    for table in schema.tables:
        copy = TableName(target, table.name.name)
        db.execute(f"CREATE TABLE {ident(copy)} LIKE {ident(table.name)}")
        if with_rows:
            columns = column_list([c.name for c in table.stored_columns])
            db.execute(
                f"INSERT INTO {ident(copy)} ({columns}) SELECT {columns} FROM {ident(table.name)}"
            )
    db.commit()
    rules = {(r.table, r.name): r for r in read_referential_rules(db, source)}
    by_table: dict[TableName, list[ForeignKey]] = defaultdict(list)
    for fk in schema.foreign_keys:
        by_table[fk.table].append(fk)
    # The rows come from a database whose keys hold: no need to check them again.
    db.execute("SET SESSION FOREIGN_KEY_CHECKS = 0")
    try:
        for child, fks in sorted(by_table.items()):
            clauses = []
            for fk in fks:
                rule = rules[(fk.table, fk.name)]
                parent = fk.referred_table
                if parent.schema == source:
                    parent = TableName(target, parent.name)
                clauses.append(
                    f"ADD CONSTRAINT {quote(fk.name)} FOREIGN KEY ({column_list(fk.columns)}) "
                    f"REFERENCES {ident(parent)} ({column_list(fk.referred_columns)}) "
                    f"ON DELETE {rule.on_delete} ON UPDATE {rule.on_update}"
                )
            db.execute(f"ALTER TABLE {ident(TableName(target, child.name))} {', '.join(clauses)}")
    finally:
        db.execute("SET SESSION FOREIGN_KEY_CHECKS = 1")
    if with_triggers:
        _copy_triggers(db, source, target)


def _copy_triggers(db: Session, source: str, target: str) -> None:
    """Each trigger as SHOW CREATE TRIGGER writes it, run in `target` with its own sql_mode
    (the statement names its table without a database)."""
    triggers = [t for ts in read_triggers(db, source).values() for t in ts]
    if not triggers:
        return
    (current,) = db.fetch("SELECT DATABASE()")[0]
    (mode,) = db.fetch("SELECT @@SESSION.sql_mode")[0]
    try:
        for trigger in triggers:
            (row,) = db.fetch(f"SHOW CREATE TRIGGER {quote(source)}.{quote(trigger.name)}")
            _, trigger_mode, statement = row[0], row[1], row[2]
            db.execute(f"USE {quote(target)}")
            db.execute("SET SESSION sql_mode = %s", (trigger_mode,))
            db.execute(statement)
    finally:
        db.execute("SET SESSION sql_mode = %s", (mode,))
        if current:
            db.execute(f"USE {quote(current)}")


def drop_database(db: Session, name: str) -> None:
    """Drop database `name` if it exists."""
    db.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
