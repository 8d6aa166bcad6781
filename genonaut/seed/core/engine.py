"""What the commands ask of a database engine: the `Engine` interface, one adapter per engine
(`engines/<engine>/adapter.py`), chosen by the URL's scheme (`engines/__init__.py`).

An export reads the schema, asks a `RowSource` which rows to take and dumps them, all from
one read-only `Snapshot`; an import hands a fixture directory to `load`, which loads it in one
transaction and finishes with the sequences (PostgreSQL) or AUTO_INCREMENT and
`sqlite_sequence` counters; `verify` checks a database against the fixtures. The reports an
engine returns share the few methods the scripts print.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    # The selection's row questions are the export's: an import never loads them.
    from genonaut.seed.core.row_source import Key, Projection, RowSource
    from genonaut.seed.core.schema_graph import Schema, TableName

Tracer = Callable[[str], None]


@dataclass(frozen=True)
class LoadOptions:
    """The importer's options. An engine that cannot honour one raises ConfigError naming
    its flag before anything is read."""

    tables: Sequence[str] = ()
    truncate_first: bool = False
    cascade: bool = False
    disable_triggers: bool = False


class LoadedTable(Protocol):
    """One table's result, as a load reports it while it runs."""

    @property
    def table(self) -> TableName: ...

    @property
    def in_file(self) -> int: ...

    @property
    def inserted(self) -> int: ...

    @property
    def already_there(self) -> int: ...


class LoadResult(Protocol):
    @property
    def statements(self) -> int: ...

    @property
    def seconds(self) -> float: ...

    def as_table(self) -> str: ...

    def result_line(self) -> str: ...

    def notes(self) -> list[str]: ...


class VerifyResult(Protocol):
    @property
    def ok(self) -> bool: ...

    @property
    def statements(self) -> int: ...

    @property
    def seconds(self) -> float: ...

    def as_table(self) -> str: ...

    def result_line(self) -> str: ...

    def problems(self) -> list[str]: ...


class Snapshot(Protocol):
    """One consistent, read-only view of a source database."""

    @property
    def statements(self) -> int:
        """How many statements the snapshot has run so far."""
        ...

    def read_schema(self) -> Schema: ...

    def rows(self, schema: Schema) -> RowSource:
        """The selection's row questions, answered from this snapshot."""
        ...

    def dump(self, projection: Projection, keys: Collection[Key], sink: IO[bytes]) -> int:
        """Write the fixture lines of the rows of `projection.table` whose identity
        (`projection.identity`) is among `keys`, in file order (primary key, else every
        column); the number of rows written."""
        ...


class Engine(Protocol):
    """One database engine: what the commands do with it, whatever its SQL."""

    @property
    def name(self) -> str:
        """The name manifests record ("postgresql", "sqlite", "mariadb")."""
        ...

    @property
    def schemes(self) -> tuple[str, ...]:
        """The URL schemes it serves."""
        ...

    def snapshot(
        self, url: str, *, tracer: Tracer | None = None
    ) -> AbstractContextManager[Snapshot]:
        """A read-only snapshot of the database at `url`, closed on leaving."""
        ...

    def load(
        self,
        input_dir: Path,
        url: str,
        options: LoadOptions,
        *,
        on_table: Callable[[LoadedTable], None] | None = None,
        tracer: Tracer | None = None,
    ) -> LoadResult:
        """Load the fixture directory in one transaction, then move the counters past the
        loaded keys. A SeedError leaves the target unchanged."""
        ...

    def verify(
        self,
        input_dir: Path,
        url: str,
        *,
        tables: Sequence[str] = (),
        tracer: Tracer | None = None,
        condition_timeout: float | None = None,
    ) -> VerifyResult:
        """Fixture rows present and unchanged, and no row referencing nothing.
        `condition_timeout` bounds each relation's condition where the engine can."""
        ...

    def copy_database(self, url: str, name: str) -> str:
        """An empty copy of the schema of the database at `url`, named `name` (a file path for
        SQLite); its URL. For tests."""
        ...

    def drop_database(self, url: str) -> None:
        """Remove the database at `url`, if it exists. For tests."""
        ...
