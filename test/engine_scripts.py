"""The checks every engine's export and import must pass, run through the two scripts as a
user runs them: export twice (the same bytes), every table with rows in the source non-empty,
load into an empty copy of the schema (the engine checks every foreign key, so the seed is
closed), verify, load again (nothing inserted), and export the copy (the same bytes)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from cli_helpers import invoke_assert_code

from genonaut.seed.core.fixture_format import Manifest, read_manifest


@dataclass(frozen=True)
class Exported:
    directory: Path
    manifest: Manifest


def export(url: str, directory: Path, limit: int, *extra: str) -> Exported:
    invoke_assert_code(
        0,
        "export_seed_from_demo",
        "--database-url",
        url,
        "--output-dir",
        str(directory),
        "--no-config",
        "--default-limit",
        str(limit),
        "--verbosity",
        "quiet",
        *extra,
    )
    return Exported(directory, read_manifest(directory))


def files_of(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def load(url: str, directory: Path, *extra: str) -> str:
    """The import's one-line result (quiet), after a verify that passed."""
    done = invoke_assert_code(
        0,
        "import_seed_to_test",
        "--database-url",
        url,
        "--input-dir",
        str(directory),
        "--verify",
        "--verbosity",
        "quiet",
        *extra,
    )
    return done.stdout


def check_engine_round_trip(
    source: str,
    empty_copy: str,
    tmp_path: Path,
    *,
    limit: int,
    engine: str,
    source_rows: dict[str, int],
    foreign_keys: int,
    load_flags: tuple[str, ...] = (),
) -> Manifest:
    """Every check of the module docstring; the manifest written."""
    first = export(source, tmp_path / "first", limit)
    assert first.manifest.engine == engine
    assert '"engine"' in (first.directory / "manifest.json").read_text()
    second = export(source, tmp_path / "second", limit)
    assert files_of(second.directory) == files_of(first.directory)

    counts = {t.name.name: t.rows for t in first.manifest.tables}
    assert set(counts) == set(source_rows)
    emptied = sorted(t for t, n in source_rows.items() if n and not counts[t])
    assert not emptied, f"tables with rows in the source left empty: {emptied}"
    assert all(counts[t] >= min(limit, n) for t, n in source_rows.items()), counts

    total = sum(counts.values())
    loaded = load(empty_copy, first.directory, *load_flags)
    assert f"{len(counts)} tables, {total} rows inserted" in loaded
    assert f"verify OK: {len(counts)} tables, {foreign_keys} relations" in loaded
    again = load(empty_copy, first.directory, *load_flags)
    assert f"{len(counts)} tables, 0 rows inserted" in again

    copy = export(empty_copy, tmp_path / "copy", limit)
    assert files_of(copy.directory) == files_of(first.directory)
    return first.manifest
