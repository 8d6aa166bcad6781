"""Genonaut's seed tool: export a foreign-key-closed slice of a database as TSV fixtures, and
load them into another database in one transaction.

    from genonaut.seed import ExportSettings, export_seed, import_seed
    export_seed(ExportSettings("postgresql://localhost/genonaut_demo", Path("seed")))
    import_seed(Path("seed"), "postgresql://localhost/genonaut_test", truncate_first=True)

The URL's scheme picks the engine: postgresql://, mysql:// or mariadb://, sqlite:///path.

Layers, each importing only those below it (`make lint` checks this):
    cli                 shared command-line helpers of the scripts
    commands/           export, import, verify and check on any engine
    engines/<engine>/   everything that speaks to one database engine through its driver
    core/               pure decisions and the fixture files: no driver, no database
    errors              the `SeedError` family

The public names are loaded on first use, so `import genonaut.seed` costs nothing.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from genonaut.seed.commands.export import (
        ExportReport,
        FreshnessReport,
        check_fixtures,
        export_seed,
    )
    from genonaut.seed.commands.load import import_seed
    from genonaut.seed.commands.verify import verify_seed
    from genonaut.seed.core.settings import ExportSettings, VirtualRelation
    from genonaut.seed.engines.postgres.loader import ImportReport, TableResult
    from genonaut.seed.engines.postgres.verify import VerifyReport
    from genonaut.seed.errors import SeedError

_WHERE = {
    "SeedError": "genonaut.seed.errors",
    "ExportSettings": "genonaut.seed.core.settings",
    "VirtualRelation": "genonaut.seed.core.settings",
    "ExportReport": "genonaut.seed.commands.export",
    "FreshnessReport": "genonaut.seed.commands.export",
    "check_fixtures": "genonaut.seed.commands.export",
    "export_seed": "genonaut.seed.commands.export",
    "import_seed": "genonaut.seed.commands.load",
    "verify_seed": "genonaut.seed.commands.verify",
    "ImportReport": "genonaut.seed.engines.postgres.loader",
    "TableResult": "genonaut.seed.engines.postgres.loader",
    "VerifyReport": "genonaut.seed.engines.postgres.verify",
}

__all__ = [
    "ExportReport",
    "ExportSettings",
    "FreshnessReport",
    "ImportReport",
    "SeedError",
    "TableResult",
    "VerifyReport",
    "VirtualRelation",
    "check_fixtures",
    "export_seed",
    "import_seed",
    "verify_seed",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
