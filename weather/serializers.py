"""The JSON documents the API serves: a report and a place, in the documented shape.

A fresh report's body is encoded once per process and reused: a memoised report is
asked for again and again within ``WEATHER_MEMO_SECONDS``, and encoding is most of a
cached hit's cost. Asked for a language (the API's ``lang``), a document also carries
each description and the place's name in it, beside the English ones; without one it
is exactly what it always was.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation

from weather.caching import BoundedCache
from weather.conditions import Reading, describe_reading
from weather.models import Place
from weather.reports import WeatherReport
from weather.summaries import DailySummary, daily_summaries
from weather.units import Units

# Part of the API's ETags: change it with the document's shape, so that clients holding
# the old shape fetch the new one.
DOCUMENT_VERSION = 2

UNIT_LABELS = {
    Units.METRIC: {"temperature": "°C", "speed": "m/s"},
    Units.IMPERIAL: {"temperature": "°F", "speed": "mph"},
    Units.STANDARD: {"temperature": "K", "speed": "m/s"},
}


def place_document(place: Place, *, language: str | None = None) -> dict[str, Any]:
    """A place as the API shows it; with ``language``, its name in that language too."""
    document: dict[str, Any] = {
        "name": place.name,
        "state": place.state,
        "country": place.country,
        "lat": float(place.lat),
        "lon": float(place.lon),
        "label": place.label,
    }
    if language is not None:
        document["name_localised"] = place.name_in(language)
    return document


def _reading(reading: Reading, *, localised: bool) -> dict[str, Any]:
    # vars(), not dataclasses.asdict(): these dataclasses are flat, and asdict's deep
    # copies cost more than the rest of a cached response.
    document = dict(vars(reading))
    if localised:
        document["description_localised"] = describe_reading(reading)
    return document


def _day(day: DailySummary, *, localised: bool) -> dict[str, Any]:
    document = _reading(day, localised=localised)
    del document["condition_id"]  # the page's, to translate; not part of the document
    return document


def report_document(report: WeatherReport, *, language: str | None = None) -> dict[str, Any]:
    """A report as the API shows it; a stale one also says how old it is and why. With
    ``language``, descriptions and the place's name in that language beside the English."""
    localised = language is not None
    document: dict[str, Any] = {
        "place": place_document(report.place, language=language),
        "units": report.units,
        "unit_labels": UNIT_LABELS[report.units],
        "current": _reading(report.current, localised=localised),
        "forecast": {
            "timezone_offset": report.forecast.timezone_offset,
            "steps": [_reading(step, localised=localised) for step in report.forecast.steps],
            "daily": [_day(day, localised=localised) for day in daily_summaries(report.forecast)],
        },
        "alternatives": [place_document(place, language=language) for place in report.alternatives],
        "source": report.source,
        "fetched_at": report.fetched_at.isoformat(),
        "expires_at": report.expires_at.isoformat(),
    }
    if report.is_stale:
        document.update(
            age_seconds=int(report.age.total_seconds()), stale_reason=report.stale_reason
        )
    if language is not None:
        document["lang"] = language
    return document


_encoded: BoundedCache[bytes] = BoundedCache(
    name="serializers.encoded_reports", max_entries=256, max_bytes=8 * 2**20, weigh=len
)


def encoded_report(report: WeatherReport, *, language: str | None = None) -> bytes:
    """The report's document as UTF-8 JSON (with ``language``'s words beside the English);
    a fresh report's is encoded once per process and language."""

    def encode() -> bytes:
        if language is None:
            return _encode(report_document(report))
        with translation.override(language):
            return _encode(report_document(report, language=language))

    if report.is_stale:
        return encode()  # its age changes with every request
    return _encoded.get_or_make((report.version, language), encode)


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
