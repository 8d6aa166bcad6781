"""What each command loads before it does any work: no SQLAlchemy on the export or import path,
and no driver for --help. (How long that takes is measured by `make bench`, not here.)"""

from __future__ import annotations

import subprocess
import sys

import pytest

SCRIPTS = "genonaut.db.demo.seed_data_gen"
# Prints the top-level packages of those loaded, after running the given statements.
PROBE = "import sys\n{}\nprint(' '.join(sorted({{m.split('.')[0] for m in sys.modules}})))"


def _loaded(*statements: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format("\n".join(statements))],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(done.stdout.split())


@pytest.mark.parametrize(
    "module",
    [
        f"{SCRIPTS}.export_seed_from_demo",
        f"{SCRIPTS}.import_seed_to_test",
        "genonaut.seed.commands.export",
        "genonaut.seed.commands.load",
        "genonaut.seed.commands.verify",
        "genonaut.seed.engines.postgres.adapter",
        "genonaut.seed.engines.sqlite.adapter",
        "genonaut.seed.engines.postgres.loader",
        "genonaut.seed.engines.postgres.verify",
        "genonaut.db.utils",
    ],
)
def test_the_export_and_import_path_loads_no_sqlalchemy(module: str) -> None:
    loaded = _loaded(f"import {module}")
    assert "genonaut" in loaded
    assert "sqlalchemy" not in loaded


@pytest.mark.parametrize("script", ["export_seed_from_demo", "import_seed_to_test"])
def test_help_loads_no_driver(script: str) -> None:
    run_help = (
        f"import contextlib, io, {SCRIPTS}.{script} as s\n"
        "with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):\n"
        "    s.main(['--help'])"
    )
    loaded = _loaded(run_help)
    assert "argparse" in loaded
    assert not loaded & {"psycopg2", "sqlalchemy", "dotenv"}


def test_the_package_loads_its_public_names_on_first_use() -> None:
    assert "psycopg2" not in _loaded("import genonaut.seed, genonaut.db.demo.seed_data_gen")
    # The commands pick an engine by the URL's scheme and import its driver only then.
    assert "psycopg2" not in _loaded("from genonaut.seed import export_seed")


@pytest.mark.parametrize(
    ("url", "driver", "others"),
    [
        ("postgresql://localhost/demo", "psycopg2", {"pymysql"}),
        ("mysql+pymysql://root@localhost/demo", "pymysql", {"psycopg2"}),
        ("sqlite:///demo.db", "sqlite3", {"psycopg2", "pymysql"}),
    ],
)
def test_an_engine_loads_its_own_driver_alone(url: str, driver: str, others: set[str]) -> None:
    loaded = _loaded(f"from genonaut.seed.engines import engine_for\nengine_for({url!r})")
    assert driver in loaded
    assert not loaded & others


def test_the_import_path_loads_none_of_the_exports_modules() -> None:
    """The selection's row questions, the export settings and the modules that replace an
    output directory are the export's alone: an import starts without them."""
    probe = (
        "import sys\n"
        f"import {SCRIPTS}.import_seed_to_test, genonaut.seed.commands.load\n"
        "import genonaut.seed.engines.postgres.adapter, genonaut.seed.engines.postgres.loader\n"
        "print(' '.join(sorted(sys.modules)))"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert "genonaut.seed.engines.postgres.loader" in loaded
    export_only = {
        "genonaut.seed.core.row_source",
        "genonaut.seed.core.selection",
        "genonaut.seed.core.settings",
        "genonaut.seed.engines.postgres.row_source",
        "genonaut.seed.engines.postgres.row_queries",
        "hashlib",
        "ctypes",
        "shutil",
        "tempfile",
    }
    assert not loaded & export_only
