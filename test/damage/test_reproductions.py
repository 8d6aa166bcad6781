"""Each break found by probing the tools with untrusted input, reproduced: it now fails safely
(one `Error:` line, exit 2, nothing written) or works."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from cli_helpers import invoke_assert_code
from db_helpers import run_sql, with_user
from import_fixtures import LIKES_BOOKS, SCHEMA, Spec, seed_rows, write_fixture
from sqlalchemy.engine import make_url

from genonaut.seed.commands.export import check_fixtures, export_seed
from genonaut.seed.core.fixture_format import MANIFEST, file_name
from genonaut.seed.core.schema_graph import TableName
from genonaut.seed.core.settings import ExportSettings
from genonaut.seed.engines.postgres.catalog import read_schema
from genonaut.seed.engines.postgres.connection import session
from genonaut.seed.engines.postgres.loader import import_seed
from genonaut.seed.engines.postgres.sequences import advance_sequences
from genonaut.seed.engines.postgres.verify import orphans, verify_seed
from genonaut.seed.errors import ConfigError, ExportFailed, FixtureError

FILM = """
CREATE TABLE film (id serial PRIMARY KEY, actor boolean NOT NULL, title text);
INSERT INTO film (actor, title) SELECT g % 2 = 0, 'film ' || g FROM generate_series(1, 20) g;
"""


def _tables(url: str) -> list[str]:
    return [
        r[0]
        for r in run_sql(
            url,
            "SELECT relname FROM pg_class WHERE relkind = 'r' "
            "AND relnamespace = 'public'::regnamespace ORDER BY 1",
        )
    ]


def _sequences(url: str) -> list[tuple[object, ...]]:
    query = run_sql(
        url,
        "SELECT string_agg(format('SELECT %L, last_value, is_called FROM %I.%I', "
        "sequencename, schemaname, sequencename), ' UNION ALL ') FROM pg_sequences",
    )[0][0]
    return sorted(run_sql(url, query))


# -- 1. SQL fragments ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "flag",
    [
        "--where=film=actor=true) LIMIT 0; COMMIT; DROP TABLE film CASCADE; --",
        "--include=film=true); DROP TABLE film; --",
    ],
)
def test_a_flag_condition_cannot_end_the_read_only_transaction(
    empty_db_url: str, tmp_path: Path, flag: str
) -> None:
    run_sql(empty_db_url, FILM)
    result = invoke_assert_code(
        2,
        "export_seed_from_demo",
        *("--database-url", empty_db_url, "--no-config", "--output-dir", str(tmp_path / "s")),
        flag,
    )
    assert result.stderr.startswith(f"Error: {flag.split('=')[0]} film: condition ")
    assert _tables(empty_db_url) == ["film"]
    assert not (tmp_path / "s").exists()


def test_config_conditions_cannot_end_the_transaction(empty_db_url: str, tmp_path: Path) -> None:
    run_sql(empty_db_url, FILM + "CREATE TABLE review (id int PRIMARY KEY, film_id int);")
    config = tmp_path / "seed.json"
    config.write_text(
        json.dumps(
            {
                "virtual_fks": [
                    {
                        "table": "review",
                        "columns": ["film_id"],
                        "references": "film",
                        "referred_columns": ["id"],
                        "when": "true)); COMMIT; DROP TABLE film; --",
                    }
                ]
            }
        )
    )
    result = invoke_assert_code(
        2,
        "export_seed_from_demo",
        *("--database-url", empty_db_url, "--config", str(config)),
        *("--output-dir", str(tmp_path / "s")),
    )
    assert f"config file {config}: virtual_fks[0].when" in result.stderr
    assert _tables(empty_db_url) == ["film", "review"]


def test_a_condition_cannot_switch_the_export_to_read_write(
    empty_db_url: str, tmp_path: Path
) -> None:
    """One expression cannot end the transaction, and inside a READ ONLY one PostgreSQL
    refuses to turn read-write: the session's read-only mode is out of a condition's reach."""
    run_sql(empty_db_url, FILM)
    condition = "set_config('transaction_read_only', 'off', true) IS NOT NULL"
    with pytest.raises(ExportFailed, match=r"read-write.*nothing was written"):
        export_seed(
            ExportSettings(empty_db_url, tmp_path / "s", where={"film": condition}),
        )
    assert _tables(empty_db_url) == ["film"]
    assert not (tmp_path / "s").exists()


def test_a_condition_failing_on_a_row_is_one_error_line(empty_db_url: str, tmp_path: Path) -> None:
    from cli_helpers import invoke

    run_sql(empty_db_url, FILM)
    outcome = invoke(
        "export_seed_from_demo",
        "--database-url",
        empty_db_url,
        "--output-dir",
        str(tmp_path / "s"),
        "--no-config",
        "--where",
        "film=1 / (id - 2) = 1",
    )
    assert outcome.code == 2
    assert outcome.stderr.splitlines()[0] == (
        "Error: the source refused a statement of the export: division by zero; nothing was written"
    )
    assert "Traceback" not in outcome.stderr
    assert not (tmp_path / "s").exists()


def _seed_with_condition(directory: Path, condition: str) -> Path:
    seed = write_fixture(directory, seed_rows())
    manifest = json.loads((seed / MANIFEST).read_text())
    for relation in manifest["relations"]:
        relation["when"] = condition
    (seed / MANIFEST).write_text(json.dumps(manifest))
    return seed


def test_a_manifest_condition_cannot_run_statements_in_verify(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, SCHEMA)
    import_seed(write_fixture(tmp_path / "good", seed_rows()), empty_db_url)
    before = _tables(empty_db_url)
    hostile = "true)); COMMIT; CREATE TABLE public.pwned AS SELECT 1; COMMIT; --"
    seed = _seed_with_condition(tmp_path / "seed", hostile)
    for flag in ("--verify-only", "--verify"):
        result = invoke_assert_code(
            2,
            "import_seed_to_test",
            *("--database-url", empty_db_url, "--input-dir", str(seed), flag),
        )
        assert f"Error: {seed / MANIFEST}: relation 'likes_book': when: condition" in result.stderr
    assert _tables(empty_db_url) == before
    assert "pwned" not in before


def test_a_slow_manifest_condition_is_refused_and_a_timeout_backs_it(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, SCHEMA)
    seed = _seed_with_condition(tmp_path / "seed", "pg_sleep(120) IS NOT NULL")
    for extra in ((), ("--verify-only",)):
        result = invoke_assert_code(
            2,
            "import_seed_to_test",
            *("--database-url", empty_db_url, "--input-dir", str(seed), *extra),
        )
        assert f"{seed / MANIFEST}: relation 'likes_book': when: condition" in result.stderr
        assert "no calls here" in result.stderr
    # Should a slow condition pass the check, the statement timeout stops it.
    import_seed(write_fixture(tmp_path / "good", seed_rows()), empty_db_url)
    slow = replace(LIKES_BOOKS, condition="(SELECT true FROM pg_sleep(120))")
    started = time.monotonic()
    with session(empty_db_url) as db, pytest.raises(FixtureError) as caught:
        schema = read_schema(db)
        orphans(db, schema, [(slow, slow.table)], condition_timeout=1, source="m/manifest.json")
    assert time.monotonic() - started < 60
    assert caught.value.message.startswith("m/manifest.json: the condition of relation")
    assert "ran longer than 1s" in caught.value.message


def test_a_failing_manifest_condition_is_one_error_line(empty_db_url: str, tmp_path: Path) -> None:
    run_sql(empty_db_url, SCHEMA)
    seed = _seed_with_condition(tmp_path / "seed", "no_such_column = 1")
    import_seed(seed, empty_db_url)
    result = invoke_assert_code(
        2,
        "import_seed_to_test",
        "--database-url",
        empty_db_url,
        "--input-dir",
        str(seed),
        "--verify-only",
    )
    assert f"{seed / MANIFEST}: the condition of relation 'likes_book'" in result.stderr
    assert "no_such_column" in result.stderr


# -- 2. File names ---------------------------------------------------------------------------

ODD_NAMES = """
CREATE SCHEMA a;
CREATE TABLE public."a.b" (id int PRIMARY KEY, v text);
CREATE TABLE a.b (id int PRIMARY KEY, v text);
CREATE TABLE public."x/y" (id int PRIMARY KEY);
CREATE TABLE public."../../escape" (id int PRIMARY KEY);
INSERT INTO public."a.b" VALUES (1, 'dotted'), (2, 'dotted');
INSERT INTO a.b VALUES (1, 'schema a');
INSERT INTO public."x/y" VALUES (1);
INSERT INTO public."../../escape" VALUES (1);
"""


def test_tables_whose_names_look_like_paths_get_files_of_their_own(
    make_database: Callable[..., str], empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, ODD_NAMES)
    out = tmp_path / "deep" / "out" / "seed"
    export_seed(ExportSettings(empty_db_url, out))
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == sorted(
        [
            MANIFEST,
            "SEED.md",
            "a%2Eb.tsv",
            "a.b.tsv",
            "x%2Fy.tsv",
            "%2E%2E%2F%2E%2E%2Fescape.tsv",
        ]
    )
    assert all(p.parent == out for p in tmp_path.rglob("*.tsv"))
    assert (out / file_name(TableName("public", "a.b"))).read_text().count("dotted") == 2
    assert (out / file_name(TableName("a", "b"))).read_text().count("schema a") == 1
    # --check finds the fixtures current: both tables are listed under their own names.
    assert not check_fixtures(ExportSettings(empty_db_url, out)).is_stale
    # The fixture loads back whole into a copy of the schema.
    target = make_database()
    run_sql(target, ODD_NAMES.split("INSERT")[0])
    report = import_seed(out, target)
    assert report.inserted == 5
    assert verify_seed(out, target).ok


@pytest.mark.parametrize("file", ["/etc/passwd", "../other/language.tsv"])
def test_manifest_file_entries_outside_the_directory_are_damage(
    empty_db_url: str, tmp_path: Path, file: str
) -> None:
    run_sql(empty_db_url, SCHEMA)
    other = tmp_path / "other"
    other.mkdir()
    (other / "language.tsv").write_text("id\tname\tjoined\n1\tx\t2024-01-01\n")
    seed = write_fixture(tmp_path / "seed", seed_rows())
    manifest = json.loads((seed / MANIFEST).read_text())
    manifest["tables"][0]["file"] = file
    (seed / MANIFEST).write_text(json.dumps(manifest))
    result = invoke_assert_code(
        2, "import_seed_to_test", "--database-url", empty_db_url, "--input-dir", str(seed)
    )
    assert f"Error: {seed / MANIFEST}: table public." in result.stderr
    assert "root:" not in result.stderr
    assert run_sql(empty_db_url, "SELECT count(*) FROM authors")[0][0] == 0


# -- 3. Sequences ----------------------------------------------------------------------------


def test_no_update_grant_on_one_sequence_moves_none(empty_db_url: str, tmp_path: Path) -> None:
    run_sql(empty_db_url, SCHEMA + "SELECT setval('ticket_seq', 5)")
    role, database = f"seq_{uuid.uuid4().hex[:8]}", make_url(empty_db_url).database
    run_sql(
        empty_db_url,
        f"CREATE ROLE {role} LOGIN; GRANT TEMPORARY ON DATABASE "
        f'"{database}" TO {role}; '
        f"GRANT SELECT, INSERT ON ALL TABLES IN SCHEMA public TO {role}; "
        f"GRANT SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO {role}; "
        f"REVOKE UPDATE ON SEQUENCE ticket_seq FROM {role}",
    )
    try:
        before = _sequences(empty_db_url)
        seed = write_fixture(tmp_path / "seed", seed_rows())
        with pytest.raises(ConfigError, match=r"permission denied for sequence\(s\) ticket_seq"):
            import_seed(seed, with_user(empty_db_url, role))
        assert _sequences(empty_db_url) == before
        assert run_sql(empty_db_url, "SELECT count(*) FROM authors")[0][0] == 0
    finally:
        run_sql(empty_db_url, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_an_owners_sequences_move_inside_the_transaction(empty_db_url: str) -> None:
    """A rollback after the sequence step (a kill before COMMIT) leaves them where they were."""
    run_sql(empty_db_url, SCHEMA + "INSERT INTO authors (id, name) VALUES (500, 'x')")
    before = _sequences(empty_db_url)
    with session(empty_db_url) as db:
        schema = read_schema(db)
        moved = advance_sequences(db, schema, [TableName("public", "authors")])
        assert moved == [(TableName("public", "authors_id_seq"), 500)]
        assert db.fetch("SELECT last_value FROM authors_id_seq") == [(500,)]
        db.conn.rollback()
    assert _sequences(empty_db_url) == before


# -- 4. Faults without a clean message -------------------------------------------------------


def test_verify_without_the_temporary_grant_is_one_error_line(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, SCHEMA)
    seed = write_fixture(tmp_path / "seed", seed_rows())
    import_seed(seed, empty_db_url)
    role, database = f"ver_{uuid.uuid4().hex[:8]}", make_url(empty_db_url).database
    run_sql(
        empty_db_url,
        f"CREATE ROLE {role} LOGIN; GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}; "
        f'REVOKE TEMPORARY ON DATABASE "{database}" FROM PUBLIC',
    )
    try:
        result = invoke_assert_code(
            2,
            "import_seed_to_test",
            *("--database-url", with_user(empty_db_url, role), "--input-dir", str(seed)),
            "--verify-only",
        )
        assert "permission denied" in result.stderr
    finally:
        run_sql(empty_db_url, f"DROP OWNED BY {role}; DROP ROLE {role}")


def test_a_deeply_nested_manifest_is_one_error_line(empty_db_url: str, tmp_path: Path) -> None:
    seed = write_fixture(tmp_path / "seed", seed_rows())
    (seed / MANIFEST).write_text("[" * 100_000 + "]" * 100_000)
    for extra in ((), ("--verify-only",)):
        result = invoke_assert_code(
            2,
            "import_seed_to_test",
            "--database-url",
            empty_db_url,
            "--input-dir",
            str(seed),
            *extra,
        )
        assert f"Error: {seed / MANIFEST} is damaged: it nests too deep" in result.stderr


WIDE = 1600


def test_a_table_at_the_column_limit_exports_imports_and_verifies(
    make_database: Callable[..., str], empty_db_url: str, tmp_path: Path
) -> None:
    columns = ", ".join(f"c{i} int" for i in range(1, WIDE))
    ddl = f"CREATE TABLE wide (id int PRIMARY KEY, {columns});"
    values = ", ".join(str(i) for i in range(1, WIDE))
    run_sql(empty_db_url, ddl + f"INSERT INTO wide VALUES (1, {values}), (2, {values});")
    seed = tmp_path / "seed"
    export_seed(ExportSettings(empty_db_url, seed))
    target = make_database()
    run_sql(target, ddl)
    assert import_seed(seed, target).inserted == 2
    from cli_helpers import invoke

    def verify() -> tuple[int, str, str]:
        outcome = invoke(
            "import_seed_to_test",
            "--database-url",
            target,
            "--input-dir",
            str(seed),
            "--verify-only",
        )
        return outcome.code, outcome.stdout, outcome.stderr

    code, out, err = verify()
    assert code == 0, err
    run_sql(target, "UPDATE wide SET c1599 = 7 WHERE id = 2")
    code, out, err = verify()
    assert code == 1, err
    assert "differs: wide id=2: c1599: fixture '1599', database '7'" in out + err


STAGING = """
CREATE DOMAIN positive AS int CHECK (VALUE > 0);
CREATE TABLE docs (id int PRIMARY KEY, words tsvector, score positive);
"""


@pytest.mark.parametrize(
    ("line", "column"),
    [("2\t'unterminated\t3\n", "words"), ("2\t'ok'\t-4\n", "score")],
)
def test_staging_names_file_line_and_column_for_tsvector_and_domain_checks(
    empty_db_url: str, tmp_path: Path, line: str, column: str
) -> None:
    run_sql(empty_db_url, STAGING)
    spec: Spec = {"docs": (("id", "words", "score"), [("1", "'a' 'b'", "1"), ("3", "'c'", "2")])}
    seed = write_fixture(tmp_path / "seed", spec, relations=(), partitions={})
    path = seed / "docs.tsv"
    rows = path.read_text().splitlines(keepends=True)
    path.write_text(rows[0] + rows[1] + line)
    manifest = json.loads((seed / MANIFEST).read_text())
    manifest["tables"][0]["rows"] = 2
    (seed / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(FixtureError) as caught:
        import_seed(seed, empty_db_url)
    assert caught.value.message.startswith(f"{path}: line 3, column {column}")
    assert run_sql(empty_db_url, "SELECT count(*) FROM docs")[0][0] == 0


def test_a_wrong_table_name_in_the_manifest_names_manifest(
    empty_db_url: str, tmp_path: Path
) -> None:
    run_sql(empty_db_url, SCHEMA)
    seed = write_fixture(tmp_path / "seed", seed_rows())
    text = (seed / MANIFEST).read_text().replace('"public.books"', '"public.bookz"', 1)
    (seed / MANIFEST).write_text(text)
    result = invoke_assert_code(
        2, "import_seed_to_test", "--database-url", empty_db_url, "--input-dir", str(seed)
    )
    assert f"Error: {seed / MANIFEST}: table public.bookz names the file 'books.tsv'" in (
        result.stderr
    )
