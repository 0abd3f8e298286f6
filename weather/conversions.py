"""Weather in any unit system from one fetched in metric: one upstream call per place.

OpenWeather answers in the unit system it is asked for, but the conversion is plain
arithmetic (its documentation: standard is kelvin and m/s, metric °C and m/s, imperial
°F and mph), so the app asks in metric only and converts here. Values are rounded to
two decimals, as OpenWeather's are; because the upstream rounds its own unrounded
value and this converts an already rounded one, a converted figure can differ from
what the upstream would have sent by 0.01 or 0.02 (never on the page, which shows whole
degrees and one decimal of speed, except at an exact .5 boundary).

The wind unit and the clock a visitor reads in are also arithmetic on the same stored
values: ``wind_in`` and ``time_of_day``.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import replace
from datetime import datetime
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal
from typing import TypeVar

from django.utils.dateformat import time_format

from weather.clients.schema import Conditions, Forecast, ForecastStep
from weather.units import Clock, Units, WindUnit

FETCHED_UNITS = Units.METRIC

_ZERO_CELSIUS_IN_KELVIN = Decimal("273.15")
_METRES_PER_SECOND_PER_MPH = Decimal("0.44704")  # exact: 1 mph = 1609.344 m / 3600 s
_HUNDREDTH = Decimal("0.01")
_TENTH = Decimal("0.1")
_KMH_PER_METRE_PER_SECOND = Decimal("3.6")  # exact: 3600 s / 1000 m
_METRES_PER_NAUTICAL_MILE = Decimal(1852)  # exact, by definition; a knot is 1852 m/h
_SECONDS_PER_HOUR = Decimal(3600)

# The lowest speed of each Beaufort force from 1 to 12, in m/s at 10 m above the
# ground, from the WMO's table of the Beaufort scale: WMO-No. 8, "Guide to Instruments
# and Methods of Observation", Volume I, chapter 5 (Measurement of surface wind):
#   force  0 calm 0-0.2, 1 light air 0.3-1.5, 2 light breeze 1.6-3.3,
#   3 gentle breeze 3.4-5.4, 4 moderate breeze 5.5-7.9, 5 fresh breeze 8.0-10.7,
#   6 strong breeze 10.8-13.8, 7 near gale 13.9-17.1, 8 gale 17.2-20.7,
#   9 strong gale 20.8-24.4, 10 storm 24.5-28.4, 11 violent storm 28.5-32.6,
#   12 hurricane 32.7 and above.
_BEAUFORT_LOWEST = tuple(
    Decimal(speed)
    for speed in (
        "0.3", "1.6", "3.4", "5.5", "8.0", "10.8", "13.9", "17.2", "20.8", "24.5", "28.5", "32.7"
    )
)  # fmt: skip
_CLOCK_FORMATS = {Clock.H24: "H:i", Clock.H12: "g:i A"}  # 00:05 / 12:05 AM

_Reading = TypeVar("_Reading", Conditions, ForecastStep)


def _round(value: Decimal) -> float:
    return float(value.quantize(_HUNDREDTH, rounding=ROUND_HALF_EVEN))


def temperature(celsius: float, units: Units) -> float:
    """``celsius`` in ``units``' temperature scale, to two decimals."""
    value = Decimal(str(celsius))
    if units == Units.IMPERIAL:
        return _round(value * 9 / 5 + 32)
    if units == Units.STANDARD:
        return _round(value + _ZERO_CELSIUS_IN_KELVIN)
    return celsius


def speed(metres_per_second: float, units: Units) -> float:
    """A speed in m/s in ``units``' (mph for imperial), to two decimals."""
    if units == Units.IMPERIAL:
        return _round(Decimal(str(metres_per_second)) / _METRES_PER_SECOND_PER_MPH)
    return metres_per_second


def _converted(reading: _Reading, units: Units) -> _Reading:
    return replace(
        reading,
        temp=temperature(reading.temp, units),
        feels_like=temperature(reading.feels_like, units),
        temp_min=temperature(reading.temp_min, units),
        temp_max=temperature(reading.temp_max, units),
        wind_speed=speed(reading.wind_speed, units),
    )


def in_units(current: Conditions, forecast: Forecast, units: Units) -> tuple[Conditions, Forecast]:
    """Current conditions and a forecast fetched in ``FETCHED_UNITS``, in ``units``."""
    if units == FETCHED_UNITS:
        return current, forecast
    steps = tuple(_converted(step, units) for step in forecast.steps)
    return _converted(current, units), replace(forecast, steps=steps)


def to_metric_celsius(value: float, units: Units) -> float:
    """A temperature stored in ``units``, in °C (what a stored lookup is migrated to)."""
    number = Decimal(str(value))
    if units == Units.IMPERIAL:
        return _round((number - 32) * 5 / 9)
    if units == Units.STANDARD:
        return _round(number - _ZERO_CELSIUS_IN_KELVIN)
    return value


def to_metres_per_second(value: float, units: Units) -> float:
    """A speed stored in ``units``, in m/s."""
    if units == Units.IMPERIAL:
        return _round(Decimal(str(value)) * _METRES_PER_SECOND_PER_MPH)
    return value


def beaufort_force(*, metres_per_second: float) -> int:
    """The Beaufort force (0 to 12) of a wind speed in m/s.

    The table gives its speeds to a tenth of a m/s, so a speed is read to the nearest
    tenth first: 0.24 m/s is calm (force 0), 0.25 m/s a light air (force 1).
    """
    tenths = Decimal(str(metres_per_second)).quantize(_TENTH, rounding=ROUND_HALF_UP)
    return bisect_right(_BEAUFORT_LOWEST, tenths)


def wind_in(*, metres_per_second: float, unit: WindUnit) -> float:
    """A wind speed in m/s in ``unit``, to two decimals; in Beaufort, its force."""
    value = Decimal(str(metres_per_second))
    if unit == WindUnit.KMH:
        return _round(value * _KMH_PER_METRE_PER_SECOND)
    if unit == WindUnit.MPH:
        return _round(value / _METRES_PER_SECOND_PER_MPH)
    if unit == WindUnit.KNOTS:
        return _round(value * _SECONDS_PER_HOUR / _METRES_PER_NAUTICAL_MILE)
    if unit == WindUnit.BEAUFORT:
        return beaufort_force(metres_per_second=metres_per_second)
    return metres_per_second


def wind_from(*, speed: float, units: Units, unit: WindUnit) -> float:
    """A wind speed of a report in ``units`` (see ``speed``), in ``unit``.

    Back to m/s first: the upstream's m/s have two decimals, and a speed converted to
    mph and rounded to the hundredth comes back to exactly them (within 0.0023 m/s).
    """
    return wind_in(metres_per_second=to_metres_per_second(speed, units), unit=unit)


def time_of_day(*, at: datetime, clock: Clock) -> str:
    """``at``'s time on ``clock``: 13:05 or 1:05 PM; midnight is 00:00 or 12:00 AM."""
    return time_format(at, _CLOCK_FORMATS[clock])
