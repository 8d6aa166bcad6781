"""What a load tells the user when PostgreSQL refuses something: the file, line and column of
a rejected row, the trigger that raised, the grant that is missing, the cycle that cannot be
loaded, each with a hint; the loader raises what these functions return."""

from __future__ import annotations

import re
from collections.abc import Sequence

import psycopg2
import psycopg2.errors

from genonaut.seed.core.fixture_files import FixtureFile
from genonaut.seed.core.load_plan import Step
from genonaut.seed.core.schema_graph import Schema, TableName
from genonaut.seed.errors import ConfigError, LoadFailed, UnbreakableCycle

from .connection import first_line

PRIVILEGE_HINT = (
    "the importing role needs SELECT and INSERT on the fixture's tables, SELECT and UPDATE on "
    "the sequences feeding them (setval), TEMPORARY on the database and, for --truncate-first, "
    "TRUNCATE: grant them, or import as the tables' owner"
)


MISSING_ROW_HINT = (
    "load the referenced table too (it may be missing from --tables), or re-export the fixtures"
)


RESET_HINT = (
    "the target already held other rows, changed since the seed was loaded: put it back to "
    "the seed with make reset-test-db (import_seed_to_test --reset)"
)


def database_error(exc: psycopg2.Error) -> LoadFailed | ConfigError:
    """A readable error for what the database refused outside a table's insert."""
    message = exc.diag.message_primary or first_line(exc)
    if isinstance(exc, psycopg2.errors.InsufficientPrivilege):
        return ConfigError(f"{message}; nothing was loaded", hint=PRIVILEGE_HINT)
    detail = f": {exc.diag.message_detail}" if exc.diag.message_detail else ""
    return LoadFailed(
        f"the import failed and nothing was loaded: {message}{detail}",
        hint="run again with --verbosity debug to see the statement that failed",
    )


# "PL/pgSQL function audit_books() line 3 at SQL statement", "SQL function \"f\" statement 1"
_FUNCTION_IN_CONTEXT = re.compile(r'(?:PL/pgSQL function ([^\s(]+)\(|SQL function "([^"]+)")')


def trigger_function(exc: psycopg2.Error) -> str | None:
    """The outermost function the error's context names: the trigger that ran it."""
    found = _FUNCTION_IN_CONTEXT.findall(exc.diag.context or "")
    if not found:
        return None
    plpgsql, plain = found[-1]
    return str(plpgsql or plain)


def in_trigger(
    exc: psycopg2.Error, tables: Sequence[TableName], files: dict[TableName, FixtureFile]
) -> LoadFailed | None:
    """An error raised inside a trigger, blamed on the table being loaded (whose file is
    the one to look at), not on the table the trigger wrote to."""
    function = trigger_function(exc)
    if function is None:
        return None
    where = ", ".join(f"{t} ({files[t].path})" if t in files else str(t) for t in tables)
    detail = f": {exc.diag.message_detail}" if exc.diag.message_detail else ""
    constraint = f" (constraint {exc.diag.constraint_name})" if exc.diag.constraint_name else ""
    hint = (
        "a trigger of the target failed while loading: fix it, or load with "
        "--disable-triggers (the tables' owner may)"
    )
    if isinstance(exc, psycopg2.errors.UndefinedTable | psycopg2.errors.UndefinedFunction):
        hint = (
            f"{function}() names something without its schema, and the import's search_path "
            "does not reach it: set the search_path it needs "
            "(PGOPTIONS='-csearch_path=myschema,public' before the command), or load with "
            "--disable-triggers"
        )
    return LoadFailed(
        f"{where}: trigger function {function}() failed while loading it: "
        f"{exc.diag.message_primary}{detail}{constraint}",
        hint=hint,
    )


def rejected(
    exc: psycopg2.Error, tables: Sequence[TableName], files: dict[TableName, FixtureFile]
) -> LoadFailed:
    """A foreign-key or unique-key violation, said the way a user can act on it."""
    raised = in_trigger(exc, tables, files)
    if raised is not None:
        return raised
    where = blamed_file(exc, tables, files)
    constraint = f"(constraint {exc.diag.constraint_name})"
    if isinstance(exc, psycopg2.errors.UniqueViolation):
        return LoadFailed(
            f"{where}: a fixture row collides with a different row already in the target: "
            f"{exc.diag.message_detail} {constraint}",
            hint="the target holds other rows with these keys: start over with "
            "--truncate-first, or delete those rows",
        )
    if isinstance(exc, psycopg2.errors.ForeignKeyViolation):
        return LoadFailed(
            f"{where}: a row references a missing row: {exc.diag.message_detail} {constraint}",
            hint=MISSING_ROW_HINT,
        )
    return failed(exc, tables, files)


def failed(
    exc: psycopg2.Error, tables: Sequence[TableName], files: dict[TableName, FixtureFile]
) -> LoadFailed:
    raised = in_trigger(exc, tables, files)
    if raised is not None and not isinstance(exc, psycopg2.errors.InsufficientPrivilege):
        return raised
    detail = f": {exc.diag.message_detail}" if exc.diag.message_detail else ""
    hint = "the fixtures do not fit the target: re-export them, or migrate the database"
    if exc.diag.context:  # e.g. the trigger that failed
        detail += f" ({exc.diag.context.strip().splitlines()[-1]})"
        # A trigger's function shows in the context ("PL/pgSQL function f() line 1 at RAISE").
        if "trigger" in exc.diag.context or "function" in exc.diag.context:
            hint = (
                "a trigger of the target failed while loading: fix it, or load with "
                "--disable-triggers (the tables' owner may)"
            )
    if isinstance(exc, psycopg2.errors.InsufficientPrivilege):
        hint = PRIVILEGE_HINT
    return LoadFailed(
        f"{blamed_file(exc, tables, files)}: {exc.diag.message_primary}{detail}", hint=hint
    )


def unbreakable(schema: Schema, step: Step, exc: psycopg2.Error) -> UnbreakableCycle:
    members = set(step.tables)
    cycle = [
        fk
        for leaf in step.tables
        for fk in schema.relations_from(leaf)
        if members & set(schema.leaves(fk.referred_table)) and fk.referred_table != leaf
    ]
    constraints = sorted({f"{fk.table}.{fk.name}" for fk in cycle if not fk.is_deferrable})
    return UnbreakableCycle(
        f"{' -> '.join(map(str, step.tables))} reference each other through constraints that "
        f"are not DEFERRABLE ({', '.join(constraints)}), and PostgreSQL refused to load them "
        f"in one statement: {exc.diag.message_primary}",
        hint="make one of these constraints DEFERRABLE (ALTER TABLE ... ALTER CONSTRAINT ... "
        "DEFERRABLE), remove the rules of these tables, or leave one table out with --tables",
    )


def blamed_file(
    exc: psycopg2.Error, tables: Sequence[TableName], files: dict[TableName, FixtureFile]
) -> str:
    """`table (file)` for the table the error names, else the tables of the step."""
    named = [
        t
        for t in files
        if t.name == exc.diag.table_name and t.schema == (exc.diag.schema_name or t.schema)
    ]
    if not named and not exc.diag.table_name and len(tables) == 1 and tables[0] in files:
        named = [tables[0]]
    if named:
        return f"{named[0]} ({files[named[0]].path})"
    return exc.diag.table_name or ", ".join(map(str, tables))
