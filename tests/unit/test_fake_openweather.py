"""The fake OpenWeather server's behaviours that other suites rely on.

Integration and browser tests inject faults, latency and key rotations through it and
read its counters; the compose demo and the CI smoke test run it as a module and read
``/__fake__/config`` and ``/__fake__/calls``. The weather it makes up is not pinned here.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

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
    assert fake.call_counts() == {"geocode": 0, "weather": 1, "forecast": 0, "unauthorized": 1}


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
    assert fake.call_counts() == {"geocode": 1, "weather": 0, "forecast": 2, "unauthorized": 1}
    fake.reset()
    assert fake.call_counts() == {"geocode": 0, "weather": 0, "forecast": 0, "unauthorized": 0}
    assert call(fake, "/data/2.5/forecast", **LONDON)[0] == 200


def test_config_and_calls_are_readable_over_http_without_the_key(fake):
    fake.latency = 0.01
    call(fake, "/geo/1.0/direct", q="Paris")
    status, raw = fetch(f"{fake.base_url}/__fake__/config")
    assert status == 200
    assert json.loads(raw) == {"latency": 0.01, "fault": None}
    assert KEY.encode() not in raw
    status, raw = fetch(f"{fake.base_url}/__fake__/calls")
    assert status == 200
    assert json.loads(raw) == {"geocode": 1, "weather": 0, "forecast": 0, "unauthorized": 0}


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
