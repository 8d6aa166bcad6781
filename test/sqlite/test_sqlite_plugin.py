"""Per-test copies of a seeded SQLite database (pytest_plugin/sqlite.py): a template built once
from a schema file and a fixture directory, copied by the backup API."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine_scripts import export

from genonaut.seed.engines import engine_for
from genonaut.seed.pytest_plugin.sqlite import sqlite_template


def count(path: Path, table: str) -> int:
    conn = sqlite3.connect(path)
    try:
        return int(conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
    finally:
        conn.close()


def test_a_template_is_built_once_and_copied_per_test(sample_db: Path, tmp_path: Path) -> None:
    seed = export(f"sqlite:///{sample_db}", tmp_path / "seed", 2)
    rows = {t.name.name: t.rows for t in seed.manifest.tables}
    cache = tmp_path / "cache"
    cache.mkdir()

    template = sqlite_template(sample_db, seed.directory, cache, disable_triggers=True)
    assert {t: count(template, t) for t in rows} == rows
    built = template.stat().st_mtime_ns
    assert sqlite_template(sample_db, seed.directory, cache, disable_triggers=True) == template
    assert template.stat().st_mtime_ns == built

    url = f"sqlite:///{template}"
    first = engine_for(url).copy_database(url, str(tmp_path / "one.sqlite"))
    copy = Path(first.removeprefix("sqlite:///"))
    conn = sqlite3.connect(copy)
    try:
        conn.execute("DELETE FROM audit")
        conn.commit()
    finally:
        conn.close()
    assert count(copy, "audit") == 0 < rows["audit"]
    assert count(template, "audit") == rows["audit"]

    # A changed seed is another template.
    (seed.directory / "SEED.md").write_text("changed\n")
    other = sqlite_template(sample_db, seed.directory, cache, disable_triggers=True)
    assert other != template and other.is_file()
