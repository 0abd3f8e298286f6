"""Real OpenWeather answers (tests/fixtures/openweather, provenance in SOURCES.md) through
the client and the dashboard, with HTTP stubbed at the transport (requests-mock): no
request leaves the process.

Every fixture file must be listed in ``BODIES`` with the endpoint that sent it and what
the client must make of it, so a body added without a verdict fails the suite.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.unit.clients.conftest import BASE
from tests.unit.conftest import UPSTREAM
from weather.clients.air_schema import AirPollution
from weather.clients.openweather import OpenWeatherClient
from weather.clients.schema import Conditions, Forecast, GeoPlace
from weather.errors import (
    InvalidApiKey,
    OpenWeatherError,
    PlaceNotFound,
    UpstreamRateLimited,
    UpstreamUnavailable,
)
from weather.units import Units

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "openweather"
PATHS = {
    "geo": "/geo/1.0/direct",
    "weather": "/data/2.5/weather",
    "forecast": "/data/2.5/forecast",
    "air": "/data/2.5/air_pollution",
}
# What each endpoint answers while a page is rendered for a body of the other one.
ORDINARY_ANSWER = {
    "weather": "weather_owmcr_mississauga_2021.json",
    "forecast": "forecast_owmcr_mississauga_2021.json",
}


@dataclass(frozen=True)
class Body:
    endpoint: str  # "geo", "weather", "forecast" or "air"
    error: type[OpenWeatherError] | None = None  # None: a success body
    status: int = 200
    # Facts about the parsed result that this body exists to pin down.
    check: Callable[[Any], bool] = field(default=lambda result: True)


def no_sun(c: Conditions) -> bool:
    """Polar night or day: OpenWeather sends 0 for "no sunrise", not 1 January 1970."""
    return c.sunrise is None and c.sunset is None


def no_sun_no_offset(c: Conditions) -> bool:
    """As no_sun, from an older answer without a UTC offset: unknown, not UTC."""
    return no_sun(c) and c.timezone_offset is None


def empty_blocks_are_dry(f: Forecast) -> bool:
    """An empty ``snow: {}`` block is no snow, not an error; a full one keeps its amount;
    an answer without ``pop`` says so (None), not "0 %"."""
    return f.steps[0].snow_mm == 0.559 and f.steps[11].snow_mm == 0 and f.steps[11].pop is None


BODIES: dict[str, Body] = {
    "weather_docs_zocca_rain_1h.json": Body("weather"),
    "weather_owmcr_mississauga_2021.json": Body("weather"),
    "weather_owmcr_tromso_polar_night_2018.json": Body("weather", check=no_sun_no_offset),
    "weather_pyowm_london_2013.json": Body("weather"),
    "weather_barents_sea_no_name_no_country_2023.json": Body(
        "weather", check=lambda c: no_sun(c) and c.station_name == "" and c.country == ""
    ),
    "weather_bikeweather_london_empty_rain_2019.json": Body("weather"),
    "weather_owmjapis_tallahassee_rain_3h_2015.json": Body("weather"),
    "weather_owmjapis_amsterdam_rain_1h_snow_3h_2015.json": Body("weather"),
    "forecast_owmcr_mississauga_2021.json": Body("forecast"),
    "forecast_owmcr_mississauga_2018_no_pop.json": Body("forecast", check=empty_blocks_are_dry),
    "forecast_pyowm_bethnal_green_2014.json": Body("forecast"),
    "forecast_programmatordev_chiado_2023.json": Body("forecast"),
    "geo_pyowm_london_without_state.json": Body(
        "geo", check=lambda places: [p.state for p in places[:2]] == ["", ""]
    ),
    "geo_programmatordev_lisbon_without_state.json": Body(
        "geo", check=lambda places: places[0].state == "" and places[0].country == "PT"
    ),
    "air_pollution_rakibdevs_dhaka_2021.json": Body(
        "air", check=lambda a: (a.aqi, a.components["pm2_5"], a.components["no"]) == (3, 18.4, 0)
    ),
    "air_pollution_owmstartup_delft_2025.json": Body(
        "air", check=lambda a: (a.aqi, a.measured_at, len(a.components)) == (2, 1755800000, 8)
    ),
    "air_pollution_skypulse_kyiv_2024.json": Body(
        "air", check=lambda a: (a.aqi, a.components["o3"], a.components["no2"]) == (3, 62.44, 14.82)
    ),
    "error_401_wego_invalid_api_key.json": Body("forecast", InvalidApiKey, 401),
    "error_404_city_not_found_cod_string.json": Body("weather", PlaceNotFound, 404),
    "error_404_pyowm_not_found_city.json": Body("weather", PlaceNotFound, 404),
    "error_429_meteoqt_account_blocked.json": Body("forecast", UpstreamRateLimited, 429),
    "error_400_owmcr_nothing_to_geocode.json": Body("geo", UpstreamUnavailable, 400),
}

# Bodies the code mishandles today: xfail(strict) names the symptom, so a fix shows up
# as an unexpected pass and the mark has to go.
KNOWN_CLIENT_FAILURES: dict[str, str] = {}
KNOWN_PAGE_FAILURES: dict[str, str] = {}


def load(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def params(names: list[str], known: dict[str, str]) -> list[Any]:
    return [
        pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=known[name]))
        if name in known
        else name
        for name in names
    ]


def test_every_fixture_file_has_a_verdict():
    on_disk = {path.name for path in FIXTURES.glob("*.json")}
    assert on_disk == set(BODIES)


def test_no_fixture_holds_an_api_key():
    for path in FIXTURES.iterdir():
        assert not re.search(r"appid=(?!\{)", path.read_text(encoding="utf-8"), re.IGNORECASE)


def call(owm: OpenWeatherClient, endpoint: str) -> Any:
    if endpoint == "geo":
        return owm.geocode("London")
    if endpoint == "weather":
        return owm.current(lat=51.51, lon=-0.13, units=Units.METRIC)
    if endpoint == "air":
        return owm.air_pollution(lat=51.51, lon=-0.13)
    return owm.forecast(lat=51.51, lon=-0.13, units=Units.METRIC)


@pytest.mark.parametrize("name", params(sorted(BODIES), KNOWN_CLIENT_FAILURES))
def test_the_client_reads_each_real_body(owm, transport, name):
    body = BODIES[name]
    transport.register_uri(
        "GET", BASE + PATHS[body.endpoint], status_code=body.status, json=load(name)
    )
    if body.error is not None:
        with pytest.raises(body.error):
            call(owm, body.endpoint)
        return
    result = call(owm, body.endpoint)
    if body.endpoint == "geo":
        assert result
        assert all(isinstance(place, GeoPlace) for place in result)
    elif body.endpoint == "weather":
        assert isinstance(result, Conditions)
    elif body.endpoint == "air":
        assert isinstance(result, AirPollution)
    else:
        assert isinstance(result, Forecast)
        assert result.steps
    assert body.check(result)


def test_a_rejected_key_is_read_again_once_before_giving_up(owm, transport):
    transport.register_uri(
        "GET",
        BASE + PATHS["forecast"],
        status_code=401,
        json=load("error_401_wego_invalid_api_key.json"),
    )
    with pytest.raises(InvalidApiKey):
        call(owm, "forecast")
    assert owm.keys.invalidations == 1
    assert transport.call_count == 2


def coordinates(body: dict[str, Any]) -> tuple[float, float]:
    """Where the body says it is, so the page asks for the point the answer describes."""
    coord = body.get("coord") or (body.get("city") or {}).get("coord") or {}
    return float(coord.get("lat", 51.51)), float(coord.get("lon", -0.13))


PAGE_BODIES = sorted(
    n for n, b in BODIES.items() if b.error is None and b.endpoint in ("weather", "forecast")
)


@pytest.mark.django_db
@pytest.mark.parametrize("name", params(PAGE_BODIES, KNOWN_PAGE_FAILURES))
def test_the_dashboard_renders_each_real_body(client, stubbed_services, name):
    endpoint = BODIES[name].endpoint
    answers = {endpoint: load(name)}
    other = "forecast" if endpoint == "weather" else "weather"
    answers[other] = load(ORDINARY_ANSWER[other])
    for which, answer in answers.items():
        stubbed_services.get(
            re.compile(rf"{re.escape(UPSTREAM)}{re.escape(PATHS[which])}\?.*"), json=answer
        )
    lat, lon = coordinates(answers["weather"])
    response = client.get("/", {"lat": f"{lat:.4f}", "lon": f"{lon:.4f}"})
    assert response.status_code == 200
    upstream = [
        r.path for r in stubbed_services.request_history if r.hostname == "upstream.invalid"
    ]
    # Air quality too (the stubbed services' own answer), after the weather.
    assert sorted(upstream) == sorted([*(PATHS[which] for which in answers), PATHS["air"]])
