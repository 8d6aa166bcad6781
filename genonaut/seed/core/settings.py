"""Export settings: built once from defaults < config file < flags, then resolved on a schema."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from genonaut.seed.core.fixture_format import DEFAULT_OUTPUT_DIR as DEFAULT_OUTPUT_DIR
from genonaut.seed.core.rules import Rules
from genonaut.seed.core.schema_graph import ForeignKey, Schema, TableName
from genonaut.seed.core.sql_fragment import check_condition
from genonaut.seed.errors import ConfigError, UnknownColumn, UnknownTable

DEFAULT_CONFIG = Path("config/seed-export.json")
_CONFIG_KEYS = {
    "default_limit",
    "table_limits",
    "tables",
    "exclude",
    "where",
    "include",
    "virtual_fks",
    "schemas",
}
# The fields of one entry of "include" and of "virtual_fks": a misspelt optional field ("When")
# would otherwise be dropped without a word and change what the seed holds.
_ENTRY_KEYS = {
    "include": ({"table", "where"}, set()),
    "virtual_fks": ({"table", "columns", "references", "referred_columns"}, {"when"}),
}


@dataclass(frozen=True)
class VirtualRelation:
    """A relation the schema does not declare, as written in the config file."""

    table: str
    columns: tuple[str, ...]
    references: str
    referred_columns: tuple[str, ...]
    when: str | None = None


@dataclass(frozen=True)
class ExportSettings:
    """Everything an export needs. Table names are as the user wrote them."""

    database_url: str
    output_dir: Path = DEFAULT_OUTPUT_DIR
    default_limit: int = 100
    table_limits: Mapping[str, int] = field(default_factory=dict)
    tables: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    where: Mapping[str, str] = field(default_factory=dict)
    include: tuple[tuple[str, str], ...] = ()
    virtual_fks: tuple[VirtualRelation, ...] = ()
    schemas: tuple[str, ...] = ()

    def merged(self, **changes: Any) -> ExportSettings:
        return replace(self, **changes)


def load_config(path: Path) -> dict[str, Any]:
    """Read and check a config file; unknown keys and wrong shapes are errors."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid JSON: {exc.msg} (line {exc.lineno})",
            hint="fix the file; docs/cli.md shows its shape",
        ) from exc
    if not isinstance(document, dict):
        raise ConfigError(f"config file {path} must hold a JSON object")
    unknown = sorted(set(document) - _CONFIG_KEYS)
    if unknown:
        raise ConfigError(
            f"config file {path} has unknown key(s): {', '.join(unknown)}",
            hint=f"known keys: {', '.join(sorted(_CONFIG_KEYS))}",
        )
    for key, (required, optional) in _ENTRY_KEYS.items():
        entries = document.get(key)
        for number, entry in enumerate(entries if isinstance(entries, list) else [], start=1):
            if not isinstance(entry, dict):
                raise ConfigError(
                    f"config file {path}: {key} entry {number} must be an object, not "
                    f"{type(entry).__name__}",
                    hint="docs/cli.md shows the shape of every config key",
                )
            unknown = sorted(set(entry) - required - optional)
            missing = sorted(required - set(entry))
            if unknown or missing:
                problems = [f"unknown field(s) {', '.join(unknown)}"] if unknown else []
                problems += [f"missing field(s) {', '.join(missing)}"] if missing else []
                raise ConfigError(
                    f"config file {path}: {key} entry {number} has {' and '.join(problems)}",
                    hint=f"its fields: {', '.join(sorted(required | optional))}",
                )
    return document


def apply_config(
    settings: ExportSettings, document: Mapping[str, Any], source: str
) -> ExportSettings:
    """Settings with a config document's values laid over them."""
    try:
        changes: dict[str, Any] = {}
        if "default_limit" in document:
            changes["default_limit"] = _limit(document["default_limit"], "default_limit")
        if "table_limits" in document:
            changes["table_limits"] = {
                str(k): _limit(v, f"table_limits.{k}") for k, v in document["table_limits"].items()
            }
        for key in ("tables", "exclude", "schemas"):
            if key in document:
                changes[key] = tuple(str(t) for t in _list(document[key], key))
        if "where" in document:
            changes["where"] = {
                str(k): check_condition(v, f"config file {source}: where.{k}")
                for k, v in document["where"].items()
            }
        if "include" in document:
            changes["include"] = tuple(
                (
                    str(item["table"]),
                    check_condition(item["where"], f"config file {source}: include[{i}].where"),
                )
                for i, item in enumerate(_list(document["include"], "include"))
            )
        if "virtual_fks" in document:
            changes["virtual_fks"] = tuple(
                VirtualRelation(
                    table=str(item["table"]),
                    columns=tuple(_list(item["columns"], "virtual_fks.columns")),
                    references=str(item["references"]),
                    referred_columns=tuple(
                        _list(item["referred_columns"], "virtual_fks.referred_columns")
                    ),
                    when=(
                        check_condition(
                            item["when"],
                            f"config file {source}: virtual_fks[{i}].when",
                            hint=RELATION_HINT,
                            plain=True,
                        )
                        if item.get("when")
                        else None
                    ),
                )
                for i, item in enumerate(_list(document["virtual_fks"], "virtual_fks"))
            )
    except (KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(
            f"{source}: an entry is missing a field or has the wrong shape ({exc})",
            hint="docs/cli.md shows the shape of every config key",
        ) from exc
    return replace(settings, **changes)


def _list(value: Any, key: str) -> list[Any]:
    if not isinstance(value, list):
        raise ConfigError(f"{key} must be a list, not {type(value).__name__}")
    return value


def _limit(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ConfigError(
            f"{key} must be a whole number of at least 1, not {value!r}",
            hint="to leave a table out, use exclude instead of a zero limit",
        )
    return value


# A relation's condition travels in manifest.json, where verify reads it as untrusted data.
RELATION_HINT = (
    "a relation's when compares the child row's columns with values (\"kind = 'post'\"): "
    "no function calls, subqueries, ';' or comments, since manifest.json carries it to verify"
)
# Flags whose value is a SQL condition, checked as one expression as soon as it is read.
_CONDITION_FLAGS = ("--where", "--include")
_ASSIGNMENT_EXAMPLES = {
    "--table-limit": "users=50",
    "--where": "'users=is_active'",
    "--include": "'users=id = 42'",
}


def parse_assignment(text: str, flag: str) -> tuple[str, str]:
    """`T=VALUE` from a flag such as --table-limit or --where (whose VALUE must be one SQL
    expression: see `sql_fragment.check_condition`)."""
    name, sep, value = text.partition("=")
    if not sep or not name.strip() or not value.strip():
        example = _ASSIGNMENT_EXAMPLES.get(flag, "users=...")
        raise ConfigError(
            f"{flag} takes TABLE=VALUE, not {text!r}",
            hint=f"name the table and its value in one word, for example {flag} {example}",
        )
    if flag in _CONDITION_FLAGS:
        check_condition(value.strip(), f"{flag} {name.strip()}")
    return name.strip(), value.strip()


def virtual_relations(schema: Schema, settings: ExportSettings) -> list[ForeignKey]:
    """The config's virtual relations as `ForeignKey`s, checked against the schema."""
    found = []
    for number, rel in enumerate(settings.virtual_fks, start=1):
        if rel.when is not None:
            check_condition(
                rel.when,
                f"virtual relation {number} ({rel.table}): when",
                hint=RELATION_HINT,
                plain=True,
            )
        try:
            table = schema.table(schema.resolve(rel.table))
            target = schema.table(schema.resolve(rel.references))
            for column in rel.columns:
                table.column(column)
            for column in rel.referred_columns:
                target.column(column)
        except (UnknownTable, UnknownColumn) as exc:
            raise type(exc)(
                f"virtual relation {number} ({rel.table} -> {rel.references}): {exc.message}",
                hint="fix virtual_fks in the config file, or export with --no-config when "
                "the config is for another database",
            ) from exc
        if len(rel.columns) != len(rel.referred_columns) or not rel.columns:
            raise ConfigError(
                f"virtual relation {number} ({rel.table} -> {rel.references}) pairs "
                f"{len(rel.columns)} column(s) with {len(rel.referred_columns)}",
                hint="columns and referred_columns must have the same length",
            )
        if rel.referred_columns not in _unique_keys(schema, target.name):
            raise ConfigError(
                f"virtual relation {number}: {rel.references}({', '.join(rel.referred_columns)}) "
                "is not a primary or unique key",
                hint="a relation must point at columns that identify one row",
            )
        found.append(
            ForeignKey(
                name=f"virtual:{table.name.display}->{target.name.display}#{number}",
                table=table.name,
                columns=rel.columns,
                referred_table=target.name,
                referred_columns=rel.referred_columns,
                is_virtual=True,
                condition=rel.when,
            )
        )
    return found


def _unique_keys(schema: Schema, name: TableName) -> set[tuple[str, ...]]:
    tables = [schema.table(name)] + [schema.table(leaf) for leaf in schema.leaves(name)]
    keys = {t.primary_key for t in tables if t.primary_key}
    keys.update(k for t in tables for k in t.unique_keys)
    return keys


def resolve_tables(schema: Schema, settings: ExportSettings) -> tuple[TableName, ...]:
    """The data tables to export: the chosen ones and every table they reference."""
    data = set(schema.data_tables)
    if settings.schemas:
        missing = sorted(set(settings.schemas) - {t.name.schema for t in schema.tables})
        if missing:
            raise ConfigError(f"no schema named {', '.join(missing)} holds tables")
        data = {t for t in data if t.schema in settings.schemas}
    if settings.tables:
        data = {leaf for text in settings.tables for leaf in schema.leaves(schema.resolve(text))}
    excluded = {leaf for text in settings.exclude for leaf in schema.leaves(schema.resolve(text))}
    chosen = data - excluded
    # Close over references: a seed whose rows point at a table left behind would dangle.
    frontier = set(chosen)
    while frontier:
        nxt = {p for leaf in frontier for p in schema.parent_leaves(leaf)} - chosen
        blocked = sorted(nxt & excluded)
        if blocked:
            users = sorted(
                leaf for leaf in chosen if set(schema.parent_leaves(leaf)) & set(blocked)
            )
            raise ConfigError(
                f"{', '.join(map(str, blocked))} is excluded, but "
                f"{', '.join(map(str, users))} reference(s) it",
                hint="exclude those tables too, or do not exclude " + ", ".join(map(str, blocked)),
            )
        chosen |= nxt
        frontier = nxt
    return tuple(sorted(chosen))


def rules_for(schema: Schema, settings: ExportSettings) -> Rules:
    """Resolve every table name the user wrote; unknown names are errors."""
    tables = resolve_tables(schema, settings)
    limits: dict[TableName, int] = {}
    for text, limit in settings.table_limits.items():
        for leaf in schema.leaves(schema.resolve(text)):
            limits[leaf] = _limit(limit, f"limit of {text}")
    where: dict[TableName, str] = {}
    for text, condition in settings.where.items():
        check_condition(condition, f"where condition of {text}")
        for leaf in schema.leaves(schema.resolve(text)):
            where[leaf] = condition
    include = tuple(
        (schema.resolve(t), check_condition(c, f"include condition of {t}"))
        for t, c in settings.include
    )
    return Rules(
        tables=tables,
        default_limit=_limit(settings.default_limit, "default limit"),
        limits=limits,
        where={k: v for k, v in where.items() if k in tables},
        include=include,
    )
