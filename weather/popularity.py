"""Who looked at which place, by day: distinct visitors, not hits, make a place popular.

One client repeating a cached request 300 times is one visitor. Each process collects
(place, visitor, day) in memory and writes the new ones at most every
``WEATHER_HIT_FLUSH_SECONDS``, in one ``INSERT ... ON CONFLICT DO NOTHING``, so a
cached view costs no write. Visitors are a keyed hash of their client address
(``weather.client_ip.client_key``), never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from datetime import date, timedelta

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count
from django.utils import timezone

from weather.caching import Memo, PendingWrites
from weather.models import Place, PlaceVisit

# How far back "popular" looks.
WINDOW_DAYS = 7

Visit = tuple[int, str, date]  # place id, visitor, day


def _write(visits: Counter[Visit]) -> Counter[Visit]:
    rows = [PlaceVisit(place_id=place, visitor=who, day=day) for place, who, day in visits]
    try:
        PlaceVisit.objects.bulk_create(rows, ignore_conflicts=True)
    except DatabaseError:
        return visits  # popularity must never fail a request: they wait for the next flush
    return Counter()


_visits: PendingWrites[Visit] = PendingWrites(
    name="popularity.pending_visits",
    write=_write,
    every=lambda: settings.WEATHER_HIT_FLUSH_SECONDS,
)


def _keyed_hash(client: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, client.encode(), hashlib.sha256).hexdigest()[:32]


# visitor_id(client): a stable, keyed stand-in for a client address (not reversible
# without the key), remembered for the last few thousand addresses.
visitor_id: Memo[str, str] = Memo(
    _keyed_hash, name="popularity.visitors", max_entries=4096, cleared_by=("SECRET_KEY",)
)


def record(*, place_id: int, client: str) -> None:
    """Note that ``client`` looked at the place today; flush if the interval has passed."""
    _visits.add((place_id, visitor_id(client), timezone.now().date()))


def flush() -> None:
    """Write every pending visit now."""
    _visits.flush()


def most_visited(*, limit: int) -> list[Place]:
    """The places the most distinct visitors looked at in the last WINDOW_DAYS."""
    since = timezone.now().date() - timedelta(days=WINDOW_DAYS)
    ranked = (
        PlaceVisit.objects.filter(day__gte=since)
        .values("place")
        .annotate(visitors=Count("visitor", distinct=True))
        .order_by("-visitors", "place")[:limit]
    )
    order = [row["place"] for row in ranked]
    places = Place.objects.in_bulk(order)
    return [places[pk] for pk in order if pk in places]


def visitor_counts(place_ids: list[int]) -> dict[int, int]:
    """How many distinct visitors looked at each of these places in the window."""
    if not place_ids:
        return {}
    since = timezone.now().date() - timedelta(days=WINDOW_DAYS)
    rows = (
        PlaceVisit.objects.filter(place_id__in=place_ids, day__gte=since)
        .values("place")
        .annotate(visitors=Count("visitor", distinct=True))
    )
    return {row["place"]: row["visitors"] for row in rows}


def purge_before(day: date) -> int:
    """Delete visits older than ``day``; return how many."""
    deleted, _ = PlaceVisit.objects.filter(day__lt=day).delete()
    return deleted
