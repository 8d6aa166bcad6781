"""The two scripts on a small SQLite database (test/sqlite_helpers.py: a cycle, a
self-reference, a composite key, a table without key, AUTOINCREMENT, triggers)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from cli_helpers import invoke_assert_code
from engine_scripts import check_engine_round_trip, export

from genonaut.seed.core.fixture_format import read_manifest
from genonaut.seed.engines.sqlite.clone import copy_schema


def rows_per_table(path: Path) -> dict[str, int]:
    conn = sqlite3.connect(path)
    try:
        names = [
            n
            for (n,) in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}
    finally:
        conn.close()


def foreign_keys(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        tables = rows_per_table(path)
        return sum(
            len({row[0] for row in conn.execute(f'PRAGMA foreign_key_list("{t}")')}) for t in tables
        )
    finally:
        conn.close()


def test_the_sample_through_the_scripts(sample_db: Path, tmp_path: Path) -> None:
    target = copy_schema(sample_db, tmp_path / "target.sqlite")
    manifest = check_engine_round_trip(
        f"sqlite:///{sample_db}",
        f"sqlite:///{target}",
        tmp_path,
        limit=2,
        engine="sqlite",
        source_rows=rows_per_table(sample_db),
        foreign_keys=foreign_keys(sample_db),
        load_flags=("--disable-triggers",),
    )
    # SQLite's "main" is the records' default schema: files are named for the table alone.
    assert sorted(t.file for t in manifest.tables) == sorted(
        f"{t}.tsv" for t in rows_per_table(sample_db)
    )


def test_flags_sqlite_cannot_honour_are_refused(sample_db: Path, tmp_path: Path) -> None:
    seed = export(f"sqlite:///{sample_db}", tmp_path / "seed", 2)
    for flags, message in [
        (("--truncate-first", "--cascade"), "--cascade is not supported for SQLite"),
        (("--reset",), "--reset works on PostgreSQL only"),
    ]:
        done = invoke_assert_code(
            2,
            "import_seed_to_test",
            "--database-url",
            f"sqlite:///{sample_db}",
            "--input-dir",
            str(seed.directory),
            *flags,
        )
        assert f"Error: {message}" in done.stderr


def test_an_unknown_scheme_names_the_schemes(tmp_path: Path) -> None:
    done = invoke_assert_code(
        2, "export_seed_from_demo", "--database-url", "oracle://db/x", "--output-dir", str(tmp_path)
    )
    assert "Error: --database-url: no engine serves oracle:// URLs" in done.stderr
    assert "sqlite://" in done.stderr and "mysql+pymysql://" in done.stderr


def test_postgresql_fixtures_are_refused_by_sqlite(sample_db: Path, tmp_path: Path) -> None:
    seed = export(f"sqlite:///{sample_db}", tmp_path / "seed", 2)
    manifest = seed.directory / "manifest.json"
    text = manifest.read_text()
    manifest.write_text(text.replace('  "engine": "sqlite",\n', ""))
    assert read_manifest(seed.directory).engine == "postgresql"
    done = invoke_assert_code(
        2,
        "import_seed_to_test",
        "--database-url",
        f"sqlite:///{tmp_path / 'target.sqlite'}",
        "--input-dir",
        str(seed.directory),
    )
    assert "were exported from postgresql; this database is sqlite" in done.stderr


def test_check_compares_sqlite_fixtures_with_the_schema(sample_db: Path, tmp_path: Path) -> None:
    url = f"sqlite:///{sample_db}"
    seed = export(url, tmp_path / "seed", 2)
    args = ("--database-url", url, "--output-dir", str(seed.directory), "--no-config", "--check")
    fresh = invoke_assert_code(0, "export_seed_from_demo", *args)
    assert "fixtures match the current schema" in fresh.stdout
    conn = sqlite3.connect(sample_db)
    try:
        conn.execute("ALTER TABLE region ADD COLUMN note TEXT")
        conn.commit()
    finally:
        conn.close()
    stale = invoke_assert_code(1, "export_seed_from_demo", *args)
    assert "region: columns added: note" in stale.stdout


def test_truncate_first_puts_the_tables_back_to_the_fixtures(
    sample_db: Path, tmp_path: Path
) -> None:
    seed = export(f"sqlite:///{sample_db}", tmp_path / "seed", 2)
    rows = {t.name.name: t.rows for t in seed.manifest.tables}
    target = copy_schema(sample_db, tmp_path / "target.sqlite")
    url = f"sqlite:///{target}"
    args = ("--database-url", url, "--input-dir", str(seed.directory), "--disable-triggers")
    invoke_assert_code(0, "import_seed_to_test", *args)
    conn = sqlite3.connect(target)
    try:
        conn.execute("UPDATE region SET name = 'changed'")
        conn.execute("INSERT INTO audit (what) VALUES ('extra')")
        conn.commit()
    finally:
        conn.close()
    invoke_assert_code(1, "import_seed_to_test", *args, "--verify-only")

    done = invoke_assert_code(0, "import_seed_to_test", *args, "--truncate-first", "--verify")
    assert "emptied first:" in done.stdout and "verify OK" in done.stdout
    assert rows_per_table(target) == rows

    # A table outside the load holding rows that reference a loaded one blocks the emptying.
    blocked = invoke_assert_code(
        2, "import_seed_to_test", *args, "--tables", "region", "--truncate-first"
    )
    assert "office hold rows that reference them" in blocked.stderr
