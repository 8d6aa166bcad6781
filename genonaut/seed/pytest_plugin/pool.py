"""Copies made ahead and dropped behind, on a thread of their own.

A test that asks for a seeded database takes a copy made while the test before it ran, and
gives it back to be dropped while the next one runs, so that neither `CREATE DATABASE` nor
`DROP DATABASE` sits between two tests when the server can keep up (IntegreSQL pools its
copies for the same reason). The thread speaks to the server through a connection of its own;
anything it cannot do falls back to the caller doing it in line.

    pool = CopyPool(TemplateServer(admin_url, strategy="auto", tag="p"), ahead=1)
    url = pool.take("gnseed_t_...")   # a ready copy, or one made now
    pool.give_back(url)               # dropped in the background
    pool.close()                      # waits for the drops; drops the copies nobody took
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from genonaut.seed.engines.postgres.templates import TemplateServer, database_of

log = logging.getLogger(__name__)


class CopyPool:
    """Up to `ahead` ready copies of each template a test has asked for."""

    def __init__(self, server: TemplateServer, *, ahead: int = 1) -> None:
        self._server = server
        self._ahead = ahead
        self._ready: dict[str, deque[str]] = {}
        self._drops: deque[str] = deque()
        self._changed = threading.Condition()
        self._closing = False
        self._broken: BaseException | None = None
        self._thread = threading.Thread(target=self._work, name="genonaut-seed-pool", daemon=True)
        self._thread.start()

    def take(self, template: str) -> str | None:
        """A ready copy of `template` (its URL), or None when none is ready: the caller makes
        one itself. Asking marks the template as wanted, so the next copy is made ahead."""
        with self._changed:
            ready = self._ready.setdefault(template, deque())
            url = ready.popleft() if ready else None
            self._changed.notify()
            return url

    def give_back(self, url: str) -> bool:
        """Have the copy at `url` dropped in the background; False when the pool cannot (the
        caller drops it itself)."""
        with self._changed:
            if self._closing or self._broken is not None:
                return False
            self._drops.append(database_of(url))
            self._changed.notify()
            return True

    def close(self) -> None:
        """Stop making copies, finish the drops, drop the ready copies nobody took."""
        with self._changed:
            self._closing = True
            self._changed.notify()
        self._thread.join()
        leftovers = [*self._drops, *(database_of(u) for q in self._ready.values() for u in q)]
        try:
            for name in leftovers:
                self._server.drop(name)
        except Exception as exc:  # the next session's housekeeping collects what is left
            log.warning("seed copy pool: %s", exc)
        finally:
            self._server.close()

    def _next_job(self) -> tuple[str, str] | None:
        """("drop", name) or ("copy", template), or None once closing with nothing to drop.
        Copies come first: a test may be waiting for one; a drop only frees space."""
        with self._changed:
            while True:
                if self._broken is None and not self._closing:
                    for template, ready in self._ready.items():
                        if len(ready) < self._ahead:
                            return "copy", template
                if self._drops:
                    return "drop", self._drops.popleft()
                if self._closing or self._broken is not None:
                    return None
                self._changed.wait()

    def _work(self) -> None:
        while (job := self._next_job()) is not None:
            kind, name = job
            try:
                if kind == "drop":
                    self._server.drop(name)
                else:
                    url = self._server.copy(name)
                    with self._changed:
                        self._ready[name].append(url)
            except Exception as exc:  # the caller copies and drops in line from now on
                log.warning("seed copy pool stopped: %s", exc)
                with self._changed:
                    self._broken = exc
                    if kind == "drop":
                        self._drops.appendleft(name)
