"""Weather in any unit system from one fetched in metric: one upstream call per place.

OpenWeather answers in the unit system it is asked for, but the conversion is plain
arithmetic (its documentation: standard is kelvin and m/s, metric °C and m/s, imperial
°F and mph), so the app asks in metric only and converts here. Values are rounded to
two decimals, as OpenWeather's are; because the upstream rounds its own unrounded
value and this converts an already rounded one, a converted figure can differ from
what the upstream would have sent by 0.01 or 0.02 (never on the page, which shows whole
degrees and one decimal of speed, except at an exact .5 boundary).
"""

from __future__ import annotations

from dataclasses import replace
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TypeVar

from weather.clients.schema import Conditions, Forecast, ForecastStep
from weather.units import Units

FETCHED_UNITS = Units.METRIC

_ZERO_CELSIUS_IN_KELVIN = Decimal("273.15")
_METRES_PER_SECOND_PER_MPH = Decimal("0.44704")  # exact: 1 mph = 1609.344 m / 3600 s
_HUNDREDTH = Decimal("0.01")

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
