"""The air quality section as people read it: the index's words, the readings' names and
units, rendered once per report version (``fragments``)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from weather.air import AirQuality
from weather.clients.air_schema import SHOWN_COMPONENTS


def aqi_label(aqi: int) -> str:
    """OpenWeather's word for a step of its 1-5 index, in the visitor's language."""
    labels = {
        1: gettext("Good"),
        2: gettext("Fair"),
        3: gettext("Moderate"),
        4: gettext("Poor"),
        5: gettext("Very Poor"),
    }
    return labels[aqi]


def _names() -> dict[str, tuple[str, str]]:
    """Each reading's symbol and, for those who do not know it, its name."""
    return {
        "pm2_5": ("PM2.5", gettext("Fine particles")),
        "pm10": ("PM10", gettext("Coarse particles")),
        "o3": ("O₃", gettext("Ozone")),
        "no2": ("NO₂", gettext("Nitrogen dioxide")),
    }


def air_part(air: AirQuality | None) -> SafeString:
    """The section's HTML; nothing for a report that did not ask for air quality."""
    if air is None:
        return SafeString("")
    context: dict[str, Any] = {"air": air}
    if air.reading is not None:
        names = _names()
        context.update(
            label=aqi_label(air.reading.aqi),
            measured=datetime.fromtimestamp(air.reading.measured_at, tz=UTC),
            readings=[(*names[name], air.reading.components[name]) for name in SHOWN_COMPONENTS],
        )
    # The template escapes what it inserts; the result is safe HTML as rendered.
    return mark_safe(render_to_string("weather/_report_air.html", context))  # noqa: S308
