"""Tests for the fake OpenWeather server in ``tests.fakes.openweather``.

Other suites trust this fake to behave like the real API, so the response shapes, status
codes, fault injection, control API and log redaction are pinned down here.
"""

from __future__ import annotations

import calendar
import http.client
import itertools
import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.fakes.clock import Clock
from tests.fakes.openweather import PLACES, FakeOpenWeather, Place, sun_times

KEY = "test-key"
REPO_ROOT = Path(__file__).resolve().parents[2]
# A fixed instant keeps values stable within a test; hour buckets make them vary otherwise.
NOW = calendar.timegm((2024, 1, 15, 10, 20, 0))


@pytest.fixture
def clock() -> Clock:
    return Clock(NOW)


@pytest.fixture
def fake(clock: Clock) -> Iterator[FakeOpenWeather]:
    with FakeOpenWeather(clock=clock) as server:
        yield server


def fetch(url: str, *, data: bytes | None = None, timeout: float = 5.0) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method="POST" if data is not None else "GET")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        with exc:
            return exc.code, exc.read()


def call(
    fake: FakeOpenWeather, path: str, appid: str | None = KEY, **params: Any
) -> tuple[int, Any]:
    if appid is not None:
        params["appid"] = appid
    status, body = fetch(f"{fake.base_url}{path}?{urlencode(params)}")
    return status, json.loads(body)


def geocode(fake: FakeOpenWeather, q: str, **params: Any) -> list[dict[str, Any]]:
    status, body = call(fake, "/geo/1.0/direct", q=q, **params)
    assert status == 200, body
    return body


def weather(fake: FakeOpenWeather, lat: float, lon: float, **params: Any) -> dict[str, Any]:
    status, body = call(fake, "/data/2.5/weather", lat=lat, lon=lon, **params)
    assert status == 200, body
    return body


def forecast(fake: FakeOpenWeather, lat: float, lon: float, **params: Any) -> dict[str, Any]:
    status, body = call(fake, "/data/2.5/forecast", lat=lat, lon=lon, **params)
    assert status == 200, body
    return body


def control(fake: FakeOpenWeather, action: str, body: Any = None) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else b"" if action == "reset" else None
    status, raw = fetch(f"{fake.base_url}/__fake__/{action}", data=data)
    return status, json.loads(raw)


# -- geocoding -------------------------------------------------------------------------------


def test_geocode_london_ranks_best_known_first(fake: FakeOpenWeather) -> None:
    results = geocode(fake, "London")
    assert [(r["country"], r.get("state")) for r in results] == [
        ("GB", "England"),
        ("CA", "Ontario"),
        ("US", "Kentucky"),
    ]
    first = results[0]
    assert set(first) == {"name", "local_names", "lat", "lon", "country", "state"}
    assert (first["lat"], first["lon"]) == (51.5073, -0.1276)
    assert first["local_names"]["fr"] == "Londres"
    assert first["local_names"]["ja"] == "ロンドン"


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("London,US", [("US", "Kentucky")]),
        ("london,gb", [("GB", "England")]),
        ("London,ON,CA", [("CA", "Ontario")]),
        ("Springfield,IL,US", [("US", "Illinois")]),
        ("Springfield,Illinois,US", [("US", "Illinois")]),
        ("Paris,US", [("US", "Texas")]),
        ("London,FR", []),
        ("Springfield,TX,US", []),
    ],
)
def test_geocode_filters_by_country_and_state(
    fake: FakeOpenWeather, q: str, expected: list[tuple[str, str]]
) -> None:
    assert [(r["country"], r["state"]) for r in geocode(fake, q)] == expected


@pytest.mark.parametrize(
    ("q", "country", "name"),
    [
        ("東京", "JP", "Tokyo"),
        ("Zurich", "CH", "Zürich"),
        ("zürich", "CH", "Zürich"),
        ("ZÜRICH", "CH", "Zürich"),
        ("Kraków", "PL", "Kraków"),
        ("Krakow", "PL", "Kraków"),
        ("São Paulo", "BR", "São Paulo"),
        ("Londres", "GB", "London"),
        ("  Reykjavik ", "IS", "Reykjavík"),
    ],
)
def test_geocode_matches_local_names_case_insensitively(
    fake: FakeOpenWeather, q: str, country: str, name: str
) -> None:
    results = geocode(fake, q)
    assert [(r["country"], r["name"]) for r in results] == [(country, name)]


def test_geocode_unknown_place_is_empty_list_with_200(fake: FakeOpenWeather) -> None:
    assert geocode(fake, "Atlantis") == []
    assert geocode(fake, "Lond") == []  # no prefix matching, like the real API


@pytest.mark.parametrize("q", ["", "   "])
def test_geocode_without_query_is_400(fake: FakeOpenWeather, q: str) -> None:
    assert call(fake, "/geo/1.0/direct", q=q) == (
        400,
        {"cod": "400", "message": "Nothing to geocode"},
    )
    assert call(fake, "/geo/1.0/direct")[0] == 400


def test_geocode_limit_and_optional_fields(fake: FakeOpenWeather) -> None:
    assert [r["country"] for r in geocode(fake, "London", limit=1)] == ["GB"]
    assert len(geocode(fake, "London", limit=50)) == 3
    springfields = geocode(fake, "Springfield")
    assert [r["state"] for r in springfields] == ["Missouri", "Massachusetts", "Illinois"]
    assert all("local_names" not in r for r in springfields)
    tokyo = geocode(fake, "Tokyo")[0]
    assert "state" not in tokyo
    assert tokyo["local_names"] == {"ja": "東京", "en": "Tokyo"}


# -- current weather -------------------------------------------------------------------------


def test_weather_has_openweather_shape(fake: FakeOpenWeather) -> None:
    body = weather(fake, 51.5073, -0.1276, units="metric")
    assert body["cod"] == 200
    assert body["name"] == "London"
    assert body["id"] == 2643743
    assert body["timezone"] == 0
    assert body["base"] == "stations"
    assert body["coord"] == {"lon": -0.1276, "lat": 51.5073}
    assert set(body["main"]) == {
        "temp",
        "feels_like",
        "temp_min",
        "temp_max",
        "pressure",
        "humidity",
        "sea_level",
        "grnd_level",
    }
    assert set(body["wind"]) == {"speed", "deg", "gust"}
    assert set(body["sys"]) == {"country", "sunrise", "sunset"}
    assert body["sys"]["country"] == "GB"
    assert 0 <= body["clouds"]["all"] <= 100
    assert 0 < body["visibility"] <= 10000
    assert body["dt"] <= NOW
    assert NOW - body["dt"] < 600
    (condition,) = body["weather"]
    assert set(condition) == {"id", "main", "description", "icon"}
    assert body["main"]["temp_min"] <= body["main"]["temp"] <= body["main"]["temp_max"]
    assert -25 < body["main"]["temp"] < 25  # London in January


def test_units_convert_consistently(fake: FakeOpenWeather) -> None:
    metric = weather(fake, 48.8589, 2.32, units="metric")
    imperial = weather(fake, 48.8589, 2.32, units="imperial")
    standard = weather(fake, 48.8589, 2.32, units="standard")
    for field in ("temp", "feels_like", "temp_min", "temp_max"):
        c = metric["main"][field]
        assert imperial["main"][field] == pytest.approx(c * 9 / 5 + 32, abs=0.02)
        assert standard["main"][field] == pytest.approx(c + 273.15, abs=0.011)
    assert imperial["wind"]["speed"] == pytest.approx(metric["wind"]["speed"] * 2.236936, abs=0.02)
    assert standard["wind"] == metric["wind"]
    assert metric["weather"] == imperial["weather"] == standard["weather"]


def test_default_and_unknown_units_mean_standard(fake: FakeOpenWeather) -> None:
    standard = weather(fake, 35.6828, 139.7595, units="standard")
    assert weather(fake, 35.6828, 139.7595) == standard
    assert weather(fake, 35.6828, 139.7595, units="kelvin-ish") == standard
    assert standard["main"]["temp"] > 200  # Kelvin


@pytest.mark.parametrize("place", PLACES, ids=lambda p: f"{p.name}-{p.country}")
def test_weather_at_each_place_names_it_with_its_offset(
    fake: FakeOpenWeather, place: Place
) -> None:
    body = weather(fake, place.lat, place.lon)
    assert (body["name"], body["sys"]["country"], body["timezone"], body["id"]) == (
        place.name,
        place.country,
        place.timezone,
        place.id,
    )


def test_known_utc_offsets() -> None:
    offsets = {(p.name, p.country): p.timezone for p in PLACES}
    assert offsets[("Tokyo", "JP")] == 32400
    assert offsets[("New York", "US")] == -18000
    assert offsets[("Sydney", "AU")] == 36000
    assert offsets[("São Paulo", "BR")] == -10800
    assert offsets[("Mumbai", "IN")] == 19800


def test_weather_anywhere_uses_nearest_place_within_50_km(fake: FakeOpenWeather) -> None:
    assert weather(fake, 51.3, -0.3)["name"] == "London"  # ~26 km from central London
    assert weather(fake, 52.2, 0.12)["name"] == ""  # Cambridge, ~80 km away
    ocean = weather(fake, 0, -150)
    assert (ocean["name"], ocean["sys"]["country"], ocean["id"]) == ("", "", 0)
    assert ocean["timezone"] == -36000


def test_weather_is_deterministic_per_hour(fake: FakeOpenWeather, clock: Clock) -> None:
    first = weather(fake, 40.7128, -74.006, units="metric")
    clock.now += 30 * 60  # same hour, next observation slot
    again = weather(fake, 40.7128, -74.006, units="metric")
    assert again.pop("dt") == first.pop("dt") + 1800
    assert again == first
    later = []
    for hour in range(1, 7):
        clock.now = NOW + hour * 3600
        later.append(weather(fake, 40.7128, -74.006, units="metric")["main"]["temp"])
    assert len(set(later)) > 1


def test_day_night_icon_follows_sunrise_and_sunset(fake: FakeOpenWeather, clock: Clock) -> None:
    clock.now = calendar.timegm((2024, 6, 21, 12, 0, 0))
    summer = weather(fake, 51.5073, -0.1276)
    assert summer["weather"][0]["icon"].endswith("d")
    sunrise, sunset = summer["sys"]["sunrise"], summer["sys"]["sunset"]
    assert sunrise < summer["dt"] < sunset
    # London: sunrise ~03:43 UTC and sunset ~20:21 UTC at midsummer.
    assert abs(sunrise - calendar.timegm((2024, 6, 21, 3, 43, 0))) < 20 * 60
    assert abs(sunset - calendar.timegm((2024, 6, 21, 20, 21, 0))) < 20 * 60

    clock.now = calendar.timegm((2024, 12, 21, 23, 0, 0))
    winter = weather(fake, 51.5073, -0.1276)
    assert winter["weather"][0]["icon"].endswith("n")
    assert not winter["sys"]["sunrise"] <= winter["dt"] < winter["sys"]["sunset"]
    assert 7 * 3600 < winter["sys"]["sunset"] - winter["sys"]["sunrise"] < 9 * 3600


def test_day_length_depends_on_latitude() -> None:
    june = calendar.timegm((2024, 6, 21, 12, 0, 0))
    reykjavik = sun_times(64.1466, -21.9426, june)
    equator = sun_times(0.0, 0.0, june)
    assert reykjavik[1] - reykjavik[0] > 20 * 3600
    assert abs((equator[1] - equator[0]) - 12 * 3600) < 15 * 60
    assert sun_times(-80.0, 0.0, june)[0] == sun_times(-80.0, 0.0, june)[1]  # polar night


def test_temperature_depends_on_latitude_and_season(fake: FakeOpenWeather) -> None:
    def temp(lat: float, lon: float) -> float:
        return weather(fake, lat, lon, units="metric")["main"]["temp"]

    mumbai, london, reykjavik = temp(19.076, 72.8777), temp(51.5073, -0.1276), temp(64.1466, -21.9)
    assert mumbai > london > reykjavik
    assert mumbai > reykjavik + 15
    assert temp(-33.8688, 151.2093) > london + 10  # January is summer in Sydney


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"lon": 0}, "wrong latitude"),
        ({"lat": "abc", "lon": 0}, "wrong latitude"),
        ({"lat": 91, "lon": 0}, "wrong latitude"),
        ({"lat": "nan", "lon": 0}, "wrong latitude"),
        ({"lat": 0}, "wrong longitude"),
        ({"lat": 0, "lon": "-181"}, "wrong longitude"),
        ({"lat": 0, "lon": ""}, "wrong longitude"),
    ],
)
@pytest.mark.parametrize("path", ["/data/2.5/weather", "/data/2.5/forecast"])
def test_bad_coordinates_are_400(
    fake: FakeOpenWeather, path: str, params: dict[str, Any], message: str
) -> None:
    assert call(fake, path, **params) == (400, {"cod": "400", "message": message})


# -- forecast --------------------------------------------------------------------------------


def test_forecast_has_40_three_hour_steps(fake: FakeOpenWeather) -> None:
    body = forecast(fake, 35.6828, 139.7595, units="metric")
    assert body["cod"] == "200"
    assert body["message"] == 0
    assert body["cnt"] == 40
    steps = body["list"]
    assert len(steps) == 40
    dts = [s["dt"] for s in steps]
    assert dts[0] % 10800 == 0
    assert NOW < dts[0] <= NOW + 10800
    assert all(b - a == 10800 for a, b in itertools.pairwise(dts))
    for step in steps:
        assert step["dt_txt"] == time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(step["dt"]))
        assert {"temp", "feels_like", "temp_min", "temp_max", "pressure", "humidity"} <= set(
            step["main"]
        )
        assert 0 <= step["pop"] <= 1
        assert step["sys"]["pod"] in ("d", "n")
        assert step["weather"][0]["icon"][-1] == step["sys"]["pod"]
        assert {"clouds", "wind", "visibility"} <= set(step)
    assert {s["sys"]["pod"] for s in steps} == {"d", "n"}
    city = body["city"]
    assert (city["name"], city["country"], city["timezone"], city["id"]) == (
        "Tokyo",
        "JP",
        32400,
        1850147,
    )
    assert city["population"] > 0
    assert city["sunrise"] < city["sunset"]
    assert city["coord"] == {"lat": 35.6828, "lon": 139.7595}


def test_conditions_are_consistent_with_openweather_codes(fake: FakeOpenWeather) -> None:
    icons = {"2": "11", "5": "10", "6": "13", "7": "50"}
    clouds = {800: "01", 801: "02", 802: "03", 803: "04", 804: "04"}
    seen: set[int] = set()
    for place in PLACES:
        for step in forecast(fake, place.lat, place.lon, units="metric")["list"]:
            (w,) = step["weather"]
            seen.add(w["id"])
            assert w["icon"][:2] == clouds.get(w["id"], icons.get(str(w["id"])[0]))
            assert (
                w["main"]
                == {
                    "2": "Thunderstorm",
                    "5": "Rain",
                    "6": "Snow",
                    "7": "Mist",
                    "8": "Clear" if w["id"] == 800 else "Clouds",
                }[str(w["id"])[0]]
            )
            wet = w["main"] in ("Rain", "Thunderstorm")
            assert ("rain" in step) == wet
            assert ("snow" in step) == (w["main"] == "Snow")
            if wet:
                assert step["rain"]["3h"] > 0
            if w["main"] == "Snow":
                assert step["main"]["temp"] < 1.0
    assert {800, 801, 804, 500, 701} <= seen


# -- auth ------------------------------------------------------------------------------------


@pytest.mark.parametrize("appid", [None, "", "wrong-key", "TEST-KEY"])
def test_bad_key_is_401_and_counted(fake: FakeOpenWeather, appid: str | None) -> None:
    status, body = call(fake, "/data/2.5/weather", appid=appid, lat=1, lon=1)
    assert status == 401
    assert body == {
        "cod": 401,
        "message": "Invalid API key. Please see "
        "https://openweathermap.org/faq#error401 for more info.",
    }
    assert fake.call_counts() == {"geocode": 0, "weather": 1, "forecast": 0, "unauthorized": 1}


def test_key_rotation(fake: FakeOpenWeather) -> None:
    fake.set_api_key("new-key")
    assert call(fake, "/geo/1.0/direct", q="Paris")[0] == 401
    assert call(fake, "/geo/1.0/direct", appid="new-key", q="Paris")[0] == 200
    fake.set_api_key("new-key", "newer-key")  # overlap window: both work
    assert call(fake, "/geo/1.0/direct", appid="new-key", q="Paris")[0] == 200
    assert call(fake, "/geo/1.0/direct", appid="newer-key", q="Paris")[0] == 200
    assert fake.call_counts()["unauthorized"] == 1


# -- faults, latency and counters ------------------------------------------------------------


def test_fail_429_once_then_success(fake: FakeOpenWeather) -> None:
    fake.fail(429, times=1)
    status, body = call(fake, "/geo/1.0/direct", q="London")
    assert status == 429
    assert body["cod"] == 429
    assert "exceeding of requests limitation" in body["message"]
    assert call(fake, "/geo/1.0/direct", q="London")[0] == 200
    assert fake.call_counts()["geocode"] == 2


def test_fail_for_one_endpoint_until_cleared(fake: FakeOpenWeather) -> None:
    fake.fail(503, endpoint="forecast")
    for _ in range(3):
        assert call(fake, "/data/2.5/forecast", lat=1, lon=1) == (
            503,
            {"cod": "503", "message": "Internal server error"},
        )
    assert call(fake, "/data/2.5/weather", lat=1, lon=1)[0] == 200
    fake.clear_faults()
    assert call(fake, "/data/2.5/forecast", lat=1, lon=1)[0] == 200


def test_newest_fault_wins_and_404_body(fake: FakeOpenWeather) -> None:
    fake.fail(500)
    fake.fail(404, times=1)
    assert call(fake, "/data/2.5/weather", lat=1, lon=1) == (
        404,
        {"cod": "404", "message": "city not found"},
    )
    assert call(fake, "/data/2.5/weather", lat=1, lon=1)[0] == 500


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"status": 200}, "status"),
        ({"status": 500, "endpoint": "onecall"}, "endpoint"),
        ({"status": 500, "times": 0}, "times"),
    ],
)
def test_fail_rejects_bad_arguments(
    fake: FakeOpenWeather, kwargs: dict[str, Any], error: str
) -> None:
    with pytest.raises(ValueError, match=error):
        fake.fail(kwargs.pop("status"), **kwargs)


def test_malformed_body(fake: FakeOpenWeather) -> None:
    fake.malformed(endpoint="weather", times=2)
    for _ in range(2):
        status, raw = fetch(f"{fake.base_url}/data/2.5/weather?lat=1&lon=1&appid={KEY}")
        assert status == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(raw)
    assert weather(fake, 1, 1)["cod"] == 200


def test_latency(fake: FakeOpenWeather) -> None:
    start = time.monotonic()
    geocode(fake, "Paris")
    assert time.monotonic() - start < 0.2
    fake.latency = 0.25
    start = time.monotonic()
    geocode(fake, "Paris")
    assert time.monotonic() - start >= 0.25
    with pytest.raises(ValueError, match="latency"):
        fake.latency = -1


def test_counters_include_errors_and_reset(fake: FakeOpenWeather) -> None:
    geocode(fake, "Paris")
    call(fake, "/geo/1.0/direct", q="")
    weather(fake, 1, 2)
    call(fake, "/data/2.5/forecast", appid="nope", lat=1, lon=2)
    fake.fail(500)
    call(fake, "/data/2.5/forecast", lat=1, lon=2)
    assert fake.call_counts() == {"geocode": 2, "weather": 1, "forecast": 2, "unauthorized": 1}
    assert fake.calls == fake.call_counts()
    fake.reset()
    assert fake.call_counts() == {"geocode": 0, "weather": 0, "forecast": 0, "unauthorized": 0}
    assert call(fake, "/data/2.5/forecast", lat=1, lon=2)[0] == 200  # reset cleared the fault


def test_unknown_path_is_404_and_uncounted(fake: FakeOpenWeather) -> None:
    assert call(fake, "/data/3.0/onecall", lat=1, lon=1)[0] == 404
    assert sum(fake.call_counts().values()) == 0


def test_counters_are_thread_safe_under_concurrency(fake: FakeOpenWeather) -> None:
    def one(i: int) -> int:
        return call(fake, "/data/2.5/weather", lat=i % 80, lon=i % 170)[0]

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(one, range(120)))
    assert statuses == [200] * 120
    assert fake.call_counts()["weather"] == 120


def test_keep_alive_serves_several_requests_per_connection(fake: FakeOpenWeather) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", fake.port, timeout=5)
    try:
        for q in ("London", "Paris", "Atlantis"):
            conn.request("GET", f"/geo/1.0/direct?{urlencode({'q': q, 'appid': KEY})}")
            response = conn.getresponse()
            body = response.read()
            assert response.version == 11
            assert response.status == 200
            assert int(response.headers["Content-Length"]) == len(body)
            assert response.headers["Content-Type"].startswith("application/json")
            sock = conn.sock
            assert sock is not None
        conn.request("POST", "/__fake__/config", body=b'{"latency": 0}')
        assert conn.getresponse().read()
        assert conn.sock is sock  # same connection throughout
    finally:
        conn.close()
    assert fake.call_counts()["geocode"] == 3


def test_stop_closes_idle_keep_alive_connections(clock: Clock) -> None:
    server = FakeOpenWeather(clock=clock).start()
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        conn.request("GET", "/__fake__/calls")
        assert conn.getresponse().read()
        server.stop()
        conn.auto_open = 0  # otherwise http.client silently reconnects
        conn.request("GET", "/__fake__/calls")
        with pytest.raises((ConnectionError, http.client.HTTPException)):
            conn.getresponse().read()
    finally:
        conn.close()
        server.stop()


# -- control API -----------------------------------------------------------------------------


def test_control_api_over_http(fake: FakeOpenWeather) -> None:
    geocode(fake, "Paris")
    status, counts = control(fake, "calls")
    assert status == 200
    assert counts == {"geocode": 1, "weather": 0, "forecast": 0, "unauthorized": 0}

    status, cfg = control(
        fake,
        "config",
        {"latency": 0.05, "fail": {"status": 502, "endpoint": "weather", "times": 1}},
    )
    assert status == 200
    assert cfg["latency"] == 0.05
    assert cfg["faults"] == [{"kind": "status", "status": 502, "endpoint": "weather", "times": 1}]
    assert fake.latency == 0.05
    assert call(fake, "/data/2.5/weather", lat=1, lon=1)[0] == 502
    assert call(fake, "/data/2.5/weather", lat=1, lon=1)[0] == 200

    status, cfg = control(fake, "config", {"malformed": {"endpoint": "geocode"}})
    assert status == 200
    assert cfg["faults"][0]["kind"] == "malformed"
    status, raw = fetch(f"{fake.base_url}/geo/1.0/direct?q=Paris&appid={KEY}")
    assert status == 200
    assert not raw.startswith(b"[")
    status, cfg = control(fake, "config", {"clear_faults": True, "latency": 0})
    assert status == 200
    assert cfg["faults"] == []
    assert cfg["latency"] == 0

    status, cfg = control(fake, "config", {"api_key": "rotated-key"})
    assert status == 200
    assert "rotated-key" not in json.dumps(cfg)
    assert call(fake, "/geo/1.0/direct", q="Paris")[0] == 401
    assert call(fake, "/geo/1.0/direct", appid="rotated-key", q="Paris")[0] == 200

    status, cfg = control(fake, "reset")
    assert status == 200
    assert control(fake, "calls")[1] == dict.fromkeys(counts, 0)


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[1, 2]",
        b'{"latency": -1}',
        b'{"colour": "blue"}',
        b'{"latency": 1, "fail": {"status": "500"}}',
        b'{"latency": 1, "fail": {"status": 500, "endpoint": "nowhere"}}',
        b'{"latency": 1, "api_key": ""}',
    ],
)
def test_control_rejects_bad_config_without_side_effects(
    fake: FakeOpenWeather, body: bytes
) -> None:
    status, raw = fetch(f"{fake.base_url}/__fake__/config", data=body)
    assert status == 400
    assert "error" in json.loads(raw)
    assert fake.config() == {"latency": 0.0, "api_keys": 1, "faults": []}
    assert call(fake, "/geo/1.0/direct", q="Paris")[0] == 200


def test_control_unknown_action_is_404(fake: FakeOpenWeather) -> None:
    assert fetch(f"{fake.base_url}/__fake__/explode", data=b"{}")[0] == 404
    assert fetch(f"{fake.base_url}/__fake__/reset")[0] == 404  # reset needs POST


# -- logging ---------------------------------------------------------------------------------


def test_quiet_by_default(fake: FakeOpenWeather, capfd: pytest.CaptureFixture[str]) -> None:
    geocode(fake, "London")
    call(fake, "/geo/1.0/direct", appid="wrong", q="London")
    out, err = capfd.readouterr()
    assert out == ""
    assert err == ""


def test_verbose_log_never_contains_the_appid(capfd: pytest.CaptureFixture[str]) -> None:
    secrets = ["s3cret-valid-key", "wrong-secret-2", "spelled-oddly-3", "sekrit value/4"]
    with FakeOpenWeather(api_key=secrets[0], verbose=True) as server:
        base = server.base_url
        fetch(f"{base}/geo/1.0/direct?q=London&appid={secrets[0]}")
        fetch(f"{base}/data/2.5/weather?appid={secrets[1]}&lat=1&lon=1")
        fetch(f"{base}/data/2.5/forecast?lat=1&lon=1&app%69d={secrets[2]}")
        fetch(f"{base}/data/2.5/weather?lat=1&lon=1&{urlencode({'APPID': secrets[3]})}")
        fetch(f"{base}/data/2.5/weather?lat=1&lon=1&appid={secrets[0]}&appid={secrets[1]}")
        server.fail(500, times=1)
        fetch(f"{base}/geo/1.0/direct?q=London&appid={secrets[0]}")
        fetch(f"{base}/data/2.5/{secrets[0]}/weather?lat=1")  # a client bug: key in the path
        fetch(f'{base}/data/2.5/weather?appid={secrets[1]}"&lat=1&lon=1')
        with socket.create_connection(("127.0.0.1", server.port), timeout=5) as raw:
            raw.sendall(f"GET /x?appid={secrets[0]} HTTP/1.1 junk\r\n\r\n".encode())
            assert b"400" in raw.recv(4096)
    _, err = capfd.readouterr()
    assert err.count("appid=***") >= 6, err
    assert "/geo/1.0/direct?q=London&appid=***" in err
    for secret in secrets:
        for form in (secret, urlencode({"k": secret})[2:]):
            assert form not in err, err


# -- standalone ------------------------------------------------------------------------------


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise AssertionError("no output from the standalone server in time")
    return proc.stdout.readline()


def test_standalone_serves_until_sigterm() -> None:
    # Unbuffered mode would hide a missing flush of the "listening" line.
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openweather", "--port", "0", "--key", "demo-key"],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        line = _read_line(proc, timeout=15).strip()
        prefix = "fake OpenWeather listening on http://127.0.0.1:"
        assert line.startswith(prefix), line
        port = int(line.removeprefix(prefix))
        assert port > 0
        base = f"http://127.0.0.1:{port}"
        status, body = fetch(f"{base}/geo/1.0/direct?q=Tokyo&appid=demo-key")
        assert status == 200
        assert json.loads(body)[0]["country"] == "JP"
        assert fetch(f"{base}/geo/1.0/direct?q=Tokyo&appid=test-key")[0] == 401
        status, body = fetch(f"{base}/__fake__/calls")
        assert json.loads(body) == {"geocode": 2, "weather": 0, "forecast": 0, "unauthorized": 1}
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        with pytest.raises(urllib.error.URLError, match="refused"):
            fetch(f"{base}/__fake__/calls", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)
        _, err = proc.communicate(timeout=5)
    assert "demo-key" not in err
