"""Genonaut's seed tooling: export a foreign-key-closed slice of the demo database as TSV
fixtures, and load them into the test database.

    from genonaut.db.demo.seed_data_gen import ExportSettings, export_seed, import_seed
    export_seed(ExportSettings("postgresql://localhost/genonaut_demo", Path("seed")))
    import_seed(Path("seed"), "postgresql://localhost/genonaut_test", truncate_first=True)
"""

from .errors import SeedError
from .exporter import ExportReport, FreshnessReport, check_fixtures, export_seed
from .loader import ImportReport, TableResult, import_seed
from .settings import ExportSettings, VirtualRelation
from .verify import VerifyReport, verify_seed

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
