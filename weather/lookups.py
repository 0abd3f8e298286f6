"""The business logic: resolve a place, then serve its weather from the cache or the upstream.

Views call one function here and map its errors to messages and status codes::

    report = weather_for_query(query="London", units="metric", client=client)

A fresh ``WeatherLookup`` is served without any upstream or Vault call; a missing,
expired or unreadable one is fetched, stored with ``expires_at`` and served.
Geocoding answers (including "nothing found") are cached in ``GeocodeQuery``.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal

from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.dispatch import receiver
from django.utils import timezone

from weather.clients.openweather import (
    Conditions,
    Forecast,
    ForecastStep,
    GeoPlace,
    OpenWeatherClient,
    PlaceNotFound,
)
from weather.models import GeocodeMatch, GeocodeQuery, Place, Units, WeatherLookup
from weather.vault import api_keys

MAX_QUERY_LENGTH = 100
Source = Literal["cache", "upstream"]

_WHITESPACE = re.compile(r"\s+")
_COMMA = re.compile(r"\s*,\s*")
_FOUR_PLACES = Decimal("0.0001")
_TWO_PLACES = Decimal("0.01")
# Coordinates nearer than this to a known place are that place (about 550 m).
_SAME_PLACE_DEGREES = Decimal("0.005")


@dataclass(frozen=True)
class WeatherReport:
    """What the page and the API show for one place."""

    place: Place
    units: str
    current: Conditions
    forecast: Forecast
    source: Source
    fetched_at: datetime
    expires_at: datetime
    alternatives: tuple[Place, ...] = ()


@dataclass(frozen=True)
class DailySummary:
    """One local day of the forecast: low, high and the conditions around midday."""

    day: date
    low: float
    high: float
    description: str
    icon: str
    pop: float
    rain_mm: float
    snow_mm: float


def normalise_query(text: str) -> str:
    """Fold a place query so "  LONDON " and "london" share one cache entry."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    return _COMMA.sub(",", _WHITESPACE.sub(" ", folded).strip()).strip(",")


@functools.cache
def default_client() -> OpenWeatherClient:
    """Return the process-wide client, built from settings with the key from Vault."""
    return OpenWeatherClient(
        base_url=settings.OPENWEATHER_BASE_URL,
        keys=api_keys(),
        connect_timeout=settings.OPENWEATHER_CONNECT_TIMEOUT,
        read_timeout=settings.OPENWEATHER_READ_TIMEOUT,
    )


@receiver(setting_changed)
def _reset_client_on_settings_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith(("OPENWEATHER_", "VAULT_")):
        default_client.cache_clear()


def find_places(*, query: str, client: OpenWeatherClient) -> list[Place]:
    """Return the places matching ``query``, best first; raise PlaceNotFound if none."""
    key = normalise_query(query)[:MAX_QUERY_LENGTH]
    if not key:
        raise PlaceNotFound("Type a place name")
    now = timezone.now()
    cached = GeocodeQuery.objects.fresh(now).filter(query=key).first()
    if cached is not None:
        GeocodeQuery.objects.filter(pk=cached.pk).update(hit_count=F("hit_count") + 1)
        places = [match.place for match in cached.matches.select_related("place")]
        if not places:
            raise PlaceNotFound(f"No place called “{query.strip()}” was found.")
        return places

    try:
        found = client.geocode(key)
    except PlaceNotFound:
        _remember_query(key, [], now=now, ttl=settings.WEATHER_NEGATIVE_TTL)
        raise PlaceNotFound(f"No place called “{query.strip()}” was found.") from None
    places = _unique([_upsert_place(geo) for geo in found])
    _remember_query(key, places, now=now, ttl=settings.WEATHER_GEOCODE_TTL)
    return places


def place_at(*, lat: float, lon: float) -> Place:
    """Return the known place at these coordinates, or a new one for the point."""
    qlat, qlon = _quantize(lat), _quantize(lon)
    exact = Place.objects.filter(lat=qlat, lon=qlon).first()
    if exact is not None:
        return exact
    near = Place.objects.filter(
        lat__range=(qlat - _SAME_PLACE_DEGREES, qlat + _SAME_PLACE_DEGREES),
        lon__range=(qlon - _SAME_PLACE_DEGREES, qlon + _SAME_PLACE_DEGREES),
    )
    nearest = min(near, key=lambda p: (p.lat - qlat) ** 2 + (p.lon - qlon) ** 2, default=None)
    if nearest is not None:
        return nearest
    # Rounded to ~1 km so neighbouring points share one cached lookup.
    rlat = Decimal(lat).quantize(_TWO_PLACES, ROUND_HALF_EVEN)
    rlon = Decimal(lon).quantize(_TWO_PLACES, ROUND_HALF_EVEN)
    place, _ = Place.objects.get_or_create(lat=rlat, lon=rlon, defaults={"name": f"{rlat}, {rlon}"})
    return place


def weather_for(
    *, place: Place, units: str, client: OpenWeatherClient, now: datetime | None = None
) -> WeatherReport:
    """Serve the place's weather from a fresh lookup, or fetch, store and serve it."""
    units = Units(units).value
    now = now or timezone.now()
    lookup = WeatherLookup.objects.filter(place=place, units=units).first()
    if lookup is not None and lookup.is_fresh(now):
        decoded = _decode(lookup.payload)
        if decoded is not None:
            WeatherLookup.objects.filter(pk=lookup.pk).update(hit_count=F("hit_count") + 1)
            return _report(place, units, decoded, lookup, source="cache")

    lat, lon = float(place.lat), float(place.lon)
    current = client.current(lat=lat, lon=lon, units=units)
    forecast = client.forecast(lat=lat, lon=lon, units=units)
    _name_coordinate_place(place, current)
    lookup = _store(place, units, current, forecast, now=now)
    return _report(place, units, (current, forecast), lookup, source="upstream")


def weather_for_query(*, query: str, units: str, client: OpenWeatherClient) -> WeatherReport:
    """Resolve ``query`` and serve the best match's weather, naming the other matches."""
    best, *others = find_places(query=query, client=client)
    report = weather_for(place=best, units=units, client=client)
    return _with_alternatives(report, others)


def weather_at(*, lat: float, lon: float, units: str, client: OpenWeatherClient) -> WeatherReport:
    """Serve the weather at a point (a place picked from the alternatives, or a location)."""
    return weather_for(place=place_at(lat=lat, lon=lon), units=units, client=client)


def refresh(*, lookup: WeatherLookup, client: OpenWeatherClient) -> WeatherReport:
    """Fetch a stored lookup again now, whatever its expiry."""
    lookup.expires_at = timezone.now()
    WeatherLookup.objects.filter(pk=lookup.pk).update(expires_at=lookup.expires_at)
    return weather_for(place=lookup.place, units=lookup.units, client=client)


def expire(*, lookups: QuerySet[WeatherLookup]) -> int:
    """Mark lookups expired now so the next request fetches them; return how many."""
    return lookups.update(expires_at=timezone.now())


def daily_summaries(forecast: Forecast) -> list[DailySummary]:
    """Group 3-hour steps by the place's local day: low, high, midday conditions."""
    offset = dt_timezone(timedelta(seconds=forecast.timezone_offset))
    days: dict[date, list[tuple[datetime, ForecastStep]]] = {}
    for step in forecast.steps:
        local = datetime.fromtimestamp(step.at, tz=offset)
        days.setdefault(local.date(), []).append((local, step))
    summaries = []
    for day, steps in days.items():
        _, midday = min(steps, key=lambda item: abs(item[0].hour + item[0].minute / 60 - 13))
        summaries.append(
            DailySummary(
                day=day,
                low=min(step.temp_min for _, step in steps),
                high=max(step.temp_max for _, step in steps),
                description=midday.description,
                icon=midday.icon,
                pop=max(step.pop for _, step in steps),
                rain_mm=round(sum(step.rain_mm for _, step in steps), 1),
                snow_mm=round(sum(step.snow_mm for _, step in steps), 1),
            )
        )
    return summaries


def local_time(timestamp: int | None, offset_seconds: int) -> datetime | None:
    """Turn a Unix time into an aware datetime in the place's own UTC offset."""
    if timestamp is None:
        return None
    return datetime.fromtimestamp(timestamp, tz=dt_timezone(timedelta(seconds=offset_seconds)))


# --- helpers ------------------------------------------------------------------------


def _quantize(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_FOUR_PLACES, ROUND_HALF_EVEN)


def _unique(places: list[Place]) -> list[Place]:
    seen: set[int] = set()
    return [p for p in places if not (p.pk in seen or seen.add(p.pk))]


def _upsert_place(geo: GeoPlace) -> Place:
    lat, lon = _quantize(geo.lat), _quantize(geo.lon)
    fields = {
        "name": geo.name[:200],
        "state": geo.state[:200],
        "country": geo.country[:2].upper(),
        "local_names": dict(geo.local_names),
    }
    try:
        with transaction.atomic():
            place, _ = Place.objects.update_or_create(lat=lat, lon=lon, defaults=fields)
    except IntegrityError:
        # Another worker inserted the same coordinates between our read and write.
        place = Place.objects.get(lat=lat, lon=lon)
    return place


def _remember_query(key: str, places: list[Place], *, now: datetime, ttl: float) -> None:
    with transaction.atomic():
        entry, _ = GeocodeQuery.objects.update_or_create(
            query=key,
            defaults={"fetched_at": now, "expires_at": now + timedelta(seconds=ttl)},
        )
        entry.matches.all().delete()
        GeocodeMatch.objects.bulk_create(
            GeocodeMatch(query=entry, place=place, rank=rank) for rank, place in enumerate(places)
        )


def _name_coordinate_place(place: Place, current: Conditions) -> None:
    """Give a place created from bare coordinates the upstream's name for it."""
    if place.state or place.local_names or not current.station_name:
        return
    if place.name == f"{place.lat}, {place.lon}":
        place.name = current.station_name[:200]
        place.country = current.country[:2].upper()
        place.save(update_fields=["name", "country"])


def _encode(current: Conditions, forecast: Forecast) -> dict:
    return {"current": asdict(current), "forecast": asdict(forecast)}


def _decode(payload: object) -> tuple[Conditions, Forecast] | None:
    """Rebuild the dataclasses; None when the stored shape is not what this code expects."""
    try:
        current = Conditions(**payload["current"])
        raw = payload["forecast"]
        forecast = Forecast(
            timezone_offset=raw["timezone_offset"],
            steps=tuple(ForecastStep(**step) for step in raw["steps"]),
        )
    except (KeyError, TypeError):
        return None
    return current, forecast


def _store(
    place: Place, units: str, current: Conditions, forecast: Forecast, *, now: datetime
) -> WeatherLookup:
    values = {
        "payload": _encode(current, forecast),
        "fetched_at": now,
        "expires_at": now + timedelta(seconds=settings.WEATHER_CACHE_TTL),
    }
    try:
        with transaction.atomic():
            lookup, _ = WeatherLookup.objects.update_or_create(
                place=place, units=units, defaults=values
            )
    except IntegrityError:
        lookup = WeatherLookup.objects.get(place=place, units=units)
        for name, value in values.items():
            setattr(lookup, name, value)
        lookup.save(update_fields=list(values))
    WeatherLookup.objects.filter(pk=lookup.pk).update(fetch_count=F("fetch_count") + 1)
    return lookup


def _report(
    place: Place,
    units: str,
    decoded: tuple[Conditions, Forecast],
    lookup: WeatherLookup,
    *,
    source: Source,
) -> WeatherReport:
    current, forecast = decoded
    return WeatherReport(
        place=place,
        units=units,
        current=current,
        forecast=forecast,
        source=source,
        fetched_at=lookup.fetched_at,
        expires_at=lookup.expires_at,
    )


def _with_alternatives(report: WeatherReport, others: list[Place]) -> WeatherReport:
    return replace(report, alternatives=tuple(others))


__all__ = [
    "MAX_QUERY_LENGTH",
    "DailySummary",
    "WeatherReport",
    "daily_summaries",
    "default_client",
    "expire",
    "find_places",
    "local_time",
    "normalise_query",
    "place_at",
    "refresh",
    "weather_at",
    "weather_for",
    "weather_for_query",
]
