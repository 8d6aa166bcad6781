"""Load a fixture directory into a database, on any engine; put PostgreSQL's seeded tables
back to the fixtures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from genonaut.seed.core.engine import Engine, LoadedTable, LoadOptions, LoadResult, Tracer
from genonaut.seed.core.fixture_files import read_fixture_manifest
from genonaut.seed.engines import engine_for, package_for
from genonaut.seed.errors import ConfigError, FixtureError

if TYPE_CHECKING:
    from genonaut.seed.engines.postgres.reset import ResetReport


def import_seed(
    input_dir: Path,
    database_url: str,
    *,
    tables: Sequence[str] = (),
    truncate_first: bool = False,
    cascade: bool = False,
    disable_triggers: bool = False,
    on_table: Callable[[LoadedTable], None] | None = None,
    tracer: Tracer | None = None,
) -> LoadResult:
    """Load the fixtures in `input_dir` into the database at `database_url`, in one
    transaction, with the engine its scheme names.

    Example: `import_seed(Path("test/db/input/rdbms_init_from_demo"), "postgresql://localhost/t")`.

    `tables` loads only those tables; `truncate_first` empties them first (`cascade`: with
    the tables referencing them); `disable_triggers` keeps the tables' triggers from firing.
    An engine without one of these options says so (ConfigError) before reading anything.
    Raises a SeedError subclass on any problem; the target is then unchanged.
    """
    engine = engine_for(database_url)
    check_engine(engine, input_dir)
    options = LoadOptions(tables, truncate_first, cascade, disable_triggers)
    return engine.load(input_dir, database_url, options, on_table=on_table, tracer=tracer)


def check_engine(engine: Engine, input_dir: Path) -> None:
    """Fixtures load into the engine they were exported from: the text of a value is that
    engine's (docs/fixture-format.md)."""
    exported = read_fixture_manifest(input_dir).engine
    if exported != engine.name:
        raise FixtureError(
            f"the fixtures in {input_dir} were exported from {exported}; "
            f"this database is {engine.name}",
            hint=f"export the seed from a {engine.name} database, or load it into {exported}",
        )


def reset_to_seed(
    input_dir: Path, database_url: str, *, cascade: bool = False, tracer: Tracer | None = None
) -> ResetReport:
    """`engines.postgres.reset.reset_to_seed`: PostgreSQL only (ConfigError for others)."""
    if package_for(database_url) != "postgres":
        raise ConfigError(
            "--reset works on PostgreSQL only",
            hint="load into an empty copy of the schema instead (a fresh file, a new database)",
        )
    from genonaut.seed.engines.postgres.reset import reset_to_seed as reset

    return reset(input_dir, database_url, cascade=cascade, tracer=tracer)
