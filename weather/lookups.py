"""The business logic: resolve a place, then serve its weather from the cache or the upstream.

Views call one function here and map its errors to messages and status codes::

    report = weather_for_query(query="London", units="metric", client=client)

- A fresh ``WeatherLookup`` is served without any upstream or Vault call.
- A missing or expired one is fetched by exactly one request in the whole fleet
  (the holder of its lease); the others poll the database for the result, or,
  holding a stale copy, serve that after ``WEATHER_REFRESH_WAIT``.
- When the upstream or Vault fails (or the budget is spent), a stored payload
  younger than ``WEATHER_STALE_MAX`` is served marked stale; without one, the
  typed error reaches the view.
- Geocoding answers are cached in ``GeocodeQuery`` for days; "nothing found" is
  remembered for ``WEATHER_NEGATIVE_TTL``; an expired answer is used when the
  upstream is down, since places do not move.
- Every request spends at most ``WEATHER_REQUEST_BUDGET`` seconds on all this.
- Each process keeps the reports it served for ``WEATHER_MEMO_SECONDS`` (never past
  their ``expires_at``), so a burst of requests for one place costs no queries.
  The database stays the truth: an operator's "expire now" is seen within that time.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import date, datetime, timedelta
from datetime import timezone as dt_timezone
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Literal, TypeVar

from django.conf import settings
from django.core.signals import setting_changed
from django.db import IntegrityError, transaction
from django.db.models import F, QuerySet
from django.db.models.aggregates import Sum
from django.dispatch import receiver
from django.utils import timezone

from weather import hits, leases
from weather.budget import UpstreamBudget
from weather.clients.openweather import (
    Conditions,
    Forecast,
    ForecastStep,
    GeoPlace,
    InvalidApiKey,
    OpenWeatherClient,
    OpenWeatherError,
    PlaceNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from weather.models import GeocodeMatch, GeocodeQuery, Place, Units, WeatherLookup
from weather.vault import VaultError, api_keys

logger = logging.getLogger(__name__)

MAX_QUERY_LENGTH = 100
Source = Literal["cache", "upstream", "stale"]
T = TypeVar("T")

# Failures that stored data can paper over. PlaceNotFound is an answer, not a failure.
_FALLBACK_ERRORS = (UpstreamUnavailable, UpstreamRateLimited, InvalidApiKey, VaultError)
_POLL_SECONDS = 0.05
# A lease outlives the longest refresh it guards, so it never lapses mid-fetch.
_LEASE_MARGIN_SECONDS = 5

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
    stale_reason: str = ""  # the error code that made a stale copy the answer
    lookup_id: int | None = None

    @property
    def age(self) -> timedelta:
        return timezone.now() - self.fetched_at

    @property
    def is_stale(self) -> bool:
        return self.source == "stale"


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
    """Return the process-wide client: key from Vault, calls counted against the budget."""
    return OpenWeatherClient(
        base_url=settings.OPENWEATHER_BASE_URL,
        keys=api_keys(),
        connect_timeout=settings.OPENWEATHER_CONNECT_TIMEOUT,
        read_timeout=settings.OPENWEATHER_READ_TIMEOUT,
        budget=UpstreamBudget(),
    )


@receiver(setting_changed)
def _reset_client_on_settings_change(*, setting: str, **kwargs: object) -> None:
    if setting.startswith(("OPENWEATHER_", "VAULT_")):
        default_client.cache_clear()


def request_deadline() -> float:
    """The monotonic time by which a request must be done with the upstream."""
    return time.monotonic() + settings.WEATHER_REQUEST_BUDGET


def find_places(
    *, query: str, client: OpenWeatherClient, deadline: float | None = None
) -> list[Place]:
    """Return the places matching ``query``, best first; raise PlaceNotFound if none."""
    key = normalise_query(query)[:MAX_QUERY_LENGTH]
    if not key:
        raise PlaceNotFound("Type a place name")
    deadline = deadline or request_deadline()
    not_found = f"No place called “{query.strip()}” was found."

    def cached() -> list[Place] | None:
        # One query on the hot path: a fresh answer's matches with their places.
        matches = list(
            GeocodeMatch.objects.filter(query__query=key, query__expires_at__gt=timezone.now())
            .select_related("place")
            .order_by("rank")
        )
        if matches:
            hits.record(GeocodeQuery, matches[0].query_id)
            return [match.place for match in matches]
        negative = GeocodeQuery.objects.fresh().filter(query=key).values_list("pk", flat=True)
        if pk := negative.first():
            hits.record(GeocodeQuery, pk)
            raise PlaceNotFound(not_found)
        return None

    def last_known() -> list[Place]:
        entry = GeocodeQuery.objects.filter(query=key).first()
        return _places_of(entry) if entry is not None else []

    def fetch() -> list[Place]:
        now = timezone.now()
        try:
            found = client.geocode(key, deadline=deadline)
        except PlaceNotFound:
            _remember_query(key, [], now=now, ttl=settings.WEATHER_NEGATIVE_TTL)
            raise PlaceNotFound(not_found) from None
        except _FALLBACK_ERRORS:
            if places := last_known():
                return places
            raise
        places = _unique([_upsert_place(geo) for geo in found])
        _remember_query(key, places, now=now, ttl=settings.WEATHER_GEOCODE_TTL)
        return places

    def give_up() -> list[Place]:
        if places := last_known():
            return places
        raise UpstreamUnavailable("Another request is still looking this name up")

    return cached() or _single_flight(
        f"geocode:{key}", cached=cached, fetch=fetch, wait_until=deadline, give_up=give_up
    )


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
    *, place: Place, units: str, client: OpenWeatherClient, deadline: float | None = None
) -> WeatherReport:
    """Serve the place's weather from a fresh lookup, or fetch, store and serve it."""
    units = Units(units).value
    deadline = deadline or request_deadline()
    stored = _stored(place, units)
    if (hit := _cache_hit(place, units, stored)) is not None:
        return hit

    def fetch() -> WeatherReport:
        lat, lon = float(place.lat), float(place.lon)
        try:
            current = client.current(lat=lat, lon=lon, units=units, deadline=deadline)
            forecast = client.forecast(lat=lat, lon=lon, units=units, deadline=deadline)
        except _FALLBACK_ERRORS as exc:
            return _stale_or_raise(place, units, stored, exc)
        _name_coordinate_place(place, current)
        lookup = _store(place, units, current, forecast, now=timezone.now())
        return _report(place, units, (current, forecast), lookup, source="upstream")

    def give_up() -> WeatherReport:
        busy = UpstreamUnavailable("Another request is still fetching this place's weather")
        return _stale_or_raise(place, units, stored, busy)

    wait_until = deadline
    if _stale_copy(stored) is not None:
        wait_until = min(deadline, time.monotonic() + settings.WEATHER_REFRESH_WAIT)
    return _single_flight(
        f"weather:{place.pk}:{units}",
        cached=lambda: _cache_hit(place, units, _stored(place, units)),
        fetch=fetch,
        wait_until=wait_until,
        give_up=give_up,
    )


def weather_for_query(*, query: str, units: str, client: OpenWeatherClient) -> WeatherReport:
    """Resolve ``query`` and serve the best match's weather, naming the other matches."""
    memo_key = ("query", normalise_query(query), units)
    if (memoised := _memo.get(memo_key)) is not None:
        return memoised
    deadline = request_deadline()
    best, *others = find_places(query=query, client=client, deadline=deadline)
    report = weather_for(place=best, units=units, client=client, deadline=deadline)
    report = replace(report, alternatives=tuple(others))
    _memo.put(memo_key, report)
    return report


def weather_at(*, lat: float, lon: float, units: str, client: OpenWeatherClient) -> WeatherReport:
    """Serve the weather at a point (a place picked from the alternatives, or a location)."""
    memo_key = ("point", lat, lon, units)
    if (memoised := _memo.get(memo_key)) is not None:
        return memoised
    report = weather_for(place=place_at(lat=lat, lon=lon), units=units, client=client)
    _memo.put(memo_key, report)
    return report


def refresh(*, lookup: WeatherLookup, client: OpenWeatherClient) -> WeatherReport:
    """Fetch a stored lookup again now, whatever its expiry; fail rather than serve stale."""
    WeatherLookup.objects.filter(pk=lookup.pk).update(expires_at=timezone.now())
    report = weather_for(place=lookup.place, units=lookup.units, client=client)
    if report.is_stale:
        raise UpstreamUnavailable(f"Refresh failed ({report.stale_reason}); the old copy is kept")
    return report


def expire(*, lookups: QuerySet[WeatherLookup]) -> int:
    """Mark lookups expired now so the next request fetches them; return how many."""
    return lookups.update(expires_at=timezone.now())


class _Memo:
    """Reports this process served lately, each kept at most WEATHER_MEMO_SECONDS."""

    _MAX_ENTRIES = 2048

    def __init__(self) -> None:
        self._entries: dict[tuple, tuple[float, WeatherReport]] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple) -> WeatherReport | None:
        with self._lock:
            entry = self._entries.get(key)
        if entry is None:
            return None
        until, report = entry
        if time.monotonic() >= until or report.expires_at <= timezone.now():
            return None
        if report.lookup_id is not None:
            hits.record(WeatherLookup, report.lookup_id)
        return report

    def put(self, key: tuple, report: WeatherReport) -> None:
        seconds = settings.WEATHER_MEMO_SECONDS
        if seconds <= 0 or report.is_stale:
            return
        cached = replace(report, source="cache")
        with self._lock:
            if len(self._entries) >= self._MAX_ENTRIES:
                self._entries.clear()  # bounded; refilling costs one query per key
            self._entries[key] = (time.monotonic() + seconds, cached)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_memo = _Memo()


def _single_flight(
    key: str,
    *,
    cached: Callable[[], T | None],
    fetch: Callable[[], T],
    wait_until: float,
    give_up: Callable[[], T],
) -> T:
    """Run ``fetch`` in one request at a time per ``key``, fleet-wide; others poll ``cached``."""
    ttl = settings.WEATHER_REQUEST_BUDGET + _LEASE_MARGIN_SECONDS
    while True:
        holder = leases.acquire(key, ttl=ttl)
        if holder is not None:
            try:
                # The previous holder may have stored a result since we last looked.
                result = cached()
                return result if result is not None else fetch()
            finally:
                leases.release(key, holder)
        if time.monotonic() >= wait_until:
            return give_up()
        time.sleep(_POLL_SECONDS)
        result = cached()
        if result is not None:
            return result


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


def _places_of(entry: GeocodeQuery) -> list[Place]:
    return [match.place for match in entry.matches.select_related("place")]


def _stored(place: Place, units: str) -> WeatherLookup | None:
    # get(), not first(): the pair is unique, and first() would add a needless ORDER BY.
    try:
        return WeatherLookup.objects.get(place=place, units=units)
    except WeatherLookup.DoesNotExist:
        return None


def _cache_hit(place: Place, units: str, lookup: WeatherLookup | None) -> WeatherReport | None:
    """A report from a fresh, readable lookup (counting the hit), or None."""
    if lookup is None or not lookup.is_fresh():
        return None
    decoded = _decode(lookup.payload)
    if decoded is None:
        return None
    hits.record(WeatherLookup, lookup.pk)
    return _report(place, units, decoded, lookup, source="cache")


def _stale_copy(lookup: WeatherLookup | None) -> tuple[Conditions, Forecast] | None:
    """The stored payload if it is young enough to serve when the upstream fails."""
    if lookup is None:
        return None
    if timezone.now() - lookup.fetched_at > timedelta(seconds=settings.WEATHER_STALE_MAX):
        return None
    return _decode(lookup.payload)


def _stale_or_raise(
    place: Place, units: str, lookup: WeatherLookup | None, error: OpenWeatherError | VaultError
) -> WeatherReport:
    decoded = _stale_copy(lookup)
    if decoded is None:
        raise error
    logger.warning("serving stale weather for %s (%s): %s", place, units, error)
    return _report(place, units, decoded, lookup, source="stale", stale_reason=error.code)


def _report(
    place: Place,
    units: str,
    decoded: tuple[Conditions, Forecast],
    lookup: WeatherLookup,
    *,
    source: Source,
    stale_reason: str = "",
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
        stale_reason=stale_reason,
        lookup_id=lookup.pk,
    )


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
    "request_deadline",
    "weather_at",
    "weather_for",
    "weather_for_query",
]


# --- suggestions and popular places (for the search box and the home page) ------------

SUGGESTION_MIN_LENGTH = 2
# Shorter prefixes match too many names for the geocoder to answer usefully.
_UPSTREAM_SUGGESTION_MIN_LENGTH = 3


def suggest_places(*, query: str, client: OpenWeatherClient, limit: int = 5) -> list[Place]:
    """Return up to ``limit`` places for a half-typed name, known places first.

    Known places (earlier geocoding answers whose query starts with the text, then
    places whose name does) cost nothing. Only when none is known is the geocoder
    asked, through ``find_places``, so its caches (negative answers included) and
    the upstream budget apply; a failing upstream just means no suggestions.
    """
    key = normalise_query(query)[:MAX_QUERY_LENGTH]
    if len(key) < SUGGESTION_MIN_LENGTH or not any(ch.isalnum() for ch in key):
        return []
    known = _known_places(key, limit)
    if known or len(key) < _UPSTREAM_SUGGESTION_MIN_LENGTH:
        return known
    try:
        return find_places(query=key, client=client)[:limit]
    except PlaceNotFound:
        return []
    except _FALLBACK_ERRORS as exc:
        logger.info("no suggestions for %r: %s", key, exc.code)
        return []


def popular_places(*, limit: int = 8) -> list[Place]:
    """Return the places whose weather was looked up most, across all units and visitors."""
    looked_up = Sum(F("lookups__hit_count") + F("lookups__fetch_count"))
    return list(
        Place.objects.annotate(looked_up=looked_up)
        .filter(looked_up__gt=0)
        .order_by("-looked_up", "name")[:limit]
    )


def _known_places(key: str, limit: int) -> list[Place]:
    """Places from cached geocoding answers starting with ``key``, then by name prefix."""
    answers = GeocodeQuery.objects.filter(query__startswith=key).order_by("-hit_count", "query")
    matches = (
        GeocodeMatch.objects.filter(query__in=answers[: limit * 2])
        .select_related("place", "query")
        .order_by("-query__hit_count", "query__query", "rank")
    )
    places = [match.place for match in matches]
    places += Place.objects.filter(name__istartswith=key).order_by("name", "country")[: limit * 2]
    return _unique(places)[:limit]


__all__ += ["popular_places", "suggest_places"]
