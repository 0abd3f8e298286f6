"""Small formatting filters: icon files, compass points, UTC offsets, percentages, times
of day on the visitor's clock, Beaufort forces' names."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.conf import settings
from django.utils.translation import get_language, pgettext_lazy

from weather.charts import forecast_chart as build_forecast_chart
from weather.conditions import Reading, describe_reading
from weather.conversions import time_of_day
from weather.models import Place
from weather.reports import WeatherReport
from weather.units import Clock

register = template.Library()

_ICON = re.compile(r"^(0[1-4]|09|1[013]|50)[dn]$")
_COMPASS = (
    pgettext_lazy("compass point", "N"),
    pgettext_lazy("compass point", "NE"),
    pgettext_lazy("compass point", "E"),
    pgettext_lazy("compass point", "SE"),
    pgettext_lazy("compass point", "S"),
    pgettext_lazy("compass point", "SW"),
    pgettext_lazy("compass point", "W"),
    pgettext_lazy("compass point", "NW"),
)
# The WMO's names of the Beaufort forces 0 to 12 (see conversions.py for the table).
_BEAUFORT_NAMES = (
    pgettext_lazy("Beaufort force 0", "Calm"),
    pgettext_lazy("Beaufort force 1", "Light air"),
    pgettext_lazy("Beaufort force 2", "Light breeze"),
    pgettext_lazy("Beaufort force 3", "Gentle breeze"),
    pgettext_lazy("Beaufort force 4", "Moderate breeze"),
    pgettext_lazy("Beaufort force 5", "Fresh breeze"),
    pgettext_lazy("Beaufort force 6", "Strong breeze"),
    pgettext_lazy("Beaufort force 7", "Near gale"),
    pgettext_lazy("Beaufort force 8", "Gale"),
    pgettext_lazy("Beaufort force 9", "Strong gale"),
    pgettext_lazy("Beaufort force 10", "Storm"),
    pgettext_lazy("Beaufort force 11", "Violent storm"),
    pgettext_lazy("Beaufort force 12", "Hurricane"),
)


@register.filter
def icon_path(code: str) -> str:
    """Map an OpenWeather icon code (e.g. "10d") to one of the app's own SVG files."""
    code = str(code)
    return f"weather/icons/{code}.svg" if _ICON.match(code) else "weather/icons/03d.svg"


@register.filter
def condition(reading: Reading) -> str:
    """A reading's conditions in the page's language ("Leichter Regen")."""
    return describe_reading(reading)


def _translated() -> str | None:
    """The page's language, None for English: English pages keep the geocoder's own
    name ("Zürich", not its English "Zurich"), as they always have."""
    language = get_language()
    return None if language == settings.LANGUAGE_CODE else language


@register.filter
def place_name(place: Place) -> str:
    """The place's name in the page's language, when the geocoder gave one."""
    return place.name_in(language) if (language := _translated()) else place.name


@register.filter
def place_label(place: Place) -> str:
    """Name (in the page's language), state and country: "München, Bavaria, DE"."""
    return place.label_in(language) if (language := _translated()) else place.label


@register.filter
def compass(degrees: int) -> str:
    """Name the compass point a wind comes from."""
    return str(_COMPASS[round(int(degrees) % 360 / 45) % 8])


@register.filter
def utc_offset(seconds: int) -> str:
    """Format an offset in seconds as "+05:30" (empty for UTC itself)."""
    seconds = int(seconds)
    if seconds == 0:
        return ""
    sign = "+" if seconds > 0 else "−"
    hours, minutes = divmod(abs(seconds) // 60, 60)
    return f"{sign}{hours:02d}:{minutes:02d}"


@register.filter
def percent(fraction: float) -> str:
    """Format 0.42 as "42 %"."""
    return f"{round(float(fraction) * 100)} %"


@register.filter
def signed(value: float) -> str:
    """Round to a whole number, written with a true minus sign (U+2212) below zero."""
    return f"{round(float(value)):d}".replace("-", "−")


@register.filter
def beaufort_name(force: int) -> str:
    """Name a Beaufort force: 5 is "Fresh breeze"."""
    return str(_BEAUFORT_NAMES[min(max(int(force), 0), 12)])


@register.filter(expects_localtime=True)
def clock_time(value: datetime, clock: str) -> str:
    """A time of day on the visitor's clock ("24h" or "12h"): 13:05 or 1:05 PM."""
    return time_of_day(at=value, clock=Clock(clock) if clock in Clock.values else Clock.H24)


@register.inclusion_tag("weather/_forecast_chart.html")
def forecast_chart(
    report: WeatherReport, labels: dict[str, str], clock: str = Clock.H24
) -> dict[str, object]:
    """Draw the 5-day forecast as inline SVG, with a table of the same data."""
    return {
        "chart": build_forecast_chart(forecast=report.forecast, current=report.current),
        "labels": labels,
        "clock": clock,
    }
