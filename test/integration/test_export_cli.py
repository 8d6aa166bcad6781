"""export_seed_from_demo.py as a user runs it: exit codes, what goes to stdout and stderr."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import invoke_assert_code
from db_helpers import run_sql
from sqlalchemy.engine import make_url

SCRIPT = "export_seed_from_demo"


def test_export_prints_progress_and_a_summary(demo_db_url: str, tmp_path: Path) -> None:
    out = tmp_path / "seed"
    result = invoke_assert_code(0, SCRIPT, "--database-url", demo_db_url, "--output-dir", str(out))
    # Not a terminal: one line per table, with the row count the summary gives.
    progress = result.stderr.splitlines()
    summary = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()[2:-3]}
    assert len(progress) == len(summary) == 28
    for i, line in enumerate(progress, start=1):
        table, rows = line.split(": ")[1].split(" ")[1], line.split(": ")[2].split()[0]
        assert line.startswith(f"  write: {i}/28 ") and summary[table] == rows, line
    assert result.stdout.splitlines()[0].split() == [
        "table",
        "rows",
        "closure",
        "include",
        "source",
        "(est.)",
    ]
    assert "content_items_auto" in result.stdout
    assert (out / "manifest.json").is_file()


def test_debug_verbosity_shows_the_sql(demo_db_url: str, tmp_path: Path) -> None:
    result = invoke_assert_code(
        0,
        SCRIPT,
        "--database-url",
        demo_db_url,
        "--output-dir",
        str(tmp_path / "s"),
        "--verbosity",
        "debug",
        "--default-limit",
        "2",
    )
    assert "SQL: COPY (SELECT" in result.stderr


@pytest.fixture
def exported_copy(
    demo_db_template: str, make_database: Callable[..., str], tmp_path: Path
) -> tuple[str, Path]:
    """A copy of the demo database, free to alter, and its seed exported by the script."""
    url = make_database(template=demo_db_template)
    out = tmp_path / "seed"
    invoke_assert_code(0, SCRIPT, "--database-url", url, "--output-dir", str(out))
    return url, out


def test_check_exits_1_when_stale_and_0_when_fresh(exported_copy: tuple[str, Path]) -> None:
    url, out = exported_copy
    fresh = invoke_assert_code(
        0, SCRIPT, "--database-url", url, "--output-dir", str(out), "--check"
    )
    assert "match" in fresh.stdout
    run_sql(url, "ALTER TABLE tags ADD COLUMN colour text")
    stale = invoke_assert_code(
        1, SCRIPT, "--database-url", url, "--output-dir", str(out), "--check"
    )
    assert "colour" in stale.stdout


def test_unreachable_server_exits_2_with_one_readable_error(tmp_path: Path) -> None:
    out = tmp_path / "seed"
    out.mkdir()
    (out / "users.tsv").write_text("kept")
    result = invoke_assert_code(
        2, SCRIPT, "--database-url", "postgresql://x@127.0.0.1:1/none", "--output-dir", str(out)
    )
    assert "cannot connect" in result.stderr
    assert "Hint: " in result.stderr
    assert (out / "users.tsv").read_text() == "kept"


@pytest.mark.parametrize(
    ("change", "said", "hint"),
    [
        (("nobody_here", None), 'role "nobody_here" does not exist', "check the user"),
        ((None, "no_such_db"), 'database "no_such_db" does not exist', "make init-demo"),
    ],
)
def test_a_missing_role_or_database_gets_the_hint_that_fits(
    demo_db_url: str, tmp_path: Path, change: tuple[str | None, str | None], said: str, hint: str
) -> None:
    user, database = change
    url = make_url(demo_db_url)
    url = url.set(username=user or url.username, database=database or url.database)
    result = invoke_assert_code(
        2,
        SCRIPT,
        "--database-url",
        url.render_as_string(hide_password=False),
        "--output-dir",
        str(tmp_path / "seed"),
    )
    assert said in result.stderr
    (hint_line,) = [line for line in result.stderr.splitlines() if line.startswith("Hint: ")]
    assert hint in hint_line
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "seed").exists()


def test_unknown_table_exits_2_and_names_it(demo_db_url: str, tmp_path: Path) -> None:
    result = invoke_assert_code(
        2,
        SCRIPT,
        "--database-url",
        demo_db_url,
        "--output-dir",
        str(tmp_path / "s"),
        "--exclude",
        "no_such_table",
    )
    assert "no_such_table" in result.stderr


def test_bad_config_file_exits_2(demo_db_url: str, tmp_path: Path) -> None:
    config = tmp_path / "c.json"
    config.write_text('{"default_limit": 10, "limits": {}}')
    result = invoke_assert_code(
        2,
        SCRIPT,
        "--database-url",
        demo_db_url,
        "--config",
        str(config),
        "--output-dir",
        str(tmp_path),
    )
    assert "limits" in result.stderr


def test_defaults_are_the_checkouts_from_any_directory(demo_db_url: str, tmp_path: Path) -> None:
    """Run from elsewhere, the exporter still checks the committed fixtures and reads the app's
    config (whose virtual relations are part of the schema fingerprint)."""
    result = invoke_assert_code(0, SCRIPT, "--database-url", demo_db_url, "--check", cwd=tmp_path)
    assert "match" in result.stdout
    assert list(tmp_path.iterdir()) == []


def test_check_names_changed_column_types_and_relations(
    exported_copy: tuple[str, Path],
) -> None:
    url, out = exported_copy
    run_sql(
        url,
        "ALTER TABLE available_models ALTER COLUMN family TYPE varchar(200);"
        "ALTER TABLE route_analytics DROP CONSTRAINT route_analytics_user_id_fkey;"
        "CREATE TABLE x_owner (id uuid PRIMARY KEY);"
        "ALTER TABLE tags ADD COLUMN owner_id uuid REFERENCES x_owner",
    )
    stale = invoke_assert_code(
        1, SCRIPT, "--database-url", url, "--output-dir", str(out), "--check"
    ).stdout
    assert "column family was" in stale and "is character varying(200)" in stale
    assert "relation dropped: route_analytics(user_id) -> users(id)" in stale
    assert "table added:   x_owner" in stale
    assert "relation added: tags(owner_id) -> x_owner(id)" in stale
    assert "columns added: owner_id" in stale


def test_the_export_writes_seed_md_which_check_compares_and_import_ignores(
    exported_copy: tuple[str, Path], app_db_url: str
) -> None:
    url, out = exported_copy
    text = (out / "SEED.md").read_text()
    assert "```mermaid\nerDiagram\n" in text and "| `users` |" in text
    check = ("--database-url", url, "--output-dir", str(out), "--check")
    invoke_assert_code(0, SCRIPT, *check)
    (out / "SEED.md").write_text(text.replace("| `users` | ", "| `users` | 1"))
    stale = invoke_assert_code(1, SCRIPT, *check)
    assert "SEED.md does not match the fixture files" in stale.stdout
    (out / "SEED.md").write_text(text)
    loaded = invoke_assert_code(
        0, "import_seed_to_test", "--database-url", app_db_url, "--input-dir", str(out), "--verify"
    )
    assert "verify OK" in loaded.stdout


def test_on_a_terminal_each_phase_is_one_line_and_quiet_is_the_result(
    demo_db_url: str, tmp_path: Path
) -> None:
    import os
    import pty
    import subprocess
    import sys

    from cli_helpers import PACKAGE, REPO

    argv = [sys.executable, "-m", f"{PACKAGE}.{SCRIPT}", "--database-url", demo_db_url]
    primary, secondary = pty.openpty()
    try:
        done = subprocess.run(
            [*argv, "--output-dir", str(tmp_path / "a")],
            cwd=REPO,
            stdout=subprocess.PIPE,
            stderr=secondary,
            text=True,
            timeout=300,
            check=True,
        )
        os.close(secondary)
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:  # the terminal's other end is closed: all read
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
    terminal = b"".join(chunks).decode().replace("\r\n", "\n")
    # Two phases (rows chosen, files written), each one line rewritten in place.
    lines = terminal.split("\n")
    assert len(lines) == 3 and lines[2] == "", terminal
    assert lines[0].rsplit("\r\x1b[K", 1)[1].startswith("choose rows: 28 tables, ")
    assert lines[1].rsplit("\r\x1b[K", 1)[1].startswith("write: 28/28 ")
    assert done.stdout.splitlines()[-1].startswith("28 tables, ")
    quiet = invoke_assert_code(
        0,
        SCRIPT,
        "--database-url",
        demo_db_url,
        "--output-dir",
        str(tmp_path / "b"),
        "--verbosity",
        "quiet",
    )
    assert quiet.stderr == "" and len(quiet.stdout.splitlines()) == 1
    assert quiet.stdout.startswith("28 tables, ")
