"""Cache-hit counters, buffered in each process and written to the database every few seconds.

A counter UPDATE on every cached read would turn the hottest read path into a write
path, and with SQLite (one writer at a time) into a queue. The counts are operator
statistics, so each process adds them up in memory and flushes them with one
``UPDATE ... SET hit_count = hit_count + n`` per row at most every
``WEATHER_HIT_FLUSH_SECONDS`` (0 writes at once). A crashed process loses at most
that many seconds of counts; nothing a request is served from lives here.
"""

from __future__ import annotations

import atexit
import threading
import time
from collections import Counter

from django.conf import settings
from django.db import DatabaseError
from django.db.models import F, Model

_lock = threading.Lock()
_pending: Counter[tuple[type[Model], int]] = Counter()
_last_flush = time.monotonic()


def record(model: type[Model], pk: int) -> None:
    """Count one cache hit on a row; flush if the interval has passed."""
    global _last_flush
    with _lock:
        _pending[(model, pk)] += 1
        due = time.monotonic() - _last_flush >= settings.WEATHER_HIT_FLUSH_SECONDS
        if not due:
            return
        batch = dict(_pending)
        _pending.clear()
        _last_flush = time.monotonic()
    _write(batch)


def flush() -> None:
    """Write every pending count now."""
    with _lock:
        batch = dict(_pending)
        _pending.clear()
    _write(batch)


def discard() -> None:
    """Drop every pending count without writing it (a test's fresh start)."""
    with _lock:
        _pending.clear()


def _write(batch: dict[tuple[type[Model], int], int]) -> None:
    for (model, pk), count in batch.items():
        try:
            model._default_manager.filter(pk=pk).update(hit_count=F("hit_count") + count)
        except DatabaseError:
            # Statistics must never fail a request that was served from the cache.
            with _lock:
                _pending[(model, pk)] += count


atexit.register(lambda: flush() if _pending else None)
