"""Refresh leases: at most one request in the fleet refreshes a given cache key at a time.

``acquire``/``release`` are the primitive (one row per key in the database, so every
worker and container sees it); ``single_flight`` is the pattern built on it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from weather.models import Lease

T = TypeVar("T")

POLL_SECONDS = 0.05
# A lease outlives the longest refresh it guards, so it never lapses mid-fetch.
LEASE_MARGIN_SECONDS = 5


def acquire(key: str, *, ttl: float) -> str | None:
    """Take the lease on ``key`` for ``ttl`` seconds; return a holder id, or None if taken."""
    holder = uuid.uuid4().hex
    now = timezone.now()
    expires_at = now + timedelta(seconds=ttl)
    # Steal a lapsed lease in one conditional UPDATE: only one writer can match the row.
    if Lease.objects.filter(key=key, expires_at__lte=now).update(
        holder=holder, expires_at=expires_at
    ):
        return holder
    try:
        with transaction.atomic():
            Lease.objects.create(key=key, holder=holder, expires_at=expires_at)
    except IntegrityError:
        return None
    return holder


def release(key: str, holder: str) -> None:
    """Give the lease back, if it is still ours (it may have lapsed and been taken)."""
    Lease.objects.filter(key=key, holder=holder).delete()


def purge_expired() -> int:
    """Delete lapsed leases; return how many."""
    deleted, _ = Lease.objects.expired().delete()
    return deleted


def single_flight(
    key: str,
    *,
    cached: Callable[[], T | None],
    fetch: Callable[[], T],
    wait_until: float,
    give_up: Callable[[], T],
) -> T:
    """Run ``fetch`` in one request at a time per ``key``, fleet-wide; others poll ``cached``.

    The lease holder looks at ``cached`` once more before fetching (the previous holder
    may have stored a result); a waiter polls ``cached`` until ``wait_until``, then
    answers with ``give_up``.
    """
    ttl = settings.WEATHER_REQUEST_BUDGET + LEASE_MARGIN_SECONDS
    while True:
        holder = acquire(key, ttl=ttl)
        if holder is not None:
            try:
                result = cached()
                return result if result is not None else fetch()
            finally:
                release(key, holder)
        if time.monotonic() >= wait_until:
            return give_up()
        time.sleep(POLL_SECONDS)
        result = cached()
        if result is not None:
            return result
