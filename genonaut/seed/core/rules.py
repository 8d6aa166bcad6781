"""What the user asked an export for, resolved against the schema: the tables, a row limit per
table, filters and includes."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .schema_graph import TableName


@dataclass(frozen=True)
class Rules:
    """What the user asked for, resolved against the schema."""

    tables: tuple[TableName, ...]
    default_limit: int = 100
    limits: Mapping[TableName, int] = field(default_factory=dict)
    where: Mapping[TableName, str] = field(default_factory=dict)
    include: tuple[tuple[TableName, str], ...] = ()

    def limit(self, table: TableName) -> int:
        return self.limits.get(table, self.default_limit)
