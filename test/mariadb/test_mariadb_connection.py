"""Connecting to MariaDB: URLs, errors with hints and no password, settings, the snapshot."""

from __future__ import annotations

import pymysql
import pytest
from mariadb_helpers import run

from genonaut.seed.engines.mariadb.connection import parse_url, redact, session
from genonaut.seed.errors import ConnectionFailed


@pytest.mark.parametrize(
    "url",
    [
        "mysql://u:pw@h:3307/d",
        "mariadb://u:pw@h:3307/d",
        "mysql+pymysql://u:pw@h:3307/d",
        "mariadb+pymysql://u:pw@h:3307/d",
    ],
)
def test_every_scheme_gives_the_same_parameters(url: str) -> None:
    params = parse_url(url)
    assert (params.host, params.port, params.user, params.password, params.database) == (
        "h",
        3307,
        "u",
        "pw",
        "d",
    )


def test_a_socket_and_encoded_password_are_read() -> None:
    params = parse_url("mysql://app:p%40ss@localhost/shop?unix_socket=/run/mysqld/mysqld.sock")
    assert (params.password, params.unix_socket) == ("p@ss", "/run/mysqld/mysqld.sock")
    assert redact("mysql://app:p%40ss@localhost/shop") == "mysql://app:***@localhost/shop"


def test_another_scheme_or_option_is_refused() -> None:
    with pytest.raises(ConnectionFailed, match="not a MariaDB URL"):
        parse_url("postgresql://u@h/d")
    with pytest.raises(ConnectionFailed, match="unknown URL option ssl"):
        parse_url("mysql://u@h/d?ssl=1")


def test_a_server_that_is_down_says_so() -> None:
    with (
        pytest.raises(ConnectionFailed) as caught,
        session("mysql://root:topsecret@127.0.0.1:1/x"),
    ):
        pass
    assert "start the MariaDB server" in caught.value.hint
    assert "topsecret" not in caught.value.message


def test_an_unknown_database_and_a_wrong_password_have_their_hints(mariadb_server: str) -> None:
    base = parse_url(mariadb_server)
    with (
        pytest.raises(ConnectionFailed) as unknown,
        session(f"mysql://{base.user}@{base.host}:{base.port}/no_such_db_for_seed"),
    ):
        pass
    assert "CREATE DATABASE" in unknown.value.hint
    with (
        pytest.raises(ConnectionFailed) as denied,
        session(f"mysql://no_such_user:topsecret@{base.host}:{base.port}/"),
    ):
        pass
    assert "password" in denied.value.hint
    assert "topsecret" not in str(denied.value) and "topsecret" not in denied.value.hint


def test_the_session_settings_hold(mariadb_url: str) -> None:
    with session(mariadb_url) as db:
        zone, mode, names = db.fetch(
            "SELECT @@SESSION.time_zone, @@SESSION.sql_mode, @@SESSION.character_set_results"
        )[0]
    assert zone == "+00:00"
    assert "STRICT_ALL_TABLES" in mode and "NO_AUTO_VALUE_ON_ZERO" in mode
    assert names == "utf8mb4"


def test_an_export_sees_one_snapshot_and_cannot_write(mariadb_url: str) -> None:
    run(mariadb_url, "CREATE TABLE t (id INT PRIMARY KEY)", "INSERT INTO t VALUES (1)")
    statements: list[str] = []
    with session(mariadb_url, read_only=True, tracer=statements.append) as db:
        assert db.fetch("SELECT COUNT(*) FROM t") == [("1",)]
        run(mariadb_url, "INSERT INTO t VALUES (2)")
        assert db.fetch("SELECT COUNT(*) FROM t") == [("1",)]
        with pytest.raises(pymysql.err.MySQLError, match="READ ONLY"):
            db.execute("INSERT INTO t VALUES (3)")
    assert "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ ONLY" in statements
    assert run(mariadb_url, "SELECT COUNT(*) FROM t") == [(2,)]
