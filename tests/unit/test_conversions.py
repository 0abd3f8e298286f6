"""Units converted locally from the one fetch in metric, against what the upstream sends.

The reference is the fake OpenWeather's own arithmetic (tests/fakes/bodies.py), which
follows OpenWeather's documented units: standard is kelvin and m/s, metric °C and m/s,
imperial °F and mph; it converts unrounded readings and rounds to two decimals, as the
upstream does, so the app's conversion of an already rounded value may differ by 0.02.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import fields, replace
from typing import Any

import pytest

from tests.fakes import bodies
from tests.fakes.places import PLACES
from weather.clients.schema import parse_conditions, parse_forecast
from weather.conversions import in_units, to_metres_per_second, to_metric_celsius
from weather.units import Units

NOW = 1_796_000_000.0
WHEN = [NOW + hours * 3600 for hours in (0, 7, 13, 19)]
TOLERANCE = 0.02
CONVERTED = ("temp", "feels_like", "temp_min", "temp_max", "wind_speed")


def _cases() -> Iterator[Any]:
    for place, now, units in itertools.product(PLACES, WHEN, [Units.IMPERIAL, Units.STANDARD]):
        yield pytest.param(place, now, units, id=f"{place.name}-{int(now)}-{units}")


@pytest.mark.parametrize(("place", "now", "units"), list(_cases()))
def test_a_conversion_matches_what_the_upstream_sends_in_those_units(place, now, units):
    fetched = (
        parse_conditions(bodies.current_weather(place.lat, place.lon, "metric", now)),
        parse_forecast(bodies.forecast(place.lat, place.lon, "metric", now)),
    )
    upstream = (
        parse_conditions(bodies.current_weather(place.lat, place.lon, units, now)),
        parse_forecast(bodies.forecast(place.lat, place.lon, units, now)),
    )
    current, forecast = in_units(*fetched, units)
    pairs: list[tuple[Any, Any]] = [
        (current, upstream[0]),
        *zip(forecast.steps, upstream[1].steps, strict=True),
    ]
    for mine, theirs in pairs:
        for name in CONVERTED:
            assert getattr(mine, name) == pytest.approx(getattr(theirs, name), abs=TOLERANCE)
        # Everything else is what the upstream sent, unchanged.
        unchanged = {f.name for f in fields(mine)} - set(CONVERTED)
        assert {n: getattr(mine, n) for n in unchanged} == {
            n: getattr(theirs, n) for n in unchanged
        }


@pytest.mark.parametrize(
    ("celsius", "units", "expected"),
    [(0, Units.IMPERIAL, 32.0), (-40, Units.IMPERIAL, -40.0), (36.6, Units.IMPERIAL, 97.88),
     (0, Units.STANDARD, 273.15), (-100, Units.STANDARD, 173.15), (4.17, Units.METRIC, 4.17)],
)  # fmt: skip
def test_fixed_points_of_the_scales(celsius, units, expected):
    current = parse_conditions(bodies.current_weather(51.5, -0.13, "metric", NOW))
    forecast = parse_forecast(bodies.forecast(51.5, -0.13, "metric", NOW))
    converted, _ = in_units(replace(current, temp=celsius), forecast, units)
    assert converted.temp == expected


def test_mph_and_back_are_exact_to_the_hundredth():
    current = parse_conditions(bodies.current_weather(51.5, -0.13, "metric", NOW))
    forecast = parse_forecast(bodies.forecast(51.5, -0.13, "metric", NOW))
    converted, _ = in_units(replace(current, wind_speed=10.0), forecast, Units.IMPERIAL)
    assert converted.wind_speed == 22.37  # 10 / 0.44704
    assert to_metres_per_second(22.37, Units.IMPERIAL) == 10.0
    assert to_metric_celsius(97.88, Units.IMPERIAL) == 36.6
    assert to_metric_celsius(273.15, Units.STANDARD) == 0.0
