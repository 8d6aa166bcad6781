"""import_seed_to_test.py as a user runs it: exit codes, what goes to stdout and stderr."""

from __future__ import annotations

from pathlib import Path

from cli_helpers import invoke, invoke_assert_code
from db_helpers import run_sql
from import_fixtures import counts, seed_rows, write_fixture

SCRIPT = "import_seed_to_test"


def _args(url: str, seed: Path, *more: str) -> tuple[str, ...]:
    return ("--database-url", url, "--input-dir", str(seed), *more)


def test_import_prints_progress_then_a_summary_and_verifies(target: str, seed: Path) -> None:
    result = invoke_assert_code(0, SCRIPT, *_args(target, seed, "--verify"))
    # Not a terminal: one line per table, i/n.
    assert "  import: 2/12 books: 500 rows, 500 inserted\n" in result.stderr
    assert len(result.stderr.splitlines()) == 12
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["table", "in", "file", "inserted", "already", "there"]
    assert any(line.split()[:4] == ["authors", "200", "200", "0"] for line in lines)
    assert "verify OK" in result.stdout
    again = invoke_assert_code(0, SCRIPT, *_args(target, seed))
    assert any(
        line.split()[:4] == ["authors", "200", "0", "200"] for line in again.stdout.splitlines()
    )
    assert "  import: 1/12 authors: 200 rows, 0 inserted, 200 already there" in again.stderr
    # Quiet: no progress, and only the one-line result.
    quiet = invoke_assert_code(0, SCRIPT, *_args(target, seed, "--verbosity", "quiet"))
    assert quiet.stderr == ""
    assert quiet.stdout.splitlines() == [quiet.stdout.strip()]
    assert quiet.stdout.startswith("12 tables, 0 rows inserted in ")


def test_verify_only_exits_1_on_a_missing_row(target: str, seed: Path) -> None:
    invoke_assert_code(0, SCRIPT, *_args(target, seed))
    invoke_assert_code(0, SCRIPT, *_args(target, seed, "--verify-only"))
    run_sql(target, "DELETE FROM tickets_a WHERE id = 3")
    result = invoke_assert_code(1, SCRIPT, *_args(target, seed, "--verify-only"))
    assert any(line.split()[:3] == ["tickets_a", "30", "1"] for line in result.stdout.splitlines())
    assert "verify FAILED" in result.stdout
    assert run_sql(target, "SELECT count(*) FROM tickets_a") == [(29,)]


def test_input_errors_exit_2_with_a_hint(target: str, tmp_path: Path) -> None:
    result = invoke_assert_code(2, SCRIPT, *_args(target, tmp_path / "nowhere"))
    assert "no manifest.json" in result.stderr
    assert "Hint: " in result.stderr


def test_truncate_without_cascade_names_the_referencing_tables(target: str, seed: Path) -> None:
    invoke_assert_code(0, SCRIPT, *_args(target, seed, "--verbosity", "quiet"))
    result = invoke_assert_code(
        2, SCRIPT, *_args(target, seed, "--table", "authors", "--truncate-first")
    )
    assert "books" in result.stderr and "--cascade" in result.stderr
    invoke_assert_code(
        0, SCRIPT, *_args(target, seed, "--tables", "authors", "--truncate-first", "--cascade")
    )
    assert run_sql(target, "SELECT count(*) FROM books") == [(0,)]


def test_debug_shows_every_statement(target: str, seed: Path) -> None:
    result = invoke_assert_code(0, SCRIPT, *_args(target, seed, "--verbosity", "debug"))
    assert "SQL: COPY " in result.stderr
    assert "SQL: SET CONSTRAINTS ALL IMMEDIATE" in result.stderr


def test_traceback_shows_the_stack(target: str, tmp_path: Path) -> None:
    result = invoke(SCRIPT, *_args(target, tmp_path / "nowhere", "--traceback"))
    assert result.code == 1
    assert "Traceback" in result.stderr and "FixtureError" in result.stderr


def test_cascade_without_truncate_is_a_usage_error(target: str, seed: Path) -> None:
    result = invoke(SCRIPT, *_args(target, seed, "--cascade"))
    assert result.code == 2
    assert "--cascade only applies with --truncate-first" in result.stderr


def test_the_default_input_is_the_committed_seed_from_any_directory(
    app_db_url: str, tmp_path: Path
) -> None:
    outcome = invoke_assert_code(
        0, SCRIPT, "--database-url", app_db_url, "--verify", "--verbosity", "quiet", cwd=tmp_path
    )
    ((users,),) = run_sql(app_db_url, "SELECT count(*) FROM users")
    assert users > 0
    assert outcome.stdout.startswith("28 tables, ")
    assert "verify OK: 28 tables" in outcome.stdout


def test_a_failure_after_progress_says_nothing_was_written(target: str, tmp_path: Path) -> None:
    spec = seed_rows()
    columns, authors = spec["authors"]
    spec["authors"] = (columns, [a for a in authors if a[0] != "2"])  # book 1's author
    seed = write_fixture(tmp_path / "seed", spec)
    before = counts(target, list(spec))
    outcome = invoke(SCRIPT, *_args(target, seed))
    assert outcome.code == 2
    lines = outcome.stderr.rstrip().splitlines()
    assert any(line.startswith("  import: 1/12 authors: 199 rows") for line in lines), (
        outcome.stderr
    )
    (error,) = [line for line in lines if line.startswith("Error: ")]
    assert "books" in error and "books_author_id_fkey" in error
    assert lines[-1] == "Nothing was written: the import rolled back as a whole."
    assert counts(target, list(spec)) == before
