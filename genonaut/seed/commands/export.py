"""Export a foreign-key-closed slice of a database as a fixture directory, and check one,
on any engine: the core chooses the rows, the engine's adapter reads and dumps them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from genonaut.seed.core.engine import Snapshot, Tracer
from genonaut.seed.core.fixture_files import read_fixture_files
from genonaut.seed.core.fixture_format import (
    FixtureTable,
    Manifest,
    check_file_names,
    check_output_dir,
    header_line,
    read_manifest,
    replace_directory,
)
from genonaut.seed.core.picks import CLOSURE, INCLUDE, LIMIT, Selection
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName
from genonaut.seed.core.seed_diagram import (
    SEED_MD,
    TableCounts,
    check_seed_md,
    decoded_rows,
    render_seed_md,
)
from genonaut.seed.core.selection import plan_selection
from genonaut.seed.core.settings import ExportSettings, rules_for, virtual_relations
from genonaut.seed.core.text_table import format_table
from genonaut.seed.engines import engine_for


@dataclass(frozen=True)
class TableReport:
    table: TableName
    rows: int
    by_limit: int
    by_closure: int
    by_include: int
    source_estimate: int


@dataclass
class ExportReport:
    output_dir: Path
    tables: list[TableReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    statements: int = 0
    closure_rounds: int = 0  # of the statements, walks of closure (as many as the data need)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def closure_rows(self) -> int:
        return sum(t.by_closure for t in self.tables)

    def as_table(self) -> str:
        rows = [
            (str(t.table), t.rows, t.by_closure, t.by_include, f"{t.source_estimate:,}")
            for t in self.tables
        ]
        total = (
            "total",
            self.rows,
            self.closure_rows,
            sum(t.by_include for t in self.tables),
            f"{sum(t.source_estimate for t in self.tables):,}",
        )
        lines = format_table(("table", "rows", "closure", "include", "source (est.)"), rows, total)
        lines.append(self.result_line())
        return "\n".join(lines + self.notes)

    def result_line(self) -> str:
        return (
            f"{len(self.tables)} tables, {self.rows} rows ({self.closure_rows} added by closure) "
            f"in {self.seconds:.2f}s with {self.statements} statements "
            f"({self.closure_rounds} of closure) -> {self.output_dir}"
        )


def export_seed(
    settings: ExportSettings,
    *,
    on_table: Callable[[TableName, int], None] | None = None,
    on_file: Callable[[TableName, int, int, int], None] | None = None,
    tracer: Tracer | None = None,
) -> ExportReport:
    """Write the seed into `settings.output_dir`, replacing what was there only on success.

    Example: `export_seed(ExportSettings("postgresql://localhost/genonaut_demo"))`; the URL's
    scheme picks the engine (`sqlite:///demo.db`, `mysql://root@localhost/demo`, ...).
    The source is read in one read-only snapshot and never written to.
    `on_table(table, rows)` follows the choice of rows (before closure adds more);
    `on_file(table, rows, i, n)` follows the files written, with their final row counts.
    """
    started = time.perf_counter()
    engine = engine_for(settings.database_url)
    check_output_dir(settings.output_dir)
    report = ExportReport(settings.output_dir)
    with engine.snapshot(settings.database_url, tracer=tracer) as source:
        schema = _schema_with_virtuals(source, settings)
        rules = rules_for(schema, settings)
        check_file_names(rules.tables)  # two tables sharing a file fail before any reading
        selection = plan_selection(source.rows(schema), schema, rules, on_table)
        report.notes.extend(f"note: {n}" for n in selection.dropped)
        report.closure_rounds = selection.closure_rounds
        with replace_directory(settings.output_dir) as scratch:
            manifest = _write(source, schema, selection, scratch, report, on_file)
            manifest = replace(manifest, engine=engine.name)
            (scratch / "manifest.json").write_text(manifest.to_json(), encoding="utf-8")
            _write_seed_md(scratch, manifest, report)
        report.statements = source.statements
    report.seconds = time.perf_counter() - started
    return report


def _write_seed_md(directory: Path, manifest: Manifest, report: ExportReport) -> None:
    """SEED.md beside the files: the picture of what was just written."""
    counts = {
        t.table: TableCounts(t.rows, t.by_limit, t.by_closure, t.by_include) for t in report.tables
    }
    rows = decoded_rows(read_fixture_files(directory, manifest.tables))
    (directory / SEED_MD).write_text(render_seed_md(manifest, counts, rows), encoding="utf-8")


def _schema_with_virtuals(source: Snapshot, settings: ExportSettings) -> Schema:
    schema = source.read_schema()
    return schema.with_relations(virtual_relations(schema, settings))


def _write(
    source: Snapshot,
    schema: Schema,
    selection: Selection,
    directory: Path,
    report: ExportReport,
    on_file: Callable[[TableName, int, int, int], None] | None = None,
) -> Manifest:
    entries: list[FixtureTable] = []
    files = check_file_names(leaf for group in selection.order for leaf in group)
    total = sum(len(group) for group in selection.order)
    for group in selection.order:
        for leaf in group:
            pick = selection.picks[leaf]
            table = schema.table(leaf)
            columns = tuple(c.name for c in table.stored_columns)
            with (directory / files[leaf]).open("wb") as sink:
                sink.write(header_line(columns))
                source.dump(pick.projection, pick.rows.keys(), sink)
            entries.append(
                FixtureTable(
                    name=leaf,
                    file=files[leaf],
                    rows=len(pick.rows),
                    columns=columns,
                    primary_key=table.primary_key,
                    partition_of=table.partition_of,
                    types=tuple(c.type for c in table.stored_columns),
                )
            )
            report.tables.append(
                TableReport(
                    table=leaf,
                    rows=len(pick.rows),
                    by_limit=pick.count(LIMIT),
                    by_closure=pick.count(CLOSURE),
                    by_include=pick.count(INCLUDE),
                    source_estimate=table.estimated_rows,
                )
            )
            if on_file is not None:
                on_file(leaf, len(pick.rows), len(entries), total)
    names = [e.name for e in entries]
    relations = _relations_of(schema, names)
    owners = _with_parents(schema, names)
    partitioned = tuple(
        (t.name, t.partition_of) for t in schema.tables if t.is_partitioned and t.name in owners
    )
    return Manifest(tuple(entries), relations, schema.fingerprint(owners), partitioned)


def _relations_of(schema: Schema, names: Sequence[TableName]) -> tuple[ForeignKey, ...]:
    """The relations a manifest records for these tables: declared ones whose rows they hold,
    and every virtual one."""
    return tuple(
        fk
        for fk in schema.foreign_keys
        if any(leaf in names for leaf in schema.leaves(fk.table)) or fk.is_virtual
    )


def _with_parents(schema: Schema, leaves: list[TableName]) -> set[TableName]:
    return {a for leaf in leaves for a in schema.ancestors(leaf)}


@dataclass
class FreshnessReport:
    """How committed fixtures compare with the current schema."""

    added: list[TableName] = field(default_factory=list)
    dropped: list[TableName] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)

    @property
    def is_stale(self) -> bool:
        return bool(self.added or self.dropped or self.changed)

    def as_text(self, directory: Path) -> str:
        if not self.is_stale:
            return f"{directory}: fixtures match the current schema"
        lines = [f"{directory}: fixtures are stale"]
        lines += [f"  table added:   {t}" for t in self.added]
        lines += [f"  table dropped: {t}" for t in self.dropped]
        lines += [f"  changed:       {c}" for c in self.changed]
        lines.append("  refresh them: make export-demo-seed (or make refresh-test-seed-from-demo)")
        return "\n".join(lines)


def check_fixtures(settings: ExportSettings, *, tracer: Tracer | None = None) -> FreshnessReport:
    """Compare the fixtures in `settings.output_dir` with the source's current schema."""
    manifest = read_manifest(settings.output_dir)
    report = FreshnessReport()
    with engine_for(settings.database_url).snapshot(settings.database_url, tracer=tracer) as db:
        schema = _schema_with_virtuals(db, settings)
        wanted = set(rules_for(schema, settings).tables)
    have = {t.name: t for t in manifest.tables}
    report.added = sorted(wanted - set(have))
    report.dropped = sorted(set(have) - wanted)
    for name in sorted(wanted & set(have)):
        now = tuple(c.name for c in schema.table(name).stored_columns)
        if now != have[name].columns:
            gone = [c for c in have[name].columns if c not in now]
            new = [c for c in now if c not in have[name].columns]
            detail = "; ".join(
                part
                for part in (
                    f"columns dropped: {', '.join(gone)}" if gone else "",
                    f"columns added: {', '.join(new)}" if new else "",
                    "column order changed" if not gone and not new else "",
                )
                if part
            )
            report.changed.append(f"{name}: {detail}")
        elif have[name].types:
            report.changed += [
                f"{name}: column {column} was {was}, is {now_type}"
                for column, was, now_type in zip(
                    now,
                    have[name].types,
                    (c.type for c in schema.table(name).stored_columns),
                    strict=True,
                )
                if was != now_type
            ]
    kept = sorted(wanted & set(have))
    recorded = {
        fk.describe()
        for fk in manifest.relations
        if fk.is_virtual or any(leaf in kept for leaf in manifest.holders(fk.table))
    }
    current = {fk.describe() for fk in _relations_of(schema, kept)}
    report.changed += [f"relation dropped: {r}" for r in sorted(recorded - current)]
    report.changed += [f"relation added: {r}" for r in sorted(current - recorded)]
    report.changed += check_seed_md(settings.output_dir, manifest)
    if not report.is_stale:
        fingerprint = schema.fingerprint(_with_parents(schema, sorted(wanted)))
        if fingerprint != manifest.schema_fingerprint:
            report.changed.append("column types, keys or relations differ (schema fingerprint)")
    return report
