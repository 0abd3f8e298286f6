"""Small formatting filters: icon files, compass points, UTC offsets, percentages, times
of day on the visitor's clock, Beaufort forces' names."""

from __future__ import annotations

import re
from datetime import datetime

from django import template
from django.utils.translation import pgettext_lazy

from weather.charts import forecast_chart as build_forecast_chart
from weather.conversions import time_of_day
from weather.reports import WeatherReport
from weather.units import Clock

register = template.Library()

_ICON = re.compile(r"^(0[1-4]|09|1[013]|50)[dn]$")
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")
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
def compass(degrees: int) -> str:
    """Name the compass point a wind comes from."""
    return _COMPASS[round(int(degrees) % 360 / 45) % 8]


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
