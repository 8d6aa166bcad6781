"""Export settings: config file shape, flags over config, name resolution."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genonaut.db.demo.seed_data_gen.export_seed_from_demo import build_settings, parse_args
from genonaut.seed.core.schema_graph import Column, ForeignKey, Schema, Table, TableName
from genonaut.seed.core.settings import (
    ExportSettings,
    apply_config,
    load_config,
    resolve_tables,
    rules_for,
    virtual_relations,
)
from genonaut.seed.errors import ConfigError, UnknownColumn, UnknownTable

T = TableName.parse


def _schema() -> Schema:
    def cols(*names: str) -> tuple[Column, ...]:
        return tuple(Column(n, "integer") for n in names)

    return Schema(
        tables=(
            Table(T("users"), cols("id"), ("id",)),
            Table(T("posts"), cols("id", "user_id"), ("id",)),
            Table(T("tags"), cols("post_id", "kind"), ()),
            Table(T("audit_log"), cols("id", "user_id"), ("id",)),
        ),
        foreign_keys=(
            ForeignKey("p_u", T("posts"), ("user_id",), T("users"), ("id",)),
            ForeignKey("a_u", T("audit_log"), ("user_id",), T("users"), ("id",)),
        ),
    )


def _write(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "seed-export.json"
    path.write_text(json.dumps(document))
    return path


def test_config_values_are_read(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {
            "default_limit": 7,
            "table_limits": {"posts": 3},
            "exclude": ["audit_log"],
            "where": {"users": "id > 1"},
            "include": [{"table": "users", "where": "id = 5"}],
            "virtual_fks": [
                {
                    "table": "tags",
                    "columns": ["post_id"],
                    "references": "posts",
                    "referred_columns": ["id"],
                    "when": "kind = 'post'",
                }
            ],
        },
    )
    settings = apply_config(ExportSettings("postgresql:///x"), load_config(path), str(path))
    assert settings.default_limit == 7
    assert settings.table_limits == {"posts": 3}
    assert settings.include == (("users", "id = 5"),)
    rules = rules_for(_schema(), settings)
    assert T("audit_log") not in rules.tables
    assert rules.limit(T("posts")) == 3
    assert rules.limit(T("users")) == 7
    (fk,) = virtual_relations(_schema(), settings)
    assert fk.is_virtual and fk.condition == "kind = 'post'"


def test_unknown_config_key_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="default_limt"):
        load_config(_write(tmp_path, {"default_limt": 5}))


def test_invalid_json_gives_the_line(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{\n "default_limit": ,\n}')
    with pytest.raises(ConfigError, match="line 2"):
        load_config(path)


@pytest.mark.parametrize("limit", [0, -3, "ten", True])
def test_limits_must_be_positive_whole_numbers(tmp_path: Path, limit: object) -> None:
    with pytest.raises(ConfigError):
        apply_config(ExportSettings("x"), {"default_limit": limit}, "c.json")


def test_unknown_table_in_flags_is_an_error() -> None:
    with pytest.raises(UnknownTable, match="userz"):
        rules_for(_schema(), ExportSettings("x", exclude=("userz",)))


def test_virtual_relation_with_unknown_column_is_an_error() -> None:
    settings = apply_config(
        ExportSettings("x"),
        {
            "virtual_fks": [
                {
                    "table": "tags",
                    "columns": ["pst_id"],
                    "references": "posts",
                    "referred_columns": ["id"],
                }
            ]
        },
        "c.json",
    )
    with pytest.raises(UnknownColumn, match="pst_id"):
        virtual_relations(_schema(), settings)


def test_excluding_a_referenced_table_is_refused_with_a_way_out() -> None:
    with pytest.raises(ConfigError) as info:
        resolve_tables(_schema(), ExportSettings("x", exclude=("users",)))
    assert "audit_log" in info.value.message and "posts" in info.value.message
    assert "exclude those tables too" in info.value.hint


def test_tables_flag_brings_referenced_tables_along() -> None:
    assert resolve_tables(_schema(), ExportSettings("x", tables=("posts",))) == (
        T("posts"),
        T("users"),
    )


def test_flags_override_the_config_file(tmp_path: Path) -> None:
    path = _write(tmp_path, {"default_limit": 7, "where": {"users": "id > 1"}})
    args = parse_args(
        [
            "--database-url",
            "postgresql:///x",
            "--config",
            str(path),
            "--default-limit",
            "9",
            "--where",
            "users=id > 2",
            "--table-limit",
            "posts=4",
        ]
    )
    settings = build_settings(args)
    assert settings.default_limit == 9
    assert settings.where == {"users": "id > 2"}
    assert settings.table_limits == {"posts": 4}


def test_assignment_flags_need_a_table_and_a_value() -> None:
    args = parse_args(["--database-url", "postgresql:///x", "--no-config", "--where", "users"])
    with pytest.raises(ConfigError, match="TABLE=VALUE"):
        build_settings(args)
