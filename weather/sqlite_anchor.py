"""One idle connection per process to each SQLite database file, so that the connection
each request opens and closes (``CONN_MAX_AGE=0``: ``weatherproject/settings.py`` says
why) is never the last one open to the file.

In WAL mode SQLite treats the last connection to a file apart: opening it rebuilds the
WAL index, and closing it checkpoints the whole WAL into the database and syncs the
file. With a connection per request that was every request: under gunicorn, closing a
cold search's connection took 3 ms, and a loop of eight small writes on its own
connection took 1.5 ms in all against 0.15 ms while another connection was open. With
one held open, a close is only a close; the WAL is still checkpointed as it grows
(SQLite's automatic checkpoint, every 1,000 pages).

The anchor reads once, to join the WAL, and is never used again: it holds no lock a
writer or a checkpoint waits for. Each process opens its own at its first query
(gunicorn's workers, after the fork); one a process inherited is neither used nor
closed. A file that cannot be anchored is served as before, without one.

The WAL and its index now outlive each request, so the database file is replaced or
restored only with the app stopped (or through SQLite's backup API), as SQLite asks of
any file in WAL mode that something holds open.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from weather.caching import PROCESS_CACHES

logger = logging.getLogger(__name__)


class _Anchors:
    """This process's anchor connections, by database file."""

    def __init__(self) -> None:
        self._open: dict[tuple[int, str], sqlite3.Connection] = {}
        self._lock = threading.Lock()
        PROCESS_CACHES.register(self, name="sqlite_anchor.connections", cleared_by=("DATABASES",))

    def hold(self, path: str, *, timeout: float) -> None:
        key = (os.getpid(), path)
        if key in self._open:
            return
        with self._lock:
            if key in self._open:
                return
            try:
                anchor = sqlite3.connect(path, timeout=timeout, check_same_thread=False)
                anchor.execute("SELECT count(*) FROM sqlite_master").fetchall()
            except sqlite3.Error as exc:  # only a saving lost: the request goes on
                logger.warning("could not hold %s open: %s", path, exc)
                return
            self._open[key] = anchor

    def files(self) -> list[str]:
        """The files this process holds open."""
        pid = os.getpid()
        return sorted(path for owner, path in self._open if owner == pid)

    def clear(self) -> None:
        # Only this process's own: one inherited across a fork is not closed here.
        pid = os.getpid()
        with self._lock:
            mine = [key for key in self._open if key[0] == pid]
            for key in mine:
                self._open.pop(key).close()


anchors = _Anchors()


@receiver(connection_created)
def _hold_the_file_open(*, connection: BaseDatabaseWrapper, **kwargs: object) -> None:
    if connection.vendor != "sqlite" or connection.is_in_memory_db():  # type: ignore[attr-defined]
        return
    options = connection.settings_dict.get("OPTIONS", {})
    anchors.hold(str(connection.settings_dict["NAME"]), timeout=options.get("timeout", 5))
