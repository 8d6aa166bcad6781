"""Every command fails in one line with a hint, and never shows a password: a server that does
not answer, a wrong password, a malformed URL, a database that is not the app's. Passwords with
URL characters in them reach the server intact.

Wrong passwords need a server that asks for one, so this module starts its own embedded server
with a password-protected role (the session's test server trusts every login).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg2
import pytest
from db_helpers import run_sql
from sqlalchemy.engine import URL, make_url

from genonaut.db.embedded import EmbeddedServer
from genonaut.db.init_db import prepare
from genonaut.db.utils import database_url, to_libpq_dsn
from genonaut.seed.engines.postgres.connection import session

REPO = Path(__file__).resolve().parents[2]
PASSWORD = "p@ss:w/o%rd#1 ${HOME}"
ROLE = "app_pw"
COMMANDS = {
    "init_db": ["genonaut.db.init_db"],
    "generator": ["genonaut.db.demo.seed_data_gen", "--scale", "0.001"],
    "exporter": ["genonaut.db.demo.seed_data_gen.export_seed_from_demo"],
    "importer": ["genonaut.db.demo.seed_data_gen.import_seed_to_test"],
}


def _run(command: str, url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    argv = [sys.executable, "-m", *COMMANDS[command], "--database-url", url]
    if command == "exporter":
        argv += ["--output-dir", str(tmp_path / "seed")]
    if command == "importer":
        argv += ["--input-dir", str(REPO / "test" / "db" / "input" / "rdbms_init_from_demo")]
    return subprocess.run(argv, cwd=REPO, capture_output=True, text=True, timeout=120)


def _assert_one_line_error(done: subprocess.CompletedProcess[str], *secrets: str) -> list[str]:
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2, done.stderr
    assert len(lines) == 2, done.stderr
    assert lines[0].startswith("Error: ") and lines[1].startswith("Hint: "), done.stderr
    for secret in secrets:
        assert secret not in done.stdout + done.stderr
    return lines


@pytest.fixture(scope="module")
def password_server() -> Iterator[str]:
    """The admin URL of a server where ROLE logs in with PASSWORD only (scram-sha-256)."""
    with (
        tempfile.TemporaryDirectory(prefix="genonaut-pw-") as scratch,
        EmbeddedServer(Path(scratch) / "data", keep_data=False) as server,
    ):
        admin = server.admin_url
        run_sql(admin, f"CREATE ROLE {ROLE} LOGIN CREATEDB PASSWORD %s", (PASSWORD,))
        ((hba,),) = run_sql(admin, "SHOW hba_file")
        rules = Path(hba).read_text()
        Path(hba).write_text(
            f"local all {ROLE} scram-sha-256\nhost all {ROLE} all scram-sha-256\n" + rules
        )
        run_sql(admin, "SELECT pg_reload_conf()")
        _wait_for_password_check(_role_url(admin, "postgres", "not it"))
        yield admin


def _wait_for_password_check(url: str) -> None:
    # The reload is asynchronous: wait until a wrong password is refused.
    for _ in range(100):
        try:
            psycopg2.connect(to_libpq_dsn(url)).close()
        except psycopg2.OperationalError:
            return
        time.sleep(0.05)
    raise AssertionError("the server kept accepting a wrong password")


def _role_url(admin: str, database: str, password: str) -> str:
    parsed = make_url(admin)
    return URL.create(
        "postgresql",
        username=ROLE,
        password=password,
        host=parsed.host,
        port=parsed.port,
        database=database,
        query=parsed.query,
    ).render_as_string(hide_password=False)


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_wrong_password_says_where_the_password_comes_from(
    command: str, password_server: str, tmp_path: Path
) -> None:
    done = _run(command, _role_url(password_server, "postgres", "wrong-Secret"), tmp_path)
    lines = _assert_one_line_error(done, "wrong-Secret")
    assert "password authentication failed" in lines[0]
    if command in ("init_db", "generator"):
        assert "DB_PASSWORD" in lines[1]


def test_a_password_with_url_characters_reaches_the_server(
    password_server: str, tmp_path: Path
) -> None:
    # config/local-test.json < env/.env.shared, as a checkout holds them.
    socket_dir = make_url(password_server).query["host"]
    (tmp_path / "config").mkdir()
    (tmp_path / "env").mkdir()
    (tmp_path / "config" / "local-test.json").write_text(
        json.dumps({"host": socket_dir, "database": "fnd_special", "user": ROLE})
    )
    (tmp_path / "env" / ".env.shared").write_text(f"DB_PASSWORD_TEST='{PASSWORD}'\n")
    url = database_url("test", root=tmp_path, environ={})
    assert prepare(url) == (True, True)
    with session(url) as db:
        assert db.fetch("SELECT current_user, current_database()") == [(ROLE, "fnd_special")]
    # The same URL on the command line, as make demo hands it to each step.
    done = _run("exporter", url, tmp_path)
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stdout + done.stderr


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_no_server_at_the_address_is_one_line(command: str, tmp_path: Path) -> None:
    url = f"postgresql://postgres:Secret1@/genonaut_demo?host={tmp_path / 'no-server-here'}"
    lines = _assert_one_line_error(_run(command, url, tmp_path), "Secret1")
    assert "start the server" in lines[1]


@pytest.mark.parametrize(
    ("command", "url"),
    [(command, "not a url") for command in sorted(COMMANDS)]
    + [
        ("exporter", "postgresql://app:Secret1@db:54x/demo"),
        ("init_db", "postgresql://app:Secret1@db:54x/demo"),
        ("importer", "oracle://app:Secret1@db/demo"),
    ],
)
def test_a_malformed_url_is_one_line(command: str, url: str, tmp_path: Path) -> None:
    lines = _assert_one_line_error(_run(command, url, tmp_path), "Secret1")
    assert "--database-url" in lines[0]


def test_the_generator_on_a_database_that_is_not_the_apps_is_one_line(
    make_database: Callable[..., str], tmp_path: Path
) -> None:
    url = make_database()
    run_sql(url, "CREATE TABLE alembic_version (version_num text PRIMARY KEY)")
    lines = _assert_one_line_error(_run("generator", url, tmp_path))
    assert "users" in lines[0]
    assert run_sql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(1,)]


def test_init_db_on_a_database_with_other_tables_is_one_line(
    make_database: Callable[..., str], tmp_path: Path
) -> None:
    url = make_database()
    run_sql(url, "CREATE TABLE users (id int)")
    lines = _assert_one_line_error(_run("init_db", url, tmp_path))
    assert "users" in lines[0] and "schema" in lines[0]
    # One transaction: nothing of the app's schema was left behind.
    assert run_sql(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(1,)]


def test_init_db_prepares_a_database_its_role_owns_without_the_maintenance_one(
    password_server: str, tmp_path: Path
) -> None:
    """Managed servers often let a role into its own database only: `postgres` is not asked."""
    run_sql(password_server, "CREATE ROLE own_db_only LOGIN")
    run_sql(password_server, "CREATE DATABASE own_db OWNER own_db_only")
    run_sql(password_server, "REVOKE CONNECT ON DATABASE postgres FROM PUBLIC")
    try:
        url = make_url(password_server).set(username="own_db_only", database="own_db")
        assert prepare(url.render_as_string(hide_password=False)) == (False, True)
        ((tables,),) = run_sql(
            make_url(password_server).set(database="own_db").render_as_string(),
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
        )
        assert tables > 20
    finally:
        run_sql(password_server, "GRANT CONNECT ON DATABASE postgres TO PUBLIC")
