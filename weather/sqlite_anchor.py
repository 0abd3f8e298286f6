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
writer or a checkpoint waits for, and a file replaced while the process runs is still
seen at once by every request's own connection. Each process opens its own (a
connection must not cross a fork): gunicorn's workers open theirs at their first query.
"""

from __future__ import annotations

import os
import sqlite3
import threading

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.dispatch import receiver

from weather.caching import PROCESS_CACHES


class _Anchors:
    """This process's anchor connections, by database file."""

    def __init__(self) -> None:
        self._open: dict[tuple[int, str], sqlite3.Connection] = {}
        self._lock = threading.Lock()
        PROCESS_CACHES.register(self, name="sqlite_anchor.connections", cleared_by=("DATABASES",))

    def hold(self, path: str) -> None:
        key = (os.getpid(), path)
        if key in self._open:
            return
        with self._lock:
            if key in self._open:
                return
            anchor = sqlite3.connect(path, check_same_thread=False)
            anchor.execute("SELECT count(*) FROM sqlite_master").fetchall()
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
    anchors.hold(str(connection.settings_dict["NAME"]))
