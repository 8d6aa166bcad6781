"""The app's seed scripts and demo-data generator. The seed tool itself is `genonaut.seed`;
its public names are available here too, loaded on first use.

    from genonaut.db.demo.seed_data_gen import ExportSettings, export_seed, import_seed
"""

from __future__ import annotations

from typing import Any

import genonaut.seed as _seed

__all__ = _seed.__all__


def __getattr__(name: str) -> Any:
    return getattr(_seed, name)
