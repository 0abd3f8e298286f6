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
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest

from tests.fakes import bodies
from tests.fakes.places import PLACES
from weather.clients.schema import parse_conditions, parse_forecast
from weather.conversions import (
    beaufort_force,
    in_units,
    time_of_day,
    to_metres_per_second,
    to_metric_celsius,
    wind_from,
    wind_in,
)
from weather.units import Clock, Units, WindUnit

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


@pytest.mark.parametrize(
    ("metres_per_second", "unit", "expected"),
    [(10, WindUnit.MS, 10), (10, WindUnit.KMH, 36.0), (1, WindUnit.KMH, 3.6),
     (0.44704, WindUnit.MPH, 1.0), (10, WindUnit.MPH, 22.37),
     (1852 / 3600, WindUnit.KNOTS, 1.0), (10, WindUnit.KNOTS, 19.44),
     (0, WindUnit.KNOTS, 0.0), (8.5, WindUnit.BEAUFORT, 5)],
)  # fmt: skip
def test_a_wind_speed_in_each_unit(metres_per_second, unit, expected):
    assert wind_in(metres_per_second=metres_per_second, unit=unit) == expected


# The WMO's Beaufort scale (WMO-No. 8, Volume I, chapter 5): each force's speeds in m/s.
WMO_BEAUFORT = [
    (0, "0.0", "0.2"), (1, "0.3", "1.5"), (2, "1.6", "3.3"), (3, "3.4", "5.4"),
    (4, "5.5", "7.9"), (5, "8.0", "10.7"), (6, "10.8", "13.8"), (7, "13.9", "17.1"),
    (8, "17.2", "20.7"), (9, "20.8", "24.4"), (10, "24.5", "28.4"), (11, "28.5", "32.6"),
]  # fmt: skip


@pytest.mark.parametrize(("force", "lowest", "highest"), WMO_BEAUFORT)
def test_each_beaufort_force_spans_the_speeds_of_the_wmo_table(force, lowest, highest):
    def above(step: str) -> float:
        return float(Decimal(highest) + Decimal(step))  # 3.3 + 0.05 is 3.35, not 3.3499...

    assert beaufort_force(metres_per_second=float(lowest)) == force
    assert beaufort_force(metres_per_second=float(highest)) == force
    # The table is in tenths: halfway to the next tenth belongs to the next force.
    assert beaufort_force(metres_per_second=above("0.04")) == force
    assert beaufort_force(metres_per_second=above("0.05")) == force + 1
    assert beaufort_force(metres_per_second=above("0.1")) == force + 1


def test_hurricane_force_has_no_upper_bound():
    assert beaufort_force(metres_per_second=32.7) == 12
    assert beaufort_force(metres_per_second=80.0) == 12


def test_a_speed_in_mph_is_read_as_the_m_s_it_came_from():
    # 10.8 m/s (force 6) is 24.16 mph once rounded, which comes back as 10.80 m/s.
    assert wind_from(speed=24.16, units=Units.IMPERIAL, unit=WindUnit.BEAUFORT) == 6
    assert wind_from(speed=24.16, units=Units.IMPERIAL, unit=WindUnit.KMH) == 38.88
    assert wind_from(speed=10.8, units=Units.STANDARD, unit=WindUnit.KNOTS) == 20.99


@pytest.mark.parametrize(
    ("hour", "minute", "clock", "expected"),
    [(0, 0, Clock.H24, "00:00"), (0, 0, Clock.H12, "12:00 AM"),
     (0, 5, Clock.H12, "12:05 AM"), (12, 0, Clock.H24, "12:00"),
     (12, 0, Clock.H12, "12:00 PM"), (13, 5, Clock.H24, "13:05"),
     (13, 5, Clock.H12, "1:05 PM"), (23, 59, Clock.H12, "11:59 PM"),
     (9, 30, Clock.H12, "9:30 AM"), (9, 30, Clock.H24, "09:30")],
)  # fmt: skip
def test_a_time_of_day_on_each_clock(hour, minute, clock, expected):
    at = datetime(2026, 3, 1, hour, minute, tzinfo=UTC)
    assert time_of_day(at=at, clock=clock) == expected


def test_a_time_of_day_is_read_in_its_own_offset():
    at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=5)))
    assert time_of_day(at=at, clock=Clock.H12) == "4:30 AM"
