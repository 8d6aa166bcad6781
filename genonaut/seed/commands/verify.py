"""Check a database against a fixture directory, on any engine."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from genonaut.seed.commands.load import check_engine
from genonaut.seed.core.engine import Tracer, VerifyResult
from genonaut.seed.engines import engine_for


def verify_seed(
    input_dir: Path,
    database_url: str,
    *,
    tables: Sequence[str] = (),
    tracer: Tracer | None = None,
    condition_timeout: float | None = None,
) -> VerifyResult:
    """Check that the target holds every fixture row of `input_dir` unchanged, and that no
    relation (declared or virtual) of the fixture's tables points at a missing row.

    Example: `verify_seed(Path("seed"), "sqlite:///test.db").ok`. `condition_timeout` bounds
    each relation's condition, in seconds (PostgreSQL: 30 by default).
    """
    engine = engine_for(database_url)
    check_engine(engine, input_dir)
    return engine.verify(
        input_dir, database_url, tables=tables, tracer=tracer, condition_timeout=condition_timeout
    )
