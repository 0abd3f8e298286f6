"""Places: normalise what people type, resolve a name or a point to places, suggest and rank.

- Geocoding answers are cached in ``GeocodeQuery`` for ``WEATHER_GEOCODE_TTL``;
  "nothing found" is remembered for ``WEATHER_NEGATIVE_TTL``; an expired answer is used
  when the upstream is down, since places do not move.
- A name is geocoded by one request at a time in the whole fleet (``leases.single_flight``).
- Suggestions for a half-typed name come from places already known before the geocoder
  is asked.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from datetime import datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from weather import hit_counts, leases, popularity
from weather.caching import TimedValue
from weather.clients.factory import request_deadline
from weather.clients.protocols import WeatherApi
from weather.clients.schema import Conditions, GeoPlace
from weather.errors import FALLBACK_ERRORS, PlaceNotFound, UpstreamUnavailable
from weather.models import GeocodeMatch, GeocodeQuery, Place

logger = logging.getLogger(__name__)

# The longest query kept: the cache's own column decides, so the two cannot drift apart.
MAX_QUERY_LENGTH: int = GeocodeQuery._meta.get_field("query").max_length  # type: ignore[assignment]
SUGGESTION_MIN_LENGTH = 2
# Shorter prefixes match too many names for the geocoder to answer usefully.
_UPSTREAM_SUGGESTION_MIN_LENGTH = 3

_WHITESPACE = re.compile(r"\s+")
_COMMA = re.compile(r"\s*,\s*")
_FOUR_PLACES = Decimal("0.0001")
_TWO_PLACES = Decimal("0.01")
# Coordinates nearer than this to a known place are that place (about 550 m).
_SAME_PLACE_DEGREES = Decimal("0.005")


def normalise_query(text: str) -> str:
    """Fold a place query so "  LONDON " and "london" share one cache entry; invisible
    format characters (zero-width spaces, joiners, marks) cannot mint new entries."""
    visible = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    folded = unicodedata.normalize("NFKC", visible).casefold()
    return _COMMA.sub(",", _WHITESPACE.sub(" ", folded).strip()).strip(",")


def find_places(*, query: str, client: WeatherApi, deadline: float | None = None) -> list[Place]:
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
            hit_counts.record(GeocodeQuery, matches[0].query_id)
            return [match.place for match in matches]
        # "Not found" is an entry without matches, asked as such: an answer another worker
        # stored since the read above has matches, and must not be taken for "not found".
        negative = GeocodeQuery.objects.fresh().filter(query=key, matches__isnull=True)
        if pk := negative.values_list("pk", flat=True).first():
            hit_counts.record(GeocodeQuery, pk)
            raise PlaceNotFound(not_found)
        return None

    def last_known() -> list[Place]:
        entry = GeocodeQuery.objects.filter(query=key).first()
        return _places_of(entry) if entry is not None else []

    def fetch() -> list[Place]:
        now = timezone.now()
        # A name asked for before (its answer expired) may spend the budget's reserve.
        refresh = GeocodeQuery.objects.filter(query=key).exists()
        try:
            found = client.geocode(key, deadline=deadline, refresh=refresh)
        except PlaceNotFound:
            _remember_query(key, [], now=now, ttl=settings.WEATHER_NEGATIVE_TTL)
            raise PlaceNotFound(not_found) from None
        except FALLBACK_ERRORS:
            if places := last_known():
                return places
            raise
        places = _upsert_places(found)
        _remember_query(key, places, now=now, ttl=settings.WEATHER_GEOCODE_TTL)
        return places

    def give_up() -> list[Place]:
        if places := last_known():
            return places
        raise UpstreamUnavailable("Another request is still looking this name up")

    return cached() or leases.single_flight(
        f"geocode:{key}", cached=cached, fetch=fetch, wait_until=deadline, give_up=give_up
    )


def place_at(*, lat: float, lon: float) -> Place:
    """Return the known place at these coordinates, or a new, unsaved one for the point
    (``save_point`` stores it once it has weather: a refused request stores nothing)."""
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
    existing = Place.objects.filter(lat=rlat, lon=rlon).first()
    return existing or Place(lat=rlat, lon=rlon, name=f"{rlat}, {rlon}")


def save_point(place: Place) -> Place:
    """Store a place made by ``place_at`` (or take the one another request stored first)."""
    try:
        with transaction.atomic():
            place.save(force_insert=True)
    except IntegrityError:
        return Place.objects.get(lat=place.lat, lon=place.lon)
    return place


def name_after_station(*, place: Place, current: Conditions) -> None:
    """Give a place created from bare coordinates the upstream's name for it."""
    if place.state or place.local_names or not current.station_name:
        return
    if place.name == f"{place.lat}, {place.lon}":
        place.name = current.station_name[:200]
        place.country = current.country[:2].upper()
        place.save(update_fields=["name", "country"])


def suggest_places(
    *, query: str, client: WeatherApi, ask_upstream: bool = True, limit: int = 5
) -> list[Place]:
    """Return up to ``limit`` places for a half-typed name, known places first.

    Known places (earlier geocoding answers whose query starts with the text, then
    places whose name does) cost nothing. Only when none is known, and
    ``ask_upstream`` allows it, is the geocoder asked, through ``find_places``, so its
    caches (negative answers included) and the upstream budget apply. No match is
    an empty list; a failing upstream, a spent budget or share raise (``FALLBACK_ERRORS``),
    so the caller can tell "nothing" from "not now".
    """
    key = normalise_query(query)[:MAX_QUERY_LENGTH]
    if len(key) < SUGGESTION_MIN_LENGTH or not any(ch.isalnum() for ch in key):
        return []
    known = _known_places(key, limit)
    if known or not ask_upstream or len(key) < _UPSTREAM_SUGGESTION_MIN_LENGTH:
        return known
    try:
        return find_places(query=key, client=client)[:limit]
    except PlaceNotFound:
        return []


# The ranking is an aggregate over every place: each worker runs it once a minute, not
# on every view of the home page.
_popular: TimedValue[list[Place]] = TimedValue(name="places.popular", seconds=60)
_POPULAR_KEPT = 8


def popular_places(*, limit: int = _POPULAR_KEPT) -> list[Place]:
    """Return the places the most distinct visitors looked at lately (weather.popularity)."""
    if limit > _POPULAR_KEPT:
        return _most_looked_up(limit)
    return _popular.get_or_make(lambda: _most_looked_up(_POPULAR_KEPT))[:limit]


def _most_looked_up(limit: int) -> list[Place]:
    return popularity.most_visited(limit=limit)


def _known_places(key: str, limit: int) -> list[Place]:
    """Places from cached geocoding answers starting with ``key``, then by name prefix;
    those more distinct visitors looked at lately first (hits could be bought)."""
    answers = GeocodeQuery.objects.filter(query__startswith=key).order_by("query")
    matches = (
        GeocodeMatch.objects.filter(query__in=answers[: limit * 2])
        .select_related("place")
        .order_by("query__query", "rank")
    )
    places = [match.place for match in matches]
    places += Place.objects.filter(name__istartswith=key).order_by("name", "country")[: limit * 2]
    candidates = _unique(places)
    visitors = popularity.visitor_counts([place.pk for place in candidates])
    # sorted() is stable: among equals, the geocoder's own ranking stands.
    return sorted(candidates, key=lambda place: -visitors.get(place.pk, 0))[:limit]


def _quantize(value: float) -> Decimal:
    return Decimal(str(value)).quantize(_FOUR_PLACES, ROUND_HALF_EVEN)


def _unique(places: list[Place]) -> list[Place]:
    """The places in order, each once (its first appearance)."""
    first: dict[int, Place] = {}
    for place in places:
        first.setdefault(place.pk, place)
    return list(first.values())


def _upsert_places(found: list[GeoPlace]) -> list[Place]:
    """The geocoder's places in its order, each once, stored or brought up to date in one
    statement (an insert that updates on conflicting coordinates, atomic in itself: two
    workers storing the same place at once both end with its one row)."""
    by_point: dict[tuple[Decimal, Decimal], Place] = {}
    for geo in found:
        lat, lon = _quantize(geo.lat), _quantize(geo.lon)
        by_point.setdefault(
            (lat, lon),
            Place(
                lat=lat,
                lon=lon,
                name=geo.name[:200],
                state=geo.state[:200],
                country=geo.country[:2].upper(),
                local_names=dict(geo.local_names),
            ),
        )
    places = list(by_point.values())
    Place.objects.bulk_create(
        places,
        update_conflicts=True,
        unique_fields=["lat", "lon"],
        update_fields=["name", "state", "country", "local_names"],
    )
    return places


def _remember_query(key: str, places: list[Place], *, now: datetime, ttl: float) -> None:
    entry = GeocodeQuery(query=key, fetched_at=now, expires_at=now + timedelta(seconds=ttl))
    with transaction.atomic():
        GeocodeQuery.objects.bulk_create(  # one statement, whether the query is new or not
            [entry],
            update_conflicts=True,
            unique_fields=["query"],
            update_fields=["fetched_at", "expires_at"],
        )
        entry.matches.all().delete()
        GeocodeMatch.objects.bulk_create(
            GeocodeMatch(query=entry, place=place, rank=rank) for rank, place in enumerate(places)
        )


def _places_of(entry: GeocodeQuery) -> list[Place]:
    return [match.place for match in entry.matches.select_related("place")]
