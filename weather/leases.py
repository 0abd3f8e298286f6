"""Refresh leases: at most one request in the fleet refreshes a given cache key at a time."""

from __future__ import annotations

import uuid
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from weather.models import Lease


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
