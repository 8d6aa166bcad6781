"""Database URLs per environment: config file < env/.env.shared < DATABASE_URL_*."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genonaut.db.utils import SettingsError, database_url, redact, repo_root, to_libpq_dsn


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "config").mkdir()
    (tmp_path / "env").mkdir()
    (tmp_path / "config" / "local-test.json").write_text(
        json.dumps({"host": "db.example", "port": 6543, "database": "genonaut_test", "user": "app"})
    )
    return tmp_path


def test_config_file_alone(root: Path) -> None:
    assert (
        database_url("test", root=root, environ={})
        == "postgresql://app@db.example:6543/genonaut_test"
    )


def test_password_comes_from_env_shared(root: Path) -> None:
    (root / "env" / ".env.shared").write_text("DB_PASSWORD_TEST=s3cret\n")
    url = database_url("test", root=root, environ={})
    assert url == "postgresql://app:s3cret@db.example:6543/genonaut_test"
    assert "s3cret" not in redact(url)


def test_shared_password_for_both_environments(root: Path) -> None:
    (root / "env" / ".env.shared").write_text("DB_PASSWORD=common\n")
    assert database_url("test", root=root, environ={}).startswith("postgresql://app:common@")


def test_password_is_quoted_in_the_url(root: Path) -> None:
    (root / "env" / ".env.shared").write_text("DB_PASSWORD_TEST='p@ss/word'\n")
    url = database_url("test", root=root, environ={})
    assert "dbname=genonaut_test" in to_libpq_dsn(url)
    assert "password=p@ss/word" in to_libpq_dsn(url)


def test_environment_variable_wins(root: Path) -> None:
    (root / "env" / ".env.shared").write_text("DB_PASSWORD_TEST=s3cret\n")
    environ = {"DATABASE_URL_TEST": "postgresql://other@h/x"}
    assert database_url("test", root=root, environ=environ) == "postgresql://other@h/x"


def test_unknown_environment_is_a_clear_error(root: Path) -> None:
    with pytest.raises(SettingsError) as info:
        database_url("prod", root=root, environ={})
    assert "demo, test" in info.value.hint


def test_missing_config_says_what_to_create(root: Path) -> None:
    with pytest.raises(SettingsError) as info:
        database_url("demo", root=root, environ={})
    assert "local-demo.json" in info.value.message
    assert "DATABASE_URL_DEMO" in info.value.hint


def test_committed_configs_name_the_two_databases() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert database_url("demo", root=repo, environ={}).endswith("/genonaut_demo")
    assert database_url("test", root=repo, environ={}).endswith("/genonaut_test")


def test_invalid_config_names_the_file(root: Path) -> None:
    (root / "config" / "local-test.json").write_text("{not json")
    with pytest.raises(SettingsError) as info:
        database_url("test", root=root, environ={})
    assert "local-test.json" in info.value.message


def test_default_root_is_the_checkout() -> None:
    assert (repo_root() / "pyproject.toml").is_file()
    assert repo_root() == Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("url", "dsn"),
    [
        (
            "postgresql+psycopg2://app:pw@db.example:6543/genonaut_test",
            "host=db.example port=6543 user=app password=pw dbname=genonaut_test",
        ),
        (
            "postgresql://postgres@/postgres?host=/tmp/pg",
            "host=/tmp/pg user=postgres dbname=postgres",
        ),
        ("postgresql://u@h/d?sslmode=require", "host=h user=u dbname=d sslmode=require"),
    ],
)
def test_to_libpq_dsn(url: str, dsn: str) -> None:
    assert to_libpq_dsn(url) == dsn


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://app:s3cret@db/genonaut_demo",
        "postgresql+psycopg2://app:s3cret@db:5432/genonaut_demo?sslmode=require",
        "user=app password=s3cret dbname=genonaut_demo",
    ],
)
def test_redact_hides_the_password(url: str) -> None:
    assert "s3cret" not in redact(url)


def test_redact_keeps_the_rest() -> None:
    assert (
        redact("postgresql://app:s3cret@db/genonaut_demo")
        == "postgresql://app:***@db/genonaut_demo"
    )
    assert redact("postgresql://app@db/genonaut_demo") == "postgresql://app@db/genonaut_demo"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        # As written: no re-encoding, no reordering, only the password replaced.
        (
            "postgresql+psycopg2://app:s3cret@db:5432/demo",
            "postgresql+psycopg2://app:***@db:5432/demo",
        ),
        (
            "postgresql://app:s3%40cr/et@db/demo?sslmode=require",
            "postgresql://app:***@db/demo?sslmode=require",
        ),
        (
            "postgresql://app@db/demo?password=s3cret&sslmode=require",
            "postgresql://app@db/demo?password=***&sslmode=require",
        ),
        ("host=db password='s3 cret' dbname=demo", "host=db password=*** dbname=demo"),
        # An empty password hides nothing.
        (
            "postgresql://postgres:@/postgres?host=/tmp/pg",
            "postgresql://postgres:@/postgres?host=/tmp/pg",
        ),
    ],
)
def test_redact_shows_the_url_as_written(url: str, shown: str) -> None:
    assert redact(url) == shown


def test_a_generated_url_comes_back_through_libpq_unchanged(root: Path) -> None:
    (root / "config" / "local-test.json").write_text(
        json.dumps({"host": "::1", "port": 6543, "database": "gen/onaut test", "user": "a@b"})
    )
    (root / "env" / ".env.shared").write_text("DB_PASSWORD='p@ss:w/o%rd#1 ?'\n")
    url = database_url("test", root=root, environ={})
    assert to_libpq_dsn(url) == (
        "host=::1 port=6543 user=a@b password='p@ss:w/o%rd#1 ?' dbname='gen/onaut test'"
    )
