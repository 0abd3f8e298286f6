"""Weather reports: serve a place's weather from the cache, or fetch, store and serve it.

Views call one function here and map its errors to messages and status codes::

    report = weather_for_query(query="London", units="metric", client=client)

- A fresh ``WeatherLookup`` is served without any upstream or Vault call.
- A missing or expired one is fetched by exactly one request in the whole fleet
  (the holder of its lease); the others poll the database for the result, or,
  holding a stale copy, serve that after ``WEATHER_REFRESH_WAIT``.
- When the upstream or Vault fails (or the budget is spent), a stored payload
  younger than ``WEATHER_STALE_MAX`` is served marked stale; without one, the
  typed error reaches the view.
- Every request spends at most ``WEATHER_REQUEST_BUDGET`` seconds on all this.
- Each process keeps the reports it served for ``WEATHER_MEMO_SECONDS`` (never past
  their ``expires_at``), so a burst of requests for one place costs no queries.
  The database stays the truth: an operator's "expire now" is seen within that time.
"""

from __future__ import annotations

import logging
import time
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from weather import air, hit_counts, leases
from weather.air import AirQuality, air_quality_for
from weather.caching import BoundedCache
from weather.clients.factory import request_deadline
from weather.clients.protocols import WeatherApi
from weather.clients.schema import Conditions, Forecast, ForecastStep
from weather.conversions import FETCHED_UNITS, in_units
from weather.errors import FALLBACK_ERRORS, OpenWeatherError, UpstreamUnavailable
from weather.models import Place, WeatherLookup
from weather.places import find_places, name_after_station, normalise_query, place_at, save_point
from weather.units import Units
from weather.vault.errors import VaultError

logger = logging.getLogger(__name__)

Source = Literal["cache", "upstream", "stale"]


@dataclass(frozen=True)
class WeatherReport:
    """What the page and the API show for one place."""

    place: Place
    units: Units
    current: Conditions
    forecast: Forecast
    source: Source
    fetched_at: datetime
    expires_at: datetime
    alternatives: tuple[Place, ...] = ()
    stale_reason: str = ""  # the error code that made a stale copy the answer
    lookup_id: int | None = None
    air: AirQuality | None = None  # None: not asked for (weather_for alone, a refresh)

    @property
    def age(self) -> timedelta:
        return timezone.now() - self.fetched_at

    @property
    def is_stale(self) -> bool:
        return self.source == "stale"

    @property
    def version(self) -> tuple[object, ...]:
        """What tells two reports' contents apart, cheaply: the stored lookup's identity
        and time, the units, how it was served and the alternatives named with it."""
        return (
            self.lookup_id,
            self.fetched_at,
            self.units,
            self.source,
            self.stale_reason,
            self.place.pk,
            self.place.label,
            tuple(place.pk for place in self.alternatives),
            self.air.version if self.air is not None else None,
        )


def weather_for(
    *,
    place: Place,
    units: str,
    client: WeatherApi,
    deadline: float | None = None,
    with_air: bool = False,
) -> WeatherReport:
    """Serve the place's weather from a fresh lookup, or fetch, store and serve it;
    ``with_air``: a fetch asks for the place's air quality beside it when that is due
    (the report then carries it)."""
    chosen = Units(units)
    deadline = deadline or request_deadline()
    stored = _stored(place) if not place._state.adding else None
    if (hit := _cache_hit(place, chosen, stored)) is not None:
        return hit

    def fetch() -> WeatherReport:
        lat, lon = float(place.lat), float(place.lon)
        # Refreshing what visitors already look at may spend the budget's reserve.
        refresh = stored is not None
        air_claim = air.claim(place) if with_air else None
        try:
            # In one unit system, whatever the visitor's: the others are arithmetic.
            if air_claim is None:
                current, forecast = client.current_and_forecast(
                    lat=lat, lon=lon, units=FETCHED_UNITS, deadline=deadline, refresh=refresh
                )
            else:
                current, forecast, air_answer = client.current_forecast_and_air(
                    lat=lat, lon=lon, units=FETCHED_UNITS, deadline=deadline, refresh=refresh
                )
        except FALLBACK_ERRORS as exc:
            if air_claim is not None:
                air.release(air_claim)
            return _stale_or_raise(place, chosen, stored, exc)
        # A point nobody asked for before becomes a place only now that it has weather:
        # a refused request stores nothing.
        saved = place if not place._state.adding else save_point(place)
        name_after_station(place=saved, current=current)
        lookup = _store(saved, current, forecast, now=timezone.now(), known=stored)
        report = _report(saved, chosen, (current, forecast), lookup, source="upstream")
        if air_claim is None:
            return report
        return replace(report, air=air.settle(place=saved, claim=air_claim, answer=air_answer))

    def give_up() -> WeatherReport:
        busy = UpstreamUnavailable("Another request is still fetching this place's weather")
        return _stale_or_raise(place, chosen, stored, busy)

    wait_until = deadline
    if _stale_copy(stored) is not None:
        wait_until = min(deadline, time.monotonic() + settings.WEATHER_REFRESH_WAIT)
    return leases.single_flight(
        lease_key(place),
        cached=lambda: _fresh_report(place, chosen),
        fetch=fetch,
        wait_until=wait_until,
        give_up=give_up,
    )


def weather_for_query(*, query: str, units: str, client: WeatherApi) -> WeatherReport:
    """Resolve ``query`` and serve the best match's weather, naming the other matches."""
    memo_key = ("query", normalise_query(query), units)
    if (memoised := _memo.get(memo_key)) is not None:
        return memoised
    deadline = request_deadline()
    best, *others = find_places(query=query, client=client, deadline=deadline)
    report = weather_for(place=best, units=units, client=client, deadline=deadline, with_air=True)
    report = replace(report, alternatives=tuple(others), air=_air(report, client, deadline))
    _memo.put(memo_key, report)
    return report


def weather_at(*, lat: float, lon: float, units: str, client: WeatherApi) -> WeatherReport:
    """Serve the weather at a point (a place picked from the alternatives, or a location)."""
    memo_key = ("point", lat, lon, units)
    if (memoised := _memo.get(memo_key)) is not None:
        return memoised
    deadline = request_deadline()
    report = weather_for(
        place=place_at(lat=lat, lon=lon),
        units=units,
        client=client,
        deadline=deadline,
        with_air=True,
    )
    report = replace(report, air=_air(report, client, deadline))
    _memo.put(memo_key, report)
    return report


def refresh(*, lookup: WeatherLookup, client: WeatherApi) -> WeatherReport:
    """Fetch a stored lookup again now, whatever its expiry; fail rather than serve stale."""
    WeatherLookup.objects.filter(pk=lookup.pk).expire_now()
    report = weather_for(place=lookup.place, units=FETCHED_UNITS, client=client)
    if report.is_stale:
        raise UpstreamUnavailable(f"Refresh failed ({report.stale_reason}); the old copy is kept")
    return report


def _air(report: WeatherReport, client: WeatherApi, deadline: float) -> AirQuality:
    if report.air is not None:  # fetched with the weather
        return report.air
    # A stale report means the upstream has just failed: asking it for air would only
    # spend the rest of the request's time.
    return air_quality_for(
        place=report.place, client=client, deadline=deadline, may_fetch=not report.is_stale
    )


def count_hit(*, lookup_id: int | None) -> None:
    """Count one view of a report served from the cache on its stored lookup."""
    if lookup_id is not None:
        hit_counts.record(WeatherLookup, lookup_id)


class _Memo:
    """Reports this process served lately, each kept at most WEATHER_MEMO_SECONDS and never
    past its ``expires_at``; a hit is counted as one on the stored lookup."""

    def __init__(self) -> None:
        # A report is a few tens of kilobytes (40 forecast steps and their place).
        self._reports: BoundedCache[WeatherReport] = BoundedCache(
            name="reports.memo", max_entries=2048, max_bytes=32 * 2**20
        )

    def get(self, key: tuple[object, ...]) -> WeatherReport | None:
        report = self._reports.get(key)
        if report is None or report.expires_at <= timezone.now():
            return None
        count_hit(lookup_id=report.lookup_id)
        return report

    def put(self, key: tuple[object, ...], report: WeatherReport) -> None:
        seconds = settings.WEATHER_MEMO_SECONDS
        if seconds <= 0 or report.is_stale:
            return
        self._reports.put(key, replace(report, source="cache"), ttl=seconds)


_memo = _Memo()


def _encode(current: Conditions, forecast: Forecast) -> dict[str, Any]:
    return {"current": asdict(current), "forecast": asdict(forecast)}


def _decode(payload: Any) -> tuple[Conditions, Forecast] | None:
    """Rebuild the dataclasses; None when the stored shape is not what this code expects."""
    try:
        current = Conditions(**payload["current"])
        raw = payload["forecast"]
        forecast = Forecast(
            timezone_offset=raw["timezone_offset"],
            steps=tuple(ForecastStep(**step) for step in raw["steps"]),
        )
    except (KeyError, TypeError, ValueError, AttributeError, ArithmeticError):
        # The dataclasses check what was stored as they check an answer: a payload
        # that fails is fetched again, never shown.
        return None
    return current, forecast


def _store(
    place: Place,
    current: Conditions,
    forecast: Forecast,
    *,
    now: datetime,
    known: WeatherLookup | None,
) -> WeatherLookup:
    values = {
        "payload": _encode(current, forecast),
        "fetched_at": now,
        "expires_at": now + timedelta(seconds=settings.WEATHER_CACHE_TTL),
    }
    return WeatherLookup.store(known, values, place=place, units=FETCHED_UNITS)


def _stored(place: Place) -> WeatherLookup | None:
    """The place's stored lookup: one per place, in ``FETCHED_UNITS``."""
    # get(), not first(): the pair is unique, and first() would add a needless ORDER BY.
    try:
        return WeatherLookup.objects.get(place=place, units=FETCHED_UNITS)
    except WeatherLookup.DoesNotExist:
        return None


def lease_key(place: Place) -> str:
    """The refresh lease's key: by coordinates (unique per place), so a point's first
    fetch and a request that finds it just saved take the same lease; one for every unit
    system, since one fetch serves them all."""
    return f"weather:{place.lat:.4f},{place.lon:.4f}"


def _fresh_report(place: Place, units: Units) -> WeatherReport | None:
    """A fresh stored report for ``place``; an unsaved point's once another request
    has stored it."""
    if place._state.adding:
        found = Place.objects.filter(lat=place.lat, lon=place.lon).first()
        if found is None:
            return None
        place = found
    return _cache_hit(place, units, _stored(place))


def _cache_hit(place: Place, units: Units, lookup: WeatherLookup | None) -> WeatherReport | None:
    """A report from a fresh, readable lookup (counting the hit), or None."""
    if lookup is None or not lookup.is_fresh():
        return None
    decoded = _decode(lookup.payload)
    if decoded is None:
        return None
    hit_counts.record(WeatherLookup, lookup.pk)
    return _report(place, units, decoded, lookup, source="cache")


def _stale_copy(lookup: WeatherLookup | None) -> tuple[Conditions, Forecast] | None:
    """The stored payload if it is young enough to serve when the upstream fails."""
    if lookup is None:
        return None
    if timezone.now() - lookup.fetched_at > timedelta(seconds=settings.WEATHER_STALE_MAX):
        return None
    return _decode(lookup.payload)


def _stale_or_raise(
    place: Place, units: Units, lookup: WeatherLookup | None, error: OpenWeatherError | VaultError
) -> WeatherReport:
    decoded = _stale_copy(lookup)
    if lookup is None or decoded is None:
        raise error
    logger.warning("serving stale weather for %s (%s): %s", place, units, error)
    return _report(place, units, decoded, lookup, source="stale", stale_reason=error.code)


def _report(
    place: Place,
    units: Units,
    decoded: tuple[Conditions, Forecast],
    lookup: WeatherLookup,
    *,
    source: Source,
    stale_reason: str = "",
) -> WeatherReport:
    current, forecast = in_units(*decoded, units)
    return WeatherReport(
        place=place,
        units=units,
        current=current,
        forecast=forecast,
        source=source,
        fetched_at=lookup.fetched_at,
        expires_at=lookup.expires_at,
        stale_reason=stale_reason,
        lookup_id=lookup.pk,
    )
