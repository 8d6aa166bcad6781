"""Database URLs per environment: config file < env/.env.shared < DATABASE_URL_*."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genonaut.db.demo.seed_data_gen.errors import ConfigError
from genonaut.db.utils import database_url, redact


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


def test_environment_variable_wins(root: Path) -> None:
    (root / "env" / ".env.shared").write_text("DB_PASSWORD_TEST=s3cret\n")
    environ = {"DATABASE_URL_TEST": "postgresql://other@h/x"}
    assert database_url("test", root=root, environ=environ) == "postgresql://other@h/x"


def test_unknown_environment_is_a_clear_error(root: Path) -> None:
    with pytest.raises(ConfigError) as info:
        database_url("prod", root=root, environ={})
    assert "demo, test" in info.value.hint


def test_missing_config_says_what_to_create(root: Path) -> None:
    with pytest.raises(ConfigError) as info:
        database_url("demo", root=root, environ={})
    assert "local-demo.json" in info.value.message
    assert "DATABASE_URL_DEMO" in info.value.hint


def test_committed_configs_name_the_two_databases() -> None:
    repo = Path(__file__).resolve().parents[2]
    assert database_url("demo", root=repo, environ={}).endswith("/genonaut_demo")
    assert database_url("test", root=repo, environ={}).endswith("/genonaut_test")
