"""What the dashboard remembers for one visitor, in their session: units and recent places.

Sessions live in the database (Django's default engine), so every worker sees the
same preferences; the page never needs JavaScript or local storage for them.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from django.http import HttpRequest

from weather.models import Place
from weather.units import Units

UNITS_KEY = "weather:units"
RECENTS_KEY = "weather:recent_places"
MAX_RECENTS = 6


@dataclass(frozen=True)
class RecentPlace:
    label: str
    lat: str
    lon: str


def preferred_units(request: HttpRequest) -> str:
    """The units this visitor last chose, metric until they choose."""
    units = request.session.get(UNITS_KEY)
    return units if units in Units.values else Units.METRIC.value


def remember_units(request: HttpRequest, units: str) -> None:
    """Keep ``units`` as this visitor's choice; writes the session only on a change."""
    if request.session.get(UNITS_KEY) != units:
        request.session[UNITS_KEY] = units


def recent_places(request: HttpRequest) -> list[RecentPlace]:
    """The places this visitor looked at, newest first."""
    stored = request.session.get(RECENTS_KEY)
    if not isinstance(stored, list):
        return []
    try:
        return [RecentPlace(**item) for item in stored][:MAX_RECENTS]
    except TypeError:
        return []  # a shape written by an older version: start afresh


def remember_place(request: HttpRequest, place: Place) -> None:
    """Put ``place`` first in this visitor's recent places, once."""
    entry = {"label": place.label, "lat": str(place.lat), "lon": str(place.lon)}
    others = [
        asdict(item)
        for item in recent_places(request)
        if (item.lat, item.lon) != (entry["lat"], entry["lon"])
    ]
    updated = [entry, *others][:MAX_RECENTS]
    if request.session.get(RECENTS_KEY) != updated:
        request.session[RECENTS_KEY] = updated
