"""SQL conditions from flags, the config file and manifest.json: one expression or refused."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from genonaut.seed.core.fixture_format import Manifest
from genonaut.seed.core.settings import ExportSettings, apply_config, parse_assignment
from genonaut.seed.core.sql_fragment import check_condition
from genonaut.seed.errors import ConfigError, FixtureError

ACCEPTED = [
    "kind = 'image'",
    "content_source = 'regular'",
    "id IN (SELECT user_id FROM admins WHERE active)",
    "name = 'it''s; -- not a comment'",
    "name = E'a\\'b; c'",
    "note = $$ ; DROP TABLE x; -- $$",
    "note = $tag$ ) ; $tag$",
    '"weird;name" > 3',
    '"a""b" IS NOT NULL',
    "a IS DISTINCT FROM b",
    "extract(year FROM created_at) = 2024",
    "tags[1] = 'x' AND (a OR b)",
    "price BETWEEN 1.5e3 AND .5",
    "U&'d\\0061t' = name",
    "x::text LIKE 'a\\%'",
    "payload->>'k' = 'v'",
    "CASE WHEN a THEN b ELSE c END",
    "a$b = 1",
    # One E'' string: its backslash escapes the quote, so the ';' is inside it.
    "a = E'\\' ; DROP TABLE t; --'",
]

REFUSED = [
    "actor=true) LIMIT 0; COMMIT; DROP TABLE film CASCADE; --",
    "true)); COMMIT; CREATE TABLE public.pwned AS SELECT 1; COMMIT; --",
    "true; DROP TABLE film",
    "true -- hide the rest",
    "true /* a comment */",
    "true) UNION SELECT (1",
    "(true",
    "true)",
    "a = 'unterminated",
    'a = "unterminated',
    "a = $$ never closed",
    "a = $x$ never closed $y$",
    # standard_conforming_strings: '\' is a whole string, and the ';' after it is outside.
    "a = '\\' ; DROP TABLE t; --'",
    "a = $1",
    "a = $",
    "true LIMIT 0",
    "true UNION SELECT 1",
    "true ORDER BY 1",
    "true GROUP BY 1",
    "true FOR UPDATE",
    "true INTO t",
    "a = 1 RETURNING *",
    "",
    "   ",
    "a = 1\0",
    "a[1) = 2",
    "a = '' ; ''",
    'a = "" ',
    "a = 1 \\",
]


@pytest.mark.parametrize("text", ACCEPTED)
def test_one_expression_passes_unchanged(text: str) -> None:
    assert check_condition(text, "--where users") == text


@pytest.mark.parametrize("text", REFUSED)
def test_anything_more_is_refused_naming_its_source(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        check_condition(text, "--where film")
    assert caught.value.message.startswith("--where film: condition ")
    assert "refused" in caught.value.message
    assert caught.value.hint


def test_a_condition_that_is_not_text_is_refused() -> None:
    with pytest.raises(ConfigError, match="must be text"):
        check_condition(["a"], "config file c.json: where.users")


def test_where_and_include_flags_are_checked_as_read() -> None:
    assert parse_assignment("users=id < 5", "--where") == ("users", "id < 5")
    with pytest.raises(ConfigError, match=r"^--where film: condition"):
        parse_assignment("film=actor=true) LIMIT 0; COMMIT; DROP TABLE film CASCADE; --", "--where")
    with pytest.raises(ConfigError, match=r"^--include film: condition"):
        parse_assignment("film=true; SELECT 1", "--include")
    # A limit is no condition: its value is not read as SQL.
    assert parse_assignment("users=5", "--table-limit") == ("users", "5")


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"where": {"film": "true; DROP TABLE film"}}, "where.film"),
        ({"include": [{"table": "film", "where": "1=1 --"}]}, "include[0].where"),
        (
            {
                "virtual_fks": [
                    {
                        "table": "a",
                        "columns": ["x"],
                        "references": "b",
                        "referred_columns": ["id"],
                        "when": "true)); COMMIT; --",
                    }
                ]
            },
            "virtual_fks[0].when",
        ),
    ],
)
def test_config_conditions_are_checked_naming_file_and_key(
    document: dict[str, object], key: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        apply_config(ExportSettings("postgresql://x/y"), document, "config/seed-export.json")
    assert caught.value.message.startswith(f"config file config/seed-export.json: {key}: ")


def _manifest(when: object) -> str:
    return json.dumps(
        {
            "format": "genonaut-seed/1",
            "schema_fingerprint": "sha256:x",
            "tables": [],
            "relations": [
                {
                    "name": "likes_book",
                    "table": "public.likes",
                    "columns": ["target_id"],
                    "references": "public.books",
                    "referred_columns": ["id"],
                    "virtual": True,
                    "when": when,
                }
            ],
        }
    )


def test_a_manifest_condition_that_escapes_is_damage_naming_manifest() -> None:
    hostile = "true)); COMMIT; CREATE TABLE public.pwned AS SELECT 1; COMMIT; --"
    with pytest.raises(FixtureError) as caught:
        Manifest.from_json(_manifest(hostile), "seed/manifest.json")
    assert caught.value.message.startswith("seed/manifest.json: relation 'likes_book': when: ")


def test_a_manifest_condition_of_one_expression_is_kept() -> None:
    manifest = Manifest.from_json(_manifest("target_kind = 'book'"), "seed/manifest.json")
    assert manifest.relations[0].condition == "target_kind = 'book'"


def test_a_deeply_nested_manifest_is_damage_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(FixtureError, match="nests too deep"):
        Manifest.from_json("[" * 100_000 + "]" * 100_000, "seed/manifest.json")


PLAIN_ACCEPTED = [
    "kind = 'post'",
    "content_source = 'regular'",
    "kind IN ('a', 'b') AND NOT (deleted IS TRUE)",
    "a IS DISTINCT FROM b",
    "code::varchar(4) = 'ab'",
    "CAST(n AS numeric(10, 2)) > 1",
    "coalesce(kind, 'x') = 'x'",
    "ROW(a, b) = ROW(1, 2)",
]
PLAIN_REFUSED = [
    "pg_sleep(120) IS NOT NULL",
    "(pg_read_file('/etc/passwd'))::int = 1",
    "pg_catalog.\"pg_read_file\"('x') IS NULL",
    "id IN (SELECT id FROM secrets)",
    "EXISTS (SELECT 1)",
    "lower(kind) = 'post'",
]


@pytest.mark.parametrize("text", PLAIN_ACCEPTED)
def test_a_relation_condition_compares_columns_with_values(text: str) -> None:
    assert check_condition(text, "manifest.json", plain=True) == text


@pytest.mark.parametrize("text", PLAIN_REFUSED)
def test_a_relation_condition_calls_no_function_and_holds_no_subquery(text: str) -> None:
    with pytest.raises(ConfigError, match=r"no (calls|subqueries) here"):
        check_condition(text, "manifest.json", plain=True)
    # The same text is one expression: as a --where it passes.
    assert check_condition(text, "--where") == text
