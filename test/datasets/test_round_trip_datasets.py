"""Export, import into an empty copy of the schema, verify, import again, export again."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from db_helpers import run_sql
from fixture_oracle import fixture_files, read_rows
from sqlalchemy.engine import make_url

from genonaut.seed.commands.export import export_seed
from genonaut.seed.core.fixture_format import read_manifest
from genonaut.seed.core.settings import ExportSettings
from genonaut.seed.engines.postgres.connection import to_libpq_dsn
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.verify import verify_seed

# MusicBrainz's trigger functions name tables without a schema: its clients connect with this
# search_path, and so does the import.
SEARCH_PATH = {"musicbrainz_schema": "musicbrainz,public"}


def as_client(name: str, url: str) -> str:
    if name not in SEARCH_PATH:
        return url
    options = {"options": f"-csearch_path={SEARCH_PATH[name]}"}
    return make_url(url).update_query_dict(options).render_as_string(hide_password=False)


def copy_schema(source: str, target: str, bin_dir: Path) -> None:
    """The source's tables, keys, sequences and triggers, without rows (pg_dump --schema-only)."""
    dump = subprocess.run(
        [
            str(bin_dir / "pg_dump"),
            "--schema-only",
            "--no-owner",
            "--no-privileges",
            "-d",
            to_libpq_dsn(source),
        ],
        check=True,
        capture_output=True,
    ).stdout
    subprocess.run(
        [str(bin_dir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", to_libpq_dsn(target)],
        input=dump,
        check=True,
        capture_output=True,
    )


def test_round_trip_is_lossless_and_repeatable(
    dataset: tuple[str, str],
    make_database: Callable[..., str],
    pg_bin_dir: Path,
    tmp_path: Path,
) -> None:
    name, source = dataset
    seed = tmp_path / "seed"
    export_seed(ExportSettings(source, seed))
    target = make_database()
    copy_schema(source, target, pg_bin_dir)
    target = as_client(name, target)

    # MusicBrainz's insert triggers add rows of their own (artist_meta for each artist...):
    # switched off, the tables hold exactly the fixture's rows.
    quiet_triggers = name == "musicbrainz_schema"
    first = import_seed(seed, target, disable_triggers=quiet_triggers)
    manifest = read_manifest(seed)
    assert first.inserted == sum(t.rows for t in manifest.tables)
    for table in manifest.tables:
        (count,) = run_sql(
            target, f'SELECT count(*) FROM ONLY "{table.name.schema}"."{table.name.name}"'
        )[0]
        assert count == table.rows, table.name
    assert verify_seed(seed, target).ok

    again = import_seed(seed, target, disable_triggers=quiet_triggers)
    assert again.inserted == 0
    assert all(t.already_there == t.in_file for t in again.tables)

    # Every sequence feeding a loaded table hands out a value past the loaded ones.
    rows = read_rows(seed)
    for seq_schema, seq_name, table_schema, table_name, column in run_sql(
        target,
        "SELECT sn.nspname, s.relname, tn.nspname, t.relname, a.attname FROM pg_depend d "
        "JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S' "
        "JOIN pg_namespace sn ON sn.oid = s.relnamespace "
        "JOIN pg_attrdef ad ON ad.oid = d.objid AND d.classid = 'pg_attrdef'::regclass "
        "JOIN pg_class t ON t.oid = ad.adrelid JOIN pg_namespace tn ON tn.oid = t.relnamespace "
        "JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = ad.adnum "
        "WHERE t.relkind = 'r'",
    ):
        values = [
            int(str(r[column]))
            for key, table_rows in rows.items()
            if (key.schema, key.name) == (table_schema, table_name)
            for r in table_rows
            if r[column] is not None
        ]
        if values:
            (nextval,) = run_sql(target, f'SELECT nextval(\'"{seq_schema}"."{seq_name}"\')')[0]
            assert nextval > max(values), (seq_name, table_name)

    back = tmp_path / "back"
    export_seed(ExportSettings(target, back, default_limit=1_000_000))
    assert fixture_files(back) == fixture_files(seed), name
