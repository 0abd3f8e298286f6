"""The JSON documents the API serves: a report and a place, in the documented shape.

A fresh report's body is encoded once per process and reused: a memoised report is
asked for again and again within ``WEATHER_MEMO_SECONDS``, and encoding is most of a
cached hit's cost. Asked for a language (the API's ``lang``), a document also carries
each description and the place's name in it, beside the English ones; without one it
is exactly what it always was.

A report's air quality is ``"air_quality": {"aqi": 1-5, "components": {"pm2_5": ...,
"pm10": ..., "o3": ..., "no2": ..., and "co", "so2", "no", "nh3" when OpenWeather sent
them}, "measured_at": Unix seconds, "fetched_at": ISO time, "stale": bool}`` (µg/m³),
with ``"air_quality_reason"`` the error code when it is stale. When there is none, the
key is still there, ``null``, and ``"air_quality_reason"`` says why (the error code, as
``stale_reason`` does for the weather): a client tests one key, never its absence.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import translation

from weather.air import AirQuality
from weather.caching import BoundedCache
from weather.conditions import Reading, describe_reading
from weather.conversions import wind_from
from weather.models import Place
from weather.reports import WeatherReport
from weather.summaries import DailySummary, daily_summaries
from weather.units import Units, WindUnit

# Part of the API's ETags: change it with the document's shape, so that clients holding
# the old shape fetch the new one.
DOCUMENT_VERSION = 3

UNIT_LABELS = {
    Units.METRIC: {"temperature": "°C", "speed": "m/s"},
    Units.IMPERIAL: {"temperature": "°F", "speed": "mph"},
    Units.STANDARD: {"temperature": "K", "speed": "m/s"},
}
# The label of a speed asked for with ``wind=``; in Beaufort, a speed is the force.
WIND_LABELS = {
    WindUnit.KMH: "km/h",
    WindUnit.MS: "m/s",
    WindUnit.MPH: "mph",
    WindUnit.KNOTS: "kn",
    WindUnit.BEAUFORT: "Beaufort",
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
    # copies cost more than the rest of a cached response. A copy: vars() is the frozen
    # reading's own dictionary.
    document = dict(vars(reading))
    if localised:
        document["description_localised"] = describe_reading(reading)
    return document


def _day(day: DailySummary, *, localised: bool) -> dict[str, Any]:
    document = _reading(day, localised=localised)
    del document["condition_id"]  # the page's, to translate; not part of the document
    return document


def report_document(
    report: WeatherReport, *, wind: WindUnit | None = None, language: str | None = None
) -> dict[str, Any]:
    """A report as the API shows it, its wind speeds in ``wind`` when given (in the
    units' own otherwise); a stale one also says how old it is and why. With
    ``language``, descriptions and the place's name in that language beside the English."""
    localised = language is not None
    labels = UNIT_LABELS[report.units]
    current = _reading(report.current, localised=localised)
    steps = [_reading(step, localised=localised) for step in report.forecast.steps]
    if wind is not None:
        labels = {**labels, "speed": WIND_LABELS[wind]}
        current = _with_wind(current, units=report.units, wind=wind)
        steps = [_with_wind(step, units=report.units, wind=wind) for step in steps]
    document: dict[str, Any] = {
        "place": place_document(report.place, language=language),
        "units": report.units,
        "unit_labels": labels,
        "current": current,
        "forecast": {
            "timezone_offset": report.forecast.timezone_offset,
            "steps": steps,
            "daily": [_day(day, localised=localised) for day in daily_summaries(report.forecast)],
        },
        "alternatives": [place_document(place, language=language) for place in report.alternatives],
        "source": report.source,
        "fetched_at": report.fetched_at.isoformat(),
        "expires_at": report.expires_at.isoformat(),
    }
    document.update(air_document(report.air))
    if report.is_stale:
        document.update(
            age_seconds=int(report.age.total_seconds()), stale_reason=report.stale_reason
        )
    if language is not None:
        document["lang"] = language
    return document


def _with_wind(reading: dict[str, Any], *, units: Units, wind: WindUnit) -> dict[str, Any]:
    # A copy: vars() is the frozen reading's own dictionary.
    speed = wind_from(speed=reading["wind_speed"], units=units, unit=wind)
    return {**reading, "wind_speed": speed}


def air_document(air: AirQuality | None) -> dict[str, Any]:
    """The report's air quality keys (see the module's docstring)."""
    if air is None or air.reading is None or air.fetched_at is None:
        return {"air_quality": None, "air_quality_reason": air.reason if air else "not_asked"}
    document: dict[str, Any] = {
        "air_quality": {
            "aqi": air.reading.aqi,
            "components": dict(air.reading.components),
            "measured_at": air.reading.measured_at,
            "fetched_at": air.fetched_at.isoformat(),
            "stale": air.source == "stale",
        }
    }
    if air.reason:
        document["air_quality_reason"] = air.reason
    return document


_encoded: BoundedCache[bytes] = BoundedCache(
    name="serializers.encoded_reports", max_entries=256, max_bytes=8 * 2**20, weigh=len
)


def encoded_report(
    report: WeatherReport, *, wind: WindUnit | None = None, language: str | None = None
) -> bytes:
    """The report's document as UTF-8 JSON (with ``language``'s words beside the English);
    a fresh report's is encoded once per process, wind unit and language."""

    def encode() -> bytes:
        if language is None:
            return _encode(report_document(report, wind=wind))
        with translation.override(language):
            return _encode(report_document(report, wind=wind, language=language))

    if report.is_stale:
        return encode()  # its age changes with every request
    return _encoded.get_or_make((report.version, wind, language), encode)


def _encode(document: dict[str, Any]) -> bytes:
    return json.dumps(document, cls=DjangoJSONEncoder, ensure_ascii=False).encode()
