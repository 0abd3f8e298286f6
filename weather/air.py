"""Air quality: serve a place's air from the cache, or fetch, store and serve it.

The weather report carries it (``reports``), and it never breaks the weather: every
failure (the upstream's, the budget's, Vault's, a malformed answer, another request
holding the lease) ends in an ``AirQuality`` that says why there is none to show.

- A fresh ``AirQualityLookup`` is served without any upstream or Vault call.
- A missing or expired one is fetched by one request in the fleet (the holder of the
  lease ``air:<lat>,<lon>``, apart from the weather's), counted in the budget like every
  call; the others wait at most ``WEATHER_REFRESH_WAIT`` for its result.
- When that fails, a stored copy younger than ``WEATHER_AIR_STALE_MAX`` is served marked
  stale; without one, the air quality is unavailable, with the error's code as reason.

When the weather is fetched too, the air comes with it, at the same time: the weather's
fetch ``claim``s the air's lease, asks for all three at once and ``settle``s the air's
answer once the place is saved. A cold search is therefore two round trips (geocoding,
then weather, forecast and air together), and every later view within
``WEATHER_AIR_TTL`` costs no air call.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from weather import hit_counts, leases
from weather.clients.air_schema import AirPollution
from weather.clients.protocols import WeatherApi
from weather.errors import OpenWeatherError, UpstreamUnavailable
from weather.models import AirQualityLookup, Place
from weather.vault.errors import VaultError

logger = logging.getLogger(__name__)

AirSource = Literal["cache", "upstream", "stale", "unavailable"]

# The reason an air quality is unavailable when nothing was even tried: the weather
# itself came from a stale copy, so its upstream has just failed.
WEATHER_FAILED = "weather_unavailable"
NOT_STORED = "not_stored"  # a place that is not saved (yet) has no air quality row


@dataclass(frozen=True)
class AirQuality:
    """A place's air quality as served: a reading with its times, or none and why."""

    source: AirSource
    reading: AirPollution | None = None
    fetched_at: datetime | None = None
    expires_at: datetime | None = None
    reason: str = ""  # the error code that made a stale copy, or nothing, the answer

    @property
    def is_available(self) -> bool:
        return self.reading is not None

    @property
    def is_degraded(self) -> bool:
        """Born of a failure (stale or unavailable): true now, not for a cache's lifetime."""
        return self.source in ("stale", "unavailable")

    @property
    def version(self) -> tuple[object, ...]:
        """What tells two air qualities apart, cheaply, as shown (a reading served first
        from the upstream and then from the cache is the same reading)."""
        return (self.fetched_at, self.source == "stale", self.reason)


def unavailable(reason: str) -> AirQuality:
    return AirQuality(source="unavailable", reason=reason)


def air_quality_for(
    *, place: Place, client: WeatherApi, deadline: float, may_fetch: bool = True
) -> AirQuality:
    """Serve the place's air quality from a fresh row, or fetch, store and serve it;
    never raise for a failure, say it. ``may_fetch`` False: the stored copy or nothing."""
    if place._state.adding:
        return unavailable(NOT_STORED)
    stored = _stored(place)
    if stored is not None and stored.is_fresh() and (hit := _served(stored, "cache")):
        hit_counts.record(AirQualityLookup, stored.pk)
        return hit
    if not may_fetch:
        return _stale_or_unavailable(place, stored, WEATHER_FAILED)

    def fetch() -> AirQuality:
        try:
            reading = client.air_pollution(
                lat=float(place.lat),
                lon=float(place.lon),
                deadline=deadline,
                refresh=stored is not None,
            )
        except (OpenWeatherError, VaultError) as exc:
            return _stale_or_unavailable(place, stored, exc.code)
        fetched = _store(place, reading, now=timezone.now(), known=stored)
        return _served(fetched, "upstream") or unavailable(UpstreamUnavailable.code)

    def give_up() -> AirQuality:
        return _stale_or_unavailable(place, _stored(place), UpstreamUnavailable.code)

    # Air is not worth holding the page for: a busy lease is waited on briefly.
    wait_until = min(deadline, time.monotonic() + settings.WEATHER_REFRESH_WAIT)
    return leases.single_flight(
        lease_key(place),
        cached=lambda: _fresh(place),
        fetch=fetch,
        wait_until=wait_until,
        give_up=give_up,
    )


@dataclass(frozen=True)
class AirClaim:
    """The air's lease, held by a weather fetch that asks for the air beside it."""

    key: str
    holder: str
    stored: AirQualityLookup | None


def claim(place: Place) -> AirClaim | None:
    """The place's air lease, when its air is due for a fetch and no other request is
    fetching it (else None: the air is fresh, or another request brings it). The caller
    asks for the air with the weather and hands the answer to ``settle``, or ``release``s
    the claim."""
    stored = None if place._state.adding else _stored(place)
    if stored is not None and stored.is_fresh():
        return None
    key = lease_key(place)
    holder = leases.acquire(key, ttl=settings.WEATHER_REQUEST_BUDGET + leases.LEASE_MARGIN_SECONDS)
    return AirClaim(key=key, holder=holder, stored=stored) if holder is not None else None


def settle(*, place: Place, claim: AirClaim, answer: AirPollution | OpenWeatherError) -> AirQuality:
    """Store and serve the air ``answer`` a weather fetch brought for ``place`` (saved by
    now), or serve what stands in for it when the answer is an error; free the claim."""
    try:
        if isinstance(answer, OpenWeatherError):
            return _stale_or_unavailable(place, claim.stored, answer.code)
        stored = _store(place, answer, now=timezone.now(), known=claim.stored)
        return _served(stored, "upstream") or unavailable(UpstreamUnavailable.code)
    finally:
        release(claim)


def release(claim: AirClaim) -> None:
    leases.release(claim.key, claim.holder)


def lease_key(place: Place) -> str:
    """The air's refresh lease: by coordinates, as the weather's, under its own prefix."""
    return f"air:{place.lat:.4f},{place.lon:.4f}"


def _stored(place: Place) -> AirQualityLookup | None:
    try:
        return AirQualityLookup.objects.get(place=place)
    except AirQualityLookup.DoesNotExist:
        return None


def _fresh(place: Place) -> AirQuality | None:
    stored = _stored(place)
    if stored is None or not stored.is_fresh():
        return None
    return _served(stored, "cache")


def _decode(payload: Any) -> AirPollution | None:
    """The stored reading, checked as an answer is; None when it no longer passes."""
    try:
        return AirPollution(**payload)
    except (TypeError, ValueError, KeyError, AttributeError, ArithmeticError):
        return None


def _served(lookup: AirQualityLookup, source: AirSource, reason: str = "") -> AirQuality | None:
    reading = _decode(lookup.payload)
    if reading is None:
        return None
    return AirQuality(
        source=source,
        reading=reading,
        fetched_at=lookup.fetched_at,
        expires_at=lookup.expires_at,
        reason=reason,
    )


def _stale_or_unavailable(place: Place, lookup: AirQualityLookup | None, reason: str) -> AirQuality:
    too_old = timedelta(seconds=settings.WEATHER_AIR_STALE_MAX)
    if lookup is not None and timezone.now() - lookup.fetched_at <= too_old:
        stale = _served(lookup, "stale", reason)
        if stale is not None:
            logger.warning("serving stale air quality for %s: %s", place, reason)
            return stale
    logger.warning("no air quality for %s: %s", place, reason)
    return unavailable(reason)


def _store(
    place: Place, reading: AirPollution, *, now: datetime, known: AirQualityLookup | None
) -> AirQualityLookup:
    values = {
        "payload": asdict(reading),
        "fetched_at": now,
        "expires_at": now + timedelta(seconds=settings.WEATHER_AIR_TTL),
    }
    return AirQualityLookup.store(known, values, place=place)
