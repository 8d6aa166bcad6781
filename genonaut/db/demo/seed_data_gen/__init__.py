"""Genonaut's seed tooling: export a foreign-key-closed slice of the demo database as TSV
fixtures, and load them into the test database.

    from genonaut.db.demo.seed_data_gen import ExportSettings, export_seed
    report = export_seed(ExportSettings("postgresql://localhost/genonaut_demo"))
"""

from .errors import SeedError
from .exporter import ExportReport, FreshnessReport, check_fixtures, export_seed
from .settings import ExportSettings, VirtualRelation

__all__ = [
    "ExportReport",
    "ExportSettings",
    "FreshnessReport",
    "SeedError",
    "VirtualRelation",
    "check_fixtures",
    "export_seed",
]
