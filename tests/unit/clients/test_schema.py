"""OpenWeather's answers are validated where they enter: by the dataclasses themselves."""

from __future__ import annotations

import math
from dataclasses import asdict, replace
from typing import Any

import pytest

from tests.factories import conditions, forecast
from tests.unit import payloads
from weather.clients.schema import (
    MAX_FORECAST_SPAN,
    MAX_FORECAST_STEPS,
    Conditions,
    Forecast,
    GeoPlace,
    parse_conditions,
    parse_forecast,
    parse_geo_place,
)


def current_body(**changes: Any) -> dict[str, Any]:
    return {**payloads.CURRENT, **changes}


@pytest.mark.parametrize(
    ("lat", "lon"), [(12345.678, 0), (0, -999), (math.nan, 0), (91, 0), (0, 180.5)]
)
def test_coordinates_out_of_range_are_refused(lat, lon):
    with pytest.raises(ValueError, match="outside"):
        GeoPlace(name="X", country="GB", lat=lat, lon=lon)


def test_text_loses_control_characters_and_codes_must_be_what_they_say():
    place = parse_geo_place(
        {
            "name": "Lon\x00don\x1b[31m",
            "country": "G\x00B",
            "state": "Eng\u0085land",
            "lat": 51.5,
            "lon": -0.1,
            "local_names": {"fr": "Lon\x07dres", "xx": 5, "de\x00": "London"},
        }
    )
    assert (place.name, place.country, place.state) == ("London[31m", "GB", "England")
    assert place.local_names == {"fr": "Londres", "de": "London"}
    assert parse_geo_place({"name": "X", "country": "Ü1", "lat": 0, "lon": 0}).country == ""
    assert parse_geo_place({"name": "X", "country": "gbr", "lat": 0, "lon": 0}).country == ""


def test_a_place_without_a_usable_name_is_refused():
    with pytest.raises(ValueError, match="name"):
        parse_geo_place({"name": "\x00\x01", "lat": 0, "lon": 0})


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("temp", "hot"),
        ("temp", 1e308),
        ("temp", 10**400),  # a JSON integer too large for a float
        ("humidity", -(10**400)),
        ("temp", True),
        ("humidity", 250),
        ("pressure", -3),
        ("feels_like", None),
    ],
)
def test_numbers_must_be_finite_numbers_in_range(field, value):
    body = current_body(main={**payloads.CURRENT["main"], field: value})
    with pytest.raises((TypeError, ValueError)):
        parse_conditions(body)


def test_humidity_and_pressure_are_rounded_not_truncated():
    main = {**payloads.CURRENT["main"], "humidity": 76.6, "pressure": 1012.7}
    parsed = parse_conditions(current_body(main=main))
    assert (parsed.humidity, parsed.pressure) == (77, 1013)


def test_odd_icons_and_station_text_are_cleaned_not_shown():
    weather = [{**payloads.CURRENT["weather"][0], "icon": "../../etc", "main": "Rain\x00"}]
    parsed = parse_conditions(current_body(weather=weather, name="Stat\x00ion"))
    assert (parsed.icon, parsed.main, parsed.station_name) == ("", "Rain", "Station")


def test_without_a_utc_offset_the_offset_is_unknown_not_zero():
    body = current_body()
    del body["timezone"]
    assert parse_conditions(body).timezone_offset is None
    assert parse_forecast({**payloads.FORECAST, "city": {}}).timezone_offset is None


def test_polar_night_has_no_sunrise_or_sunset():
    parsed = parse_conditions(current_body(sys={"country": "NO", "sunrise": 0, "sunset": 0}))
    assert (parsed.sunrise, parsed.sunset) == (None, None)


def test_a_step_without_pop_says_so_and_keeps_its_volumes():
    steps = [{k: v for k, v in step.items() if k != "pop"} for step in payloads.FORECAST["list"]]
    steps[0] = {**steps[0], "rain": {"3h": 2.5}}
    parsed = parse_forecast({**payloads.FORECAST, "list": steps})
    assert parsed.steps[0].pop is None
    assert parsed.steps[0].precipitation_mm == 2.5


def test_duplicate_and_unordered_steps_are_put_in_time_order_once():
    first, second, third = forecast().steps[:3]
    parsed = Forecast(timezone_offset=0, steps=(third, first, replace(first, temp=99.0), second))
    assert [step.at for step in parsed.steps] == [first.at, second.at, third.at]
    assert parsed.steps[0].temp == first.temp  # the first of the two at one time


def test_a_stored_payload_is_checked_as_an_answer_is():
    stored = asdict(conditions())
    assert Conditions(**stored) == conditions()
    with pytest.raises(ValueError, match="outside"):
        Conditions(**{**stored, "temp": 1e308})


def test_steps_far_from_the_others_are_dropped_whatever_their_order():
    real = list(forecast().steps)
    past = replace(real[0], at=0)  # 1970
    future = replace(real[0], at=4_102_444_800)  # 2100
    parsed = Forecast(timezone_offset=0, steps=(past, *real, future))
    assert [step.at for step in parsed.steps] == [step.at for step in real]
    assert parsed.steps[-1].at - parsed.steps[0].at <= MAX_FORECAST_SPAN


def test_a_forecast_keeps_at_most_its_share_of_steps():
    first = forecast().steps[0]
    hourly = tuple(replace(first, at=first.at + i * 600) for i in range(500))
    parsed = Forecast(timezone_offset=0, steps=hourly)
    assert len(parsed.steps) == MAX_FORECAST_STEPS
    assert parsed.steps[0].at == first.at
