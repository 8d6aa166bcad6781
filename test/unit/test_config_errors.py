"""Config mistakes are clear errors: connection files, passwords, URLs, the export config."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genonaut.db.demo.seed_data_gen.export_seed_from_demo import build_settings, parse_args
from genonaut.db.utils import SettingsError, checked_url, database_url, to_libpq_dsn
from genonaut.seed.core.settings import load_config
from genonaut.seed.errors import ConfigError


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "env").mkdir()
    return tmp_path


def _config(root: Path, document: object) -> None:
    (root / "config" / "local-test.json").write_text(json.dumps(document))


def test_a_misspelt_key_in_the_connection_file_is_named(root: Path) -> None:
    # "dbname" for "database" used to connect silently to genonaut_test instead.
    _config(root, {"host": "db", "port": 5432, "dbname": "mine", "user": "app"})
    with pytest.raises(SettingsError) as info:
        database_url("test", root=root, environ={})
    assert "dbname" in info.value.message and "local-test.json" in info.value.message
    assert "database" in info.value.hint


@pytest.mark.parametrize("port", ["54x", -1, 70000, True, 5432.5])
def test_a_port_that_is_not_a_port_is_a_config_error(root: Path, port: object) -> None:
    _config(root, {"host": "db", "port": port, "user": "app"})
    with pytest.raises(SettingsError) as info:
        database_url("test", root=root, environ={})
    assert "port" in info.value.message


def test_a_port_written_as_a_string_of_digits_is_accepted(root: Path) -> None:
    _config(root, {"host": "db", "port": "6543", "user": "app"})
    assert database_url("test", root=root, environ={}) == "postgresql://app@db:6543/genonaut_test"


def test_a_socket_directory_as_host_goes_in_the_query(root: Path) -> None:
    _config(root, {"host": "/var/run/postgresql", "database": "mine", "user": "app"})
    dsn = to_libpq_dsn(database_url("test", root=root, environ={}))
    assert dsn == "host=/var/run/postgresql user=app dbname=mine"


def test_a_host_that_is_not_a_string_is_a_config_error(root: Path) -> None:
    _config(root, {"host": ["db"], "user": "app"})
    with pytest.raises(SettingsError) as info:
        database_url("test", root=root, environ={})
    assert "host" in info.value.message


@pytest.mark.parametrize(
    ("written", "password"),
    [
        ("'pa${HOME}ss'", "pa${HOME}ss"),
        ("pa${HOME}ss", "pa${HOME}ss"),
        ('"p@ss:w/o%rd#1"', "p@ss:w/o%rd#1"),
        ("p@ss:w/o%rd#1", "p@ss:w/o%rd#1"),
    ],
)
def test_the_password_in_env_shared_is_taken_as_written(
    root: Path, written: str, password: str
) -> None:
    _config(root, {"host": "db", "user": "app"})
    (root / "env" / ".env.shared").write_text(f"DB_PASSWORD={written}\n")
    dsn = to_libpq_dsn(database_url("test", root=root, environ={}))
    assert f"password={password}" in dsn or f"password='{password}'" in dsn


@pytest.mark.parametrize(
    "url", ["postgresql://app:s3cret@db:54x/demo", "not a url", "mysql://app:s3cret@db/demo"]
)
def test_a_malformed_database_url_variable_is_named_without_its_value(url: str) -> None:
    with pytest.raises(SettingsError) as info:
        database_url("demo", environ={"DATABASE_URL_DEMO": url})
    assert "DATABASE_URL_DEMO" in info.value.message
    assert "s3cret" not in info.value.message + info.value.hint


def test_a_malformed_database_url_flag_is_a_config_error() -> None:
    with pytest.raises(ConfigError) as info:
        build_settings(parse_args(["--database-url", "postgresql://a:s3cret@h:x/d"]))
    assert "--database-url" in info.value.message and "s3cret" not in info.value.message


def test_postgres_urls_of_every_spelling_pass() -> None:
    for url in ("postgresql://a@h/d", "postgresql+psycopg2://a@h/d", "postgres://a@h/d"):
        assert checked_url(url, "x") == url


def _export_config(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "seed-export.json"
    path.write_text(json.dumps(document))
    return path


def test_a_misspelt_field_of_a_virtual_relation_is_named(tmp_path: Path) -> None:
    # Dropping "When" would turn a polymorphic relation into one that holds for every row.
    relation = {
        "table": "content_tags",
        "columns": ["content_id"],
        "references": "content_items",
        "referred_columns": ["id"],
        "When": "content_source = 'regular'",
    }
    with pytest.raises(ConfigError) as info:
        load_config(_export_config(tmp_path, {"virtual_fks": [relation]}))
    assert "When" in info.value.message and "virtual_fks entry 1" in info.value.message
    assert "when" in info.value.hint


def test_an_include_entry_without_its_condition_is_named(tmp_path: Path) -> None:
    path = _export_config(tmp_path, {"include": [{"table": "users", "condition": "x"}]})
    with pytest.raises(ConfigError) as info:
        load_config(path)
    assert "condition" in info.value.message and "where" in info.value.message


def test_an_entry_that_is_not_an_object_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_export_config(tmp_path, {"include": ["users"]}))
    assert "include entry 1" in info.value.message


def test_the_committed_export_config_passes_the_checks() -> None:
    committed = Path(__file__).resolve().parents[2] / "config" / "seed-export.json"
    assert load_config(committed)["virtual_fks"]


def test_table_lists_given_twice_add_up() -> None:
    target = ["--database-url", "postgresql://x@db/demo", "--no-config"]
    tables = ["--tables", "users", "--tables", "tags", "content_items"]
    exclude = ["--exclude", "route_analytics", "--exclude", "generation_events"]
    args = parse_args([*target, *tables, *exclude])
    settings = build_settings(args)
    assert settings.tables == ("users", "tags", "content_items")
    assert settings.exclude == ("route_analytics", "generation_events")


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app@[::1]:5432/demo",
        "postgresql://app@h1:5432,h2:5433/demo",
        "postgresql://app:p%40ss@/demo?host=/var/run/postgresql",
        "postgresql:///demo",
    ],
)
def test_urls_libpq_accepts_pass(url: str) -> None:
    assert checked_url(url, "x") == url


@pytest.mark.parametrize(
    "url",
    ["postgresql://app@db:/demo", "postgresql://app@h1:5432,h2:x/demo", "postgresql://db:0/d"],
)
def test_a_port_that_is_not_a_number_is_not_a_url(url: str) -> None:
    with pytest.raises(SettingsError, match="is not a database URL"):
        checked_url(url, "x")
