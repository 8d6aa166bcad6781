"""The export's output does not depend on the session settings of the role or the database,
and mistakes in flags are one clear line."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import invoke_assert_code
from db_helpers import run_sql
from fixture_oracle import snapshot
from sqlalchemy.engine import make_url

from genonaut.seed.commands.export import export_seed
from genonaut.seed.core.settings import ExportSettings
from genonaut.seed.engines.postgres.connection import connect

SCRIPT = "export_seed_from_demo"
VALUES = """
CREATE TABLE v (id int PRIMARY KEY, m money, t timestamptz, d date, i interval, f float8,
                r real, b bytea, tr tstzrange, p point, j jsonb, a float8[], tm timetz);
INSERT INTO v SELECT i, i * 1.25, '2024-03-05 12:34:56.789+02'::timestamptz + i * interval '1 day',
  '2024-02-29'::date + i, make_interval(0, i, 0, i, i, i, i * 1.5), 1.0 / 3 * i, 0.1::real * i,
  decode(md5(i::text), 'hex'),
  tstzrange('2024-01-01', '2024-01-02'::timestamptz + i * interval '1h'), point(i, 1.0 / 3),
  jsonb_build_object('f', 1.0 / 3 * i), ARRAY[1.0 / 7, i], '12:00+05'::timetz
  FROM generate_series(1, 20) i;
"""
DATABASE_SETTINGS = {
    "TimeZone": "America/St_Johns",
    "DateStyle": "SQL, DMY",
    "IntervalStyle": "sql_standard",
    "extra_float_digits": "-3",
    "bytea_output": "escape",
    "lc_monetary": "C.UTF-8",
}


def test_output_ignores_the_databases_session_settings(empty_db_url: str, tmp_path: Path) -> None:
    run_sql(empty_db_url, VALUES)
    export_seed(ExportSettings(empty_db_url, tmp_path / "plain"))
    name = make_url(empty_db_url).database
    for setting, value in DATABASE_SETTINGS.items():
        run_sql(empty_db_url, f"ALTER DATABASE \"{name}\" SET {setting} = '{value}'")
    export_seed(ExportSettings(empty_db_url, tmp_path / "odd"))
    assert snapshot(tmp_path / "odd") == snapshot(tmp_path / "plain")
    # money is written in lc_monetary's locale: the session must not inherit the database's.
    conn = connect(empty_db_url, read_only=True)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT current_setting('lc_monetary'), current_setting('transaction_isolation'),"
                " current_setting('transaction_read_only')"
            )
            assert cur.fetchone() == ("C", "repeatable read", "on")
    finally:
        conn.close()


def test_flag_mistakes_are_one_line_with_a_hint(empty_db_url: str, tmp_path: Path) -> None:
    run_sql(empty_db_url, "CREATE TABLE a (id int PRIMARY KEY); INSERT INTO a VALUES (1);")
    base = ("--database-url", empty_db_url, "--output-dir", str(tmp_path / "seed"))
    limit = invoke_assert_code(2, SCRIPT, *base, "--no-config", "--table-limit", "a=lots")
    assert "'lots' is not a whole number" in limit.stderr
    config = tmp_path / "seed-export.json"
    config.write_text('{"default_limit": 5}')
    both = invoke_assert_code(2, SCRIPT, *base, "--config", str(config), "--no-config")
    assert "--no-config" in both.stderr.splitlines()[0]
    include = invoke_assert_code(
        2, SCRIPT, *base, "--no-config", "--exclude", "a", "--include", "a=id = 1"
    )
    assert "--include names a" in include.stderr
    assert not (tmp_path / "seed").exists()
