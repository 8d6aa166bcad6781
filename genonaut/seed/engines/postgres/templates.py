"""Template databases on a PostgreSQL server: build once under a lock, copy per test, clean up.

Every database made here carries the name prefix `gnseed_` and a `COMMENT ON DATABASE` holding
a small JSON record (`made_by`, `kind`, host, pid, ...); housekeeping drops nothing else.

    server = TemplateServer("postgresql://postgres@localhost/postgres")
    template = server.ensure_template(key, family, build=lambda url: ...)
    url = server.copy(template.name, kind="copy")
    server.drop(name_of(url))
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.errors
import psycopg2.extensions
from psycopg2 import sql

from genonaut.database_url import connection_error, redact, to_libpq_dsn
from genonaut.seed.errors import ConnectionFailed, SeedError

from .connection import database_of as database_of
from .connection import with_database as with_database

log = logging.getLogger(__name__)

PREFIX = "gnseed_"
MADE_BY = "genonaut.seed.pytest_plugin"
STRATEGIES = ("auto", "file_copy", "wal_log")
# How long a copy waits for a template that another session holds open before saying so.
BUSY_WAIT_SECONDS = 3.0


class TemplateError(SeedError):
    """A seed template could not be built or copied."""


class MissingPrivilege(TemplateError):
    """The role may not create databases."""


class TemplateBusy(TemplateError):
    """Another session holds the template open, so it cannot be copied."""


@dataclass(frozen=True)
class Template:
    """A sealed template database; `built` says whether this process built it just now."""

    name: str
    url: str
    key: str
    built: bool
    seconds: float


def shown(url: str) -> str:
    """`url` for messages: its password, if any, hidden.

    >>> shown("postgresql://app:s3cret@db/t1")
    'postgresql://app:***@db/t1'
    """
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, ""))


def _comment(kind: str, **extra: Any) -> str:
    record = {"made_by": MADE_BY, "kind": kind, "host": socket.gethostname(), "pid": os.getpid()}
    record["created"] = int(time.time())
    record.update(extra)
    return json.dumps(record, sort_keys=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, owned by someone else
        return True
    return True


class TemplateServer:
    """The maintenance database of one server, through which templates are built and copied."""

    def __init__(
        self,
        admin_url: str,
        *,
        strategy: str = "auto",
        busy_wait: float = BUSY_WAIT_SECONDS,
        tag: str = "",
    ) -> None:
        if strategy not in STRATEGIES:
            raise TemplateError(
                f"unknown copy strategy {strategy!r}", hint=f"use one of {', '.join(STRATEGIES)}"
            )
        self.admin_url = admin_url
        self.busy_wait = busy_wait
        self._conn = self._connect(admin_url)
        self.major = self._conn.server_version // 10000
        self.strategy = self._choose_strategy(strategy)
        self._copies = 0
        self.tag = tag  # in copy names, so two servers of one process never pick the same

    # -- plumbing ----------------------------------------------------------------------------

    @staticmethod
    def _connect(url: str) -> psycopg2.extensions.connection:
        try:
            conn = psycopg2.connect(
                to_libpq_dsn(url), application_name="genonaut-seed-pytest", connect_timeout=10
            )
        except psycopg2.OperationalError as exc:
            message, _ = connection_error(exc, url)
            raise ConnectionFailed(
                message,
                hint="start the server or correct GENONAUT_TEST_DATABASE_URL (--seed-database-url);"
                " leave it unset to let the plugin start an embedded PostgreSQL",
            ) from exc
        conn.autocommit = True
        return conn

    def _run(self, statement: sql.Composable | str, params: Any = None) -> list[tuple[Any, ...]]:
        with self._conn.cursor() as cur:
            cur.execute(statement, params)
            return cur.fetchall() if cur.description else []

    def close(self) -> None:
        self._conn.close()

    def _choose_strategy(self, wanted: str) -> str:
        """FILE_COPY copies files and checkpoints twice: cheap without fsync, or when PostgreSQL
        18 clones files (`file_copy_method = clone`); WAL_LOG otherwise. Servers before 15 know
        only the file copy and take no STRATEGY clause ("")."""
        if self.major < 15:
            return ""
        if wanted != "auto":
            return wanted.upper()
        settings = dict(
            self._run(
                "SELECT name, setting FROM pg_settings WHERE name IN ('fsync', 'file_copy_method')"
            )
        )
        cheap = settings.get("fsync") == "off" or settings.get("file_copy_method") == "clone"
        return "FILE_COPY" if cheap else "WAL_LOG"

    def url(self, name: str) -> str:
        return with_database(self.admin_url, name)

    def exists(self, name: str) -> bool:
        return bool(self._run("SELECT 1 FROM pg_database WHERE datname = %s", (name,)))

    @contextlib.contextmanager
    def _lock(self, key: str) -> Iterator[None]:
        """A session-level advisory lock on the maintenance database: one builder at a time."""
        lock_id = int(key[:15], 16)
        self._run("SELECT pg_advisory_lock(%s)", (lock_id,))
        try:
            yield
        finally:
            self._run("SELECT pg_advisory_unlock(%s)", (lock_id,))

    def _create(self, name: str, comment: str, template: str | None = None) -> None:
        clause: sql.Composable = sql.SQL("")
        if template is not None:
            clause = sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
            if self.strategy:
                clause += sql.SQL(" STRATEGY {}").format(sql.SQL(self.strategy))
        statement = sql.SQL("CREATE DATABASE {}{}").format(sql.Identifier(name), clause)
        deadline = time.monotonic() + self.busy_wait
        while True:
            try:
                self._run(statement)
                break
            except psycopg2.errors.InsufficientPrivilege as exc:
                user = self._run("SELECT current_user")[0][0]
                raise MissingPrivilege(
                    f"role {user!r} may not create databases on {redact(self.admin_url)}",
                    hint=f"grant it: ALTER ROLE {user} CREATEDB; or point "
                    "GENONAUT_TEST_DATABASE_URL at a role that has CREATEDB",
                ) from exc
            except psycopg2.errors.ObjectInUse as exc:
                if template is None or time.monotonic() > deadline:
                    raise self._busy(template or name, exc) from exc
                time.sleep(0.05)
        self._run(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(comment)
            )
        )

    def _busy(self, name: str, exc: psycopg2.Error) -> TemplateBusy:
        holders = self._run(
            "SELECT pid, coalesce(nullif(application_name, ''), '?'), usename "
            "FROM pg_stat_activity WHERE datname = %s",
            (name,),
        )
        who = ", ".join(f"pid {pid} ({app}, user {user})" for pid, app, user in holders)
        return TemplateBusy(
            f"template database {name} is held open by another session"
            f"{': ' + who if who else ''} ({exc.diag.message_primary})",
            hint="close that session (psql, an IDE), or end it: "
            f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'",
        )

    def drop(self, name: str) -> None:
        """Drop a database this plugin made (ending its sessions); quiet when it is gone."""
        if self._is_template(name):  # a template cannot be dropped
            self._run(
                sql.SQL("ALTER DATABASE {} WITH IS_TEMPLATE false").format(sql.Identifier(name))
            )
        self._run(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def _is_template(self, name: str) -> bool:
        return bool(
            self._run("SELECT 1 FROM pg_database WHERE datname = %s AND datistemplate", (name,))
        )

    def mark(self, name: str, kind: str) -> None:
        """Change the kind recorded in a database's comment (a kept copy, say)."""
        record = dict(self.made_here()).get(name, {})
        record["kind"] = kind
        self._run(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(json.dumps(record, sort_keys=True))
            )
        )

    # -- templates ---------------------------------------------------------------------------

    def ensure_template(
        self,
        name: str,
        *,
        key: str,
        family: str,
        build: Callable[[str], object],
        from_template: str | None = None,
        **extra: Any,
    ) -> Template:
        """The sealed template `name`, built by `build(url)` unless it exists already (on an
        empty database, or on a copy of `from_template`).

        It is built under a temporary name and renamed once sealed, under an advisory lock, so
        concurrent sessions build it once and never copy it half-built.
        """
        started = time.perf_counter()
        if self._is_template(name):
            return Template(name, self.url(name), key, False, time.perf_counter() - started)
        with self._lock(key):
            if self._is_template(name):  # another session built it while we waited
                return Template(name, self.url(name), key, False, time.perf_counter() - started)
            building = f"{name[:40]}_b{os.getpid()}"
            self.drop(building)
            comment = _comment("building", key=key, family=family, **extra)
            self._create(building, comment, from_template)
            try:
                build(self.url(building))
                self._run(
                    sql.SQL(
                        "ALTER DATABASE {} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false"
                    ).format(sql.Identifier(building))
                )
                self._run(
                    sql.SQL("ALTER DATABASE {} RENAME TO {}").format(
                        sql.Identifier(building), sql.Identifier(name)
                    )
                )
            except BaseException:
                self.drop(building)
                raise
            self.mark_template(name, key=key, family=family, **extra)
        return Template(name, self.url(name), key, True, time.perf_counter() - started)

    def mark_template(self, name: str, **extra: Any) -> None:
        self._run(
            sql.SQL("COMMENT ON DATABASE {} IS {}").format(
                sql.Identifier(name), sql.Literal(_comment("template", **extra))
            )
        )

    def copy(self, template: str, *, kind: str = "copy") -> str:
        """A new database copied from `template`; its URL."""
        self._copies += 1
        made = f"{os.getpid()}_{self.tag}{self._copies}"
        name = f"{PREFIX}c_{template[len(PREFIX) : len(PREFIX) + 10]}_{made}"
        self._create(name, _comment(kind, template=template), template)
        return self.url(name)

    # -- housekeeping --------------------------------------------------------------------------

    def made_here(self) -> list[tuple[str, dict[str, Any]]]:
        """Every database with the prefix whose comment says this plugin made it."""
        rows = self._run(
            "SELECT d.datname, shobj_description(d.oid, 'pg_database') FROM pg_database d "
            "WHERE starts_with(d.datname, %s)",
            (PREFIX,),
        )
        made = []
        for name, comment in rows:
            try:
                record = json.loads(comment or "")
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("made_by") == MADE_BY:
                made.append((name, record))
        return made

    def collect(self, *, family: str, current: set[str], everything: bool = False) -> list[str]:
        """Drop leftovers: copies and half-built templates of processes on this host that are
        gone, and templates of `family` whose key is not in `current`. With `everything`, every
        database this plugin made (kept copies of failed tests too) except the live ones of
        this process. Returns the names dropped."""
        host = socket.gethostname()
        dropped = []
        for name, record in self.made_here():
            kind = record.get("kind")
            pid = int(record.get("pid", 0))
            dead = record.get("host") == host and pid != os.getpid() and not _pid_alive(pid)
            if everything:
                stale = pid != os.getpid() or kind == "kept"
            elif kind in ("copy", "tx", "building"):
                stale = dead
            elif kind == "template" and record.get("family") == family:
                stale = record.get("key") not in current
            elif kind == "template" and str(record.get("family", "")).startswith(family + ":"):
                stale = record.get("base") not in current  # a layer on an outdated template
            else:
                stale = False
            if not stale:
                continue
            try:
                self.drop(name)
            except psycopg2.Error as exc:  # in use by a live session elsewhere: leave it
                log.info("left %s: %s", name, exc.diag.message_primary)
                continue
            dropped.append(name)
        return dropped
