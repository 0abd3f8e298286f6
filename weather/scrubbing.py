"""Upstream text stored before today's boundary, put through it again.

Text from the upstream is cleaned and masked where it enters (``schema.clean_text``),
and stored payloads are checked again when read back; but a place's name is shown
straight from its row, and masking needs the key in memory, which a worker serving only
cached pages may not have read. So ``purge_weather`` (hourly) reads the key and puts
what is stored through the boundary once more: a place whose text changes is rewritten,
a lookup whose payload holds the key is deleted (and fetched again when next asked).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from weather.clients.schema import GeoPlace
from weather.models import Place, WeatherLookup
from weather.redaction import mask


@dataclass(frozen=True)
class Scrubbed:
    places: int
    lookups: int


def scrub_stored_text() -> Scrubbed:
    """Clean and mask stored upstream text; the key must have been read (remembered) first."""
    places = 0
    for place in Place.objects.only("pk", "name", "state", "local_names").iterator():
        try:
            # The same checks a geocoding answer gets: its text fields, as they would be now.
            cleaned = GeoPlace(
                name=place.name,
                country="",
                state=place.state,
                lat=0.0,
                lon=0.0,
                local_names=place.local_names or {},
            )
        except (TypeError, ValueError):
            continue  # nothing readable left of the name: the purge of orphans decides
        now = (cleaned.name, cleaned.state, dict(cleaned.local_names))
        if now != (place.name, place.state, place.local_names):
            Place.objects.filter(pk=place.pk).update(
                name=cleaned.name, state=cleaned.state, local_names=now[2]
            )
            places += 1
    holding_a_secret = [
        lookup.pk
        for lookup in WeatherLookup.objects.only("pk", "payload").iterator()
        if _holds_a_secret(lookup.payload)
    ]
    lookups, _ = WeatherLookup.objects.filter(pk__in=holding_a_secret).delete()
    return Scrubbed(places=places, lookups=lookups)


def _holds_a_secret(payload: object) -> bool:
    text = json.dumps(payload)
    return mask(text) != text
