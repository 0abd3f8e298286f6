"""Cache-hit counters, buffered in each process and written to the database every few seconds.

A counter UPDATE on every cached read would turn the hottest read path into a write
path, and with SQLite (one writer at a time) into a queue. The counts are operator
statistics, so each process adds them up in memory and flushes them with one
``UPDATE ... SET hit_count = hit_count + n`` per row at most every
``WEATHER_HIT_FLUSH_SECONDS`` (0 writes at once). A crashed process loses at most
that many seconds of counts; nothing a request is served from lives here.
"""

from __future__ import annotations

from collections import Counter

from django.conf import settings
from django.db import DatabaseError
from django.db.models import F, Model

from weather.caching import PendingWrites

Row = tuple[type[Model], int]


def _write(counts: Counter[Row]) -> Counter[Row]:
    unwritten: Counter[Row] = Counter()
    for (model, pk), count in counts.items():
        try:
            model._default_manager.filter(pk=pk).update(hit_count=F("hit_count") + count)
        except DatabaseError:
            unwritten[(model, pk)] = count
    return unwritten


_hits: PendingWrites[Row] = PendingWrites(
    name="hit_counts.pending", write=_write, every=lambda: settings.WEATHER_HIT_FLUSH_SECONDS
)


def record(model: type[Model], pk: int) -> None:
    """Count one cache hit on a row; flush if the interval has passed."""
    _hits.add((model, pk))


def flush() -> None:
    """Write every pending count now."""
    _hits.flush()
