"""The fake OpenWeather server's behaviours that other suites rely on.

Integration and browser tests inject faults, latency and key rotations through it and
read its counters; the compose demo and the CI smoke test run it as a module and read
``/__fake__/config`` and ``/__fake__/calls``. The weather it makes up is not pinned here.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlencode

import pytest

from tests.fakes.bodies import geocode
from tests.fakes.hostile import HOSTILE_MODES, NESTING_DEPTH, OVERSIZED_BYTES
from tests.fakes.openweather import FakeOpenWeather

KEY = "test-key"
REPO_ROOT = Path(__file__).resolve().parents[2]
LONDON: dict[str, Any] = {"lat": 51.5073, "lon": -0.1276}


@pytest.fixture
def fake() -> Iterator[FakeOpenWeather]:
    with FakeOpenWeather(api_key=KEY) as server:
        yield server


def fetch(url: str, *, timeout: float = 5.0) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
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


@pytest.mark.parametrize("appid", [None, "", "wrong-key", "TEST-KEY"])
def test_a_wrong_key_is_401_with_openweather_s_body_and_counted(fake, appid):
    status, body = call(fake, "/data/2.5/weather", appid=appid, **LONDON)
    assert status == 401
    assert body["cod"] == 401
    assert body["message"].startswith("Invalid API key.")
    assert fake.call_counts() == {
        "geocode": 0,
        "weather": 1,
        "forecast": 0,
        "air_pollution": 0,
        "unauthorized": 1,
    }


def test_a_rotated_key_is_the_only_one_accepted(fake):
    fake.set_api_key("new-key")
    assert call(fake, "/geo/1.0/direct", q="Paris")[0] == 401
    assert call(fake, "/geo/1.0/direct", appid="new-key", q="Paris")[0] == 200


@pytest.mark.parametrize(
    ("status", "cod", "message"),
    [
        (429, 429, "exceeding of requests limitation"),
        (500, "500", "Internal server error"),
        (404, "404", "city not found"),
    ],
)
def test_a_fault_answers_every_endpoint_with_openweather_s_error_until_cleared(
    fake, status, cod, message
):
    fake.fail(status)
    for path, params in [
        ("/geo/1.0/direct", {"q": "London"}),
        ("/data/2.5/weather", LONDON),
        ("/data/2.5/forecast", LONDON),
    ]:
        answer, body = call(fake, path, **params)
        assert answer == status
        assert body["cod"] == cod
        assert message in body["message"]
    fake.clear_faults()
    assert call(fake, "/data/2.5/weather", **LONDON)[0] == 200


def test_a_fault_comes_before_the_key_check(fake):
    fake.fail(503)
    assert call(fake, "/data/2.5/weather", appid="wrong-key", **LONDON)[0] == 503
    assert fake.call_counts()["unauthorized"] == 0


def test_malformed_is_a_200_that_is_not_json(fake):
    fake.malformed()
    status, raw = fetch(f"{fake.base_url}/data/2.5/weather?{urlencode({**LONDON, 'appid': KEY})}")
    assert status == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(raw)


def test_latency_delays_each_answer(fake):
    fake.latency = 0.25
    start = time.monotonic()
    call(fake, "/geo/1.0/direct", q="Paris")
    assert time.monotonic() - start >= 0.25


def test_counters_count_every_api_request_and_reset_zeroes_them_and_clears_the_fault(fake):
    call(fake, "/geo/1.0/direct", q="Paris")
    call(fake, "/data/2.5/forecast", appid="nope", **LONDON)
    fake.fail(500)
    call(fake, "/data/2.5/forecast", **LONDON)
    assert fake.call_counts() == {
        "geocode": 1,
        "weather": 0,
        "forecast": 2,
        "air_pollution": 0,
        "unauthorized": 1,
    }
    fake.reset()
    assert fake.call_counts() == {
        "geocode": 0,
        "weather": 0,
        "forecast": 0,
        "air_pollution": 0,
        "unauthorized": 0,
    }
    assert call(fake, "/data/2.5/forecast", **LONDON)[0] == 200


def test_config_and_calls_are_readable_over_http_without_the_key(fake):
    fake.latency = 0.01
    call(fake, "/geo/1.0/direct", q="Paris")
    status, raw = fetch(f"{fake.base_url}/__fake__/config")
    assert status == 200
    assert json.loads(raw) == {"latency": 0.01, "fault": None, "failing_endpoints": {}}
    assert KEY.encode() not in raw
    status, raw = fetch(f"{fake.base_url}/__fake__/calls")
    assert status == 200
    assert json.loads(raw) == {
        "geocode": 1,
        "weather": 0,
        "forecast": 0,
        "air_pollution": 0,
        "unauthorized": 0,
    }


def _read_line(proc: subprocess.Popen[str], timeout: float) -> str:
    assert proc.stdout is not None
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout):
            raise AssertionError("no output from the standalone server in time")
    return proc.stdout.readline()


def test_standalone_serves_until_sigterm_and_logs_no_key():
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
        base = f"http://127.0.0.1:{int(line.removeprefix(prefix))}"
        status, body = fetch(f"{base}/geo/1.0/direct?q=Tokyo&appid=demo-key")
        assert status == 200
        assert json.loads(body)[0]["country"] == "JP"
        assert fetch(f"{base}/geo/1.0/direct?q=Tokyo&appid=test-key")[0] == 401
        status, body = fetch(f"{base}/__fake__/calls")
        assert json.loads(body) == {
            "geocode": 2,
            "weather": 0,
            "forecast": 0,
            "air_pollution": 0,
            "unauthorized": 1,
        }
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


# -- hostile modes -----------------------------------------------------------------------

GEOCODE = ("/geo/1.0/direct", {"q": "Tokyo"})
WEATHER = ("/data/2.5/weather", LONDON)
FORECAST = ("/data/2.5/forecast", LONDON)


def open_stream(
    fake: FakeOpenWeather, path: str, params: dict[str, Any], appid: str = KEY
) -> http.client.HTTPResponse:
    """The response with its headers read and its body not yet."""
    url = f"{fake.base_url}{path}?{urlencode({**params, 'appid': appid})}"
    try:
        response: http.client.HTTPResponse = urllib.request.urlopen(url, timeout=5)
    except urllib.error.HTTPError as exc:
        return cast(http.client.HTTPResponse, exc.fp)
    return response


def test_every_hostile_mode_is_described_and_an_unknown_one_is_refused(fake):
    assert all(mode.description for mode in HOSTILE_MODES.values())
    with pytest.raises(ValueError, match="unknown hostile mode"):
        fake.hostile("polite")


def test_a_hostile_mode_shows_in_config_without_the_key_and_reset_clears_it(fake):
    fake.hostile("key-echo-401")
    _, raw = fetch(f"{fake.base_url}/__fake__/config")
    assert json.loads(raw)["fault"] == {"kind": "hostile", "status": 401, "mode": "key-echo-401"}
    assert KEY.encode() not in raw
    fake.reset()
    assert call(fake, *WEATHER[:1], **WEATHER[1])[0] == 200


@pytest.mark.parametrize(("path", "params"), [GEOCODE, WEATHER, FORECAST])
def test_nested_is_json_100_000_arrays_deep(fake, path, params):
    fake.hostile("nested")
    status, raw = fetch(f"{fake.base_url}{path}?{urlencode({**params, 'appid': KEY})}")
    assert status == 200
    assert raw == b"[" * NESTING_DEPTH + b"]" * NESTING_DEPTH
    assert NESTING_DEPTH == 100_000


def test_drip_sends_headers_at_once_then_the_real_body_a_byte_at_a_time(fake):
    fake.drip_interval = 0.02
    fake.hostile("drip")
    started = time.monotonic()
    with open_stream(fake, *GEOCODE) as response:
        assert time.monotonic() - started < 0.5
        expected = json.dumps(geocode("Tokyo"), ensure_ascii=False, separators=(",", ":"))
        assert int(response.headers["Content-Length"]) == len(expected.encode())
        body = response.read()
    assert json.loads(body) == geocode("Tokyo")
    assert time.monotonic() - started >= len(body) * 0.02


def test_drip_ends_when_the_fake_stops():
    fake = FakeOpenWeather(api_key=KEY).start()
    fake.hostile("drip")  # two seconds a byte
    with open_stream(fake, *WEATHER) as response:
        fake.stop()
        started = time.monotonic()
        with contextlib.suppress(http.client.IncompleteRead, ConnectionError):
            response.read()
        assert time.monotonic() - started < 3


@pytest.mark.parametrize(
    ("mode", "declared", "encoding"),
    [
        ("oversized", (OVERSIZED_BYTES, OVERSIZED_BYTES), None),
        ("oversized-chunked", None, None),
        ("oversized-gzip", (100_000, 400_000), "gzip"),  # 300 MB once inflated
    ],
)
def test_oversized_bodies_are_300_mb_of_json_made_as_they_are_sent(fake, mode, declared, encoding):
    fake.hostile(mode)
    with open_stream(fake, *WEATHER) as response:
        assert response.status == 200
        length = response.headers["Content-Length"]
        if declared is None:
            assert length is None
            assert response.headers["Transfer-Encoding"] == "chunked"
        else:
            assert declared[0] <= int(length) <= declared[1]
        assert response.headers["Content-Encoding"] == encoding
        head = response.read(1_000_000)
    if encoding:
        head = zlib.decompressobj(31).decompress(head, 1_000_000)
    assert head.startswith(b'{"cod":200,"padding":"    ')
    assert len(head) == 1_000_000
    # The connection was dropped mid-body; the fake goes on answering others.
    fake.clear_faults()
    assert call(fake, *GEOCODE[:1], **GEOCODE[1])[0] == 200


def test_absurd_coordinates_come_first_in_a_geocoding_answer_and_weather_is_honest(fake):
    fake.hostile("absurd-coordinates")
    status, places = call(fake, "/geo/1.0/direct", q="Tokyo")
    assert status == 200
    assert [(p["lat"], p["lon"]) for p in places[:2]] == [(12345.678, -999.0), (90.5, 180.5)]
    assert places[2:] == geocode("Tokyo")
    assert call(fake, "/data/2.5/weather", **LONDON)[1]["main"]["temp"]


def test_a_hostile_geocoder_answers_a_name_it_does_not_know_with_an_invented_place(fake):
    fake.hostile("absurd-coordinates")
    _, places = call(fake, "/geo/1.0/direct", q="Nowhere Springs")
    invented = places[2]
    assert invented["name"] == "Nowhere Springs"
    assert -90 <= invented["lat"] <= 90
    assert -180 <= invented["lon"] <= 180
    assert call(fake, "/geo/1.0/direct", q="Nowhere Springs")[1] == places  # stable


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for item in value.values() for s in _strings(item)]
    return []


@pytest.mark.parametrize(("path", "params"), [GEOCODE, WEATHER, FORECAST])
def test_control_characters_are_in_every_string(fake, path, params):
    fake.hostile("control-characters")
    status, body = call(fake, path, **params)
    assert status == 200
    strings = _strings(body)
    assert strings
    assert all("\x00" in s and "\x1b" in s and "\x85" in s for s in strings)
    if path == GEOCODE[0]:
        assert all("\x00" in lang for lang in body[0]["local_names"])


def test_wrong_types_give_every_field_another_type(fake):
    fake.hostile("wrong-types")
    _, places = call(fake, *GEOCODE[:1], **GEOCODE[1])
    honest = geocode("Tokyo")[0]
    assert places[0].keys() == honest.keys()
    for name, value in places[0].items():
        assert type(value) is not type(honest[name]), name
    _, weather = call(fake, *WEATHER[:1], **WEATHER[1])
    assert isinstance(weather["weather"], dict)  # an object for a list
    assert not any(isinstance(v, float) for v in weather["main"].values())
    _, steps = call(fake, *FORECAST[:1], **FORECAST[1])
    assert isinstance(steps["list"], dict)
    assert all(isinstance(step, list) for step in steps["list"].values())  # lists for objects


@pytest.mark.parametrize(("mode", "status"), [("key-echo-401", 401), ("key-echo-500", 500)])
def test_key_echo_errors_repeat_the_key_they_were_sent(fake, mode, status):
    fake.hostile(mode)
    for path, params in (GEOCODE, WEATHER):
        answer, body = call(fake, path, appid="sent-key-1234", **params)
        assert answer == status
        assert "sent-key-1234" in body["message"]


def test_standalone_can_start_hostile():
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes.openweather", "--port", "0", "--key", "demo-key",
         "--hostile", "key-echo-500"],
        cwd=REPO_ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        line = _read_line(proc, timeout=15).strip()
        base = line.rsplit(" ", 1)[-1]
        status, body = fetch(f"{base}/geo/1.0/direct?q=Tokyo&appid=demo-key")
        assert status == 500
        assert "appid=demo-key" in json.loads(body)["message"]
    finally:
        proc.terminate()
        proc.communicate(timeout=10)
