"""Put a database back to exactly the seed: empty the seeded tables, restart their identities,
load, verify. Idempotent: a database that already holds exactly the seed is left alone.

    report = reset_to_seed(Path("test/db/input/rdbms_init_from_demo"), url)
    print(report.as_text())
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
from psycopg2 import sql

from genonaut.seed.core.fixture_files import read_fixture_manifest
from genonaut.seed.core.load_plan import truncation_blockers
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.text_table import format_table
from genonaut.seed.engines.postgres.catalog import read_schema
from genonaut.seed.engines.postgres.connection import Tracer, ident, redact, session
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import VerifyReport, verify_seed
from genonaut.seed.errors import ConfigError, LoadFailed


@dataclass(frozen=True)
class TableState:
    """One seeded table before the reset: rows in the file, in the database, and the file's
    rows the database lacks or holds with other values."""

    table: TableName
    in_file: int
    in_database: int
    missing: int
    differing: int

    @property
    def extra(self) -> int:
        """Rows the seed does not have (the database's count beyond the seed's matching rows)."""
        return self.in_database - (self.in_file - self.missing)

    @property
    def is_seed(self) -> bool:
        return not self.missing and not self.differing and self.extra == 0


@dataclass
class ResetReport:
    database: str
    before: list[TableState] = field(default_factory=list)
    changed: bool = False
    emptied: list[TableName] = field(default_factory=list)
    loaded: int = 0
    verified: VerifyReport | None = None
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.verified is None or self.verified.ok

    def as_text(self) -> str:
        differ = [s for s in self.before if not s.is_seed]
        lines = []
        if differ:
            lines += format_table(
                ("table", "seed rows", "rows before", "missing", "differing", "extra"),
                [
                    (str(s.table), s.in_file, s.in_database, s.missing, s.differing, s.extra)
                    for s in differ
                ],
                None,
            )
        if not self.changed:
            lines.append(
                f"{self.database} already holds exactly the seed ({len(self.before)} tables): "
                f"nothing changed"
            )
        else:
            lines.append(f"emptied {len(self.emptied)} tables (identities restarted)")
            lines.append(f"loaded {self.loaded} rows; verify: {'OK' if self.ok else 'FAILED'}")
            lines.append(
                f"{len(differ)} of {len(self.before)} tables differed from the seed; "
                f"{self.database} reset in {self.seconds:.2f}s"
            )
        if self.verified is not None and not self.verified.ok:
            lines.append(self.verified.as_table())
        return "\n".join(lines)


def reset_to_seed(
    input_dir: Path, database_url: str, *, cascade: bool = False, tracer: Tracer | None = None
) -> ResetReport:
    """Make the seeded tables of `database_url` hold exactly the fixtures of `input_dir`.

    Example: `reset_to_seed(Path("test/db/input/rdbms_init_from_demo"), url).changed`.

    When every table already matches (no row missing, differing or extra), nothing is written.
    Otherwise the tables are emptied (TRUNCATE ... RESTART IDENTITY), loaded and verified in
    one transaction. Tables outside the seed that reference seeded tables would be emptied
    too: that needs `cascade`, else a ConfigError names them.
    """
    started = time.perf_counter()
    report = ResetReport(redact(database_url))
    report.before = seed_state(input_dir, database_url, tracer=tracer)
    if all(s.is_seed for s in report.before):
        report.seconds = time.perf_counter() - started
        return report
    manifest = read_fixture_manifest(input_dir)
    names = [t.name for t in manifest.tables]
    with session(database_url, tracer=tracer) as db:
        blockers = truncation_blockers(read_schema(db), names)
        db.conn.rollback()
    if blockers and not cascade:
        named = ", ".join(f"{t} ({c})" for t, c in blockers)
        raise ConfigError(
            f"tables outside the seed reference seeded tables: {named}; resetting would "
            f"empty them too",
            hint="run again with --cascade (make reset-test-db ARGS=--cascade) to empty them "
            "as well",
        )
    loaded = import_seed(input_dir, database_url, truncate_first=True, cascade=cascade)
    report.changed = True
    report.emptied = loaded.truncated
    report.loaded = loaded.inserted
    report.verified = verify_seed(input_dir, database_url, tracer=tracer)
    report.seconds = time.perf_counter() - started
    return report


def seed_state(
    input_dir: Path, database_url: str, *, tracer: Tracer | None = None
) -> list[TableState]:
    """How far each seeded table of the database is from the seed."""
    check = verify_seed(input_dir, database_url, tracer=tracer)
    counts = _row_counts(database_url, [t.table for t in check.tables], tracer)
    return [
        TableState(t.table, t.in_file, counts[t.table], t.missing, t.differing)
        for t in check.tables
    ]


def _row_counts(
    database_url: str, tables: Sequence[TableName], tracer: Tracer | None
) -> dict[TableName, int]:
    if not tables:
        return {}
    query = sql.SQL(" UNION ALL ").join(
        sql.SQL("SELECT {}, count(*) FROM {}").format(sql.Literal(i), ident(t))
        for i, t in enumerate(tables)
    )
    with session(database_url, tracer=tracer) as db:
        try:
            rows = db.fetch(query)
        except psycopg2.Error as exc:
            raise LoadFailed(
                f"cannot count the seeded tables' rows: {exc.diag.message_primary}",
                hint="create the schema first (make init-test)",
            ) from exc
        finally:
            db.conn.rollback()
    return {tables[int(i)]: int(n) for i, n in rows}
