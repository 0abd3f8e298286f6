"""A fake OpenWeather HTTP API served on loopback (standard library only, for the demo image).

It serves the four endpoints the project uses (direct geocoding, current weather, the
5 day / 3 hour forecast and air pollution) with the bodies of :mod:`tests.fakes.bodies`
and :mod:`tests.fakes.air_bodies`, and can play one of
the hostile upstreams of :mod:`tests.fakes.hostile`. Run it in-process
(``with FakeOpenWeather() as fake: ...``) or standalone, for gunicorn under test, the compose
demo and the CI smoke test::

    python -m tests.fakes.openweather --port 8001 --key demo-key [--latency 0.15] [--hostile MODE]

Tests set faults, latency and the accepted key through methods on :class:`FakeOpenWeather`.
Over HTTP it only reports: ``GET /__fake__/calls`` (the per-endpoint counters, for the
smoke test) and ``GET /__fake__/config`` (the settings, for the compose healthcheck).
Serving it (the thread, connections, streamed bodies) is :mod:`tests.fakes.http_server`'s.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from tests.fakes.air_bodies import air_pollution
from tests.fakes.bodies import (
    ENDPOINTS,
    MALFORMED_BODY,
    UNAUTHORIZED_BODY,
    current_weather,
    error_body,
    forecast,
    geocode,
)
from tests.fakes.hostile import HOSTILE_MODES, Answer
from tests.fakes.http_server import FakeHTTPServer

__all__ = ["FakeOpenWeather", "main"]

_CONTROL_PREFIX = "/__fake__/"


@dataclass(frozen=True)
class _Fault:
    kind: str  # "status", "malformed" or "hostile"
    status: int
    mode: str | None = None  # which of HOSTILE_MODES, for "hostile"


def _float_param(query: dict[str, str], name: str, bound: float) -> float | None:
    try:
        value = float(query[name])
    except (KeyError, ValueError):
        return None
    return value if math.isfinite(value) and -bound <= value <= bound else None


class FakeOpenWeather(FakeHTTPServer):
    """OpenWeather look-alike with a settable fault, latency and key, and per-endpoint counters."""

    thread_name = "fake-openweather"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: str = "test-key",
        latency: float = 0.0,
    ) -> None:
        super().__init__(host=host, port=port)
        self.api_key = api_key
        self.latency = latency  # seconds added to every API answer
        self.drip_interval = 2.0  # seconds between the bytes of a "drip" answer
        self._fault: _Fault | None = None
        self._endpoint_faults: dict[str, int] = {}
        self._calls: dict[str, int] = {}
        self.reset()

    # -- what tests change -------------------------------------------------------------------

    def set_api_key(self, key: str) -> None:
        """Accept ``key`` from now on, and no other (a rotation)."""
        self.api_key = key

    def fail(self, status: int) -> None:
        """Answer every API request with ``status`` and OpenWeather's error body, until cleared."""
        self._fault = _Fault("status", status)

    def malformed(self) -> None:
        """Answer every API request with a 200 whose body is not JSON, until cleared."""
        self._fault = _Fault("malformed", 200)

    def hostile(self, mode: str) -> None:
        """Answer every API request as the hostile upstream ``mode`` does, until cleared.

        The modes are :data:`HOSTILE_MODES`; like the other faults they come before the
        key check, and the counters still count each request.
        """
        if mode not in HOSTILE_MODES:
            raise ValueError(f"unknown hostile mode {mode!r}; one of {', '.join(HOSTILE_MODES)}")
        self._fault = _Fault("hostile", HOSTILE_MODES[mode].status, mode)

    def fail_endpoint(self, endpoint: str, status: int) -> None:
        """Answer ``endpoint`` alone (a name of ``ENDPOINTS``: "air_pollution") with
        ``status`` and OpenWeather's error body, until cleared; the others answer as usual."""
        if endpoint not in ENDPOINTS.values():
            raise ValueError(f"unknown endpoint {endpoint!r}")
        self._endpoint_faults = {**self._endpoint_faults, endpoint: status}

    def clear_faults(self) -> None:
        self._fault = None
        self._endpoint_faults = {}

    def call_counts(self) -> dict[str, int]:
        """API requests per endpoint, refused ones included, and how many had a wrong key."""
        with self._lock:
            return dict(self._calls)

    def reset(self) -> None:
        """Zero the counters and clear the fault; latency and key are left as they are."""
        with self._lock:
            self._calls = {name: 0 for name in (*ENDPOINTS.values(), "unauthorized")}
            # The most API requests answered at once since the reset (concurrency, seen).
            self.most_in_flight = 0
            self._in_flight = 0
        self._fault = None
        self._endpoint_faults = {}

    def config(self) -> dict[str, Any]:
        """Current settings, safe to show: the key itself is never included."""
        return {
            "latency": self.latency,
            "fault": self._fault and asdict(self._fault),
            "failing_endpoints": dict(self._endpoint_faults),
        }

    # -- request handling --------------------------------------------------------------------

    def respond(self, path: str, query: dict[str, str]) -> Answer:
        """Answer an API endpoint as OpenWeather does, or report the counters or settings."""
        if path == f"{_CONTROL_PREFIX}calls":
            return 200, self.call_counts()
        if path == f"{_CONTROL_PREFIX}config":
            return 200, self.config()
        if path in ENDPOINTS:
            return self._answer(ENDPOINTS[path], query)
        return 404, {"cod": "404", "message": "Internal error"}

    def _answer(self, endpoint: str, query: dict[str, str]) -> Answer:
        with self._lock:
            self._calls[endpoint] += 1
            self._in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self._in_flight)
        try:
            return self._answer_now(endpoint, query)
        finally:
            with self._lock:
                self._in_flight -= 1

    def _answer_now(self, endpoint: str, query: dict[str, str]) -> Answer:
        if self.latency:
            time.sleep(self.latency)
        # Faults come before the key check: an upstream outage fails every caller alike.
        fault = self._fault
        if fault is not None and fault.kind == "malformed":
            return fault.status, MALFORMED_BODY
        if fault is not None and fault.mode is not None:
            return HOSTILE_MODES[fault.mode].answer(self, endpoint, query)
        if fault is not None:
            return fault.status, error_body(fault.status)
        if (status := self._endpoint_faults.get(endpoint)) is not None:
            return status, error_body(status)
        return self.honest_answer(endpoint, query)

    def honest_answer(self, endpoint: str, query: dict[str, str]) -> Answer:
        """Answer as OpenWeather does, whatever the fault: check the key, build the body."""
        if query.get("appid") != self.api_key:
            with self._lock:
                self._calls["unauthorized"] += 1
            return 401, UNAUTHORIZED_BODY
        if endpoint == "geocode":
            q = query.get("q", "").strip()
            if not q:
                return 400, {"cod": "400", "message": "Nothing to geocode"}
            try:
                limit = max(1, min(5, int(query.get("limit", "5"))))
            except ValueError:
                limit = 5
            return 200, geocode(q, limit)
        lat = _float_param(query, "lat", 90.0)
        if lat is None:
            return 400, {"cod": "400", "message": "wrong latitude"}
        lon = _float_param(query, "lon", 180.0)
        if lon is None:
            return 400, {"cod": "400", "message": "wrong longitude"}
        if endpoint == "air_pollution":
            return 200, air_pollution(lat, lon, time.time())
        units = query.get("units", "standard")
        if units not in ("standard", "metric", "imperial"):
            units = "standard"
        build = current_weather if endpoint == "weather" else forecast
        return 200, build(lat, lon, units, time.time())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.fakes.openweather",
        description="Serve a fake OpenWeather API on loopback.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: loopback)")
    parser.add_argument("--port", type=int, default=8001, help="0 picks a free port")
    parser.add_argument(
        "--key",
        default=os.environ.get("FAKE_OPENWEATHER_KEY", "test-key"),
        help="accepted appid (default: $FAKE_OPENWEATHER_KEY or test-key)",
    )
    parser.add_argument("--latency", type=float, default=0.0, help="seconds added per request")
    parser.add_argument(
        "--hostile",
        choices=HOSTILE_MODES,
        metavar="MODE",
        help="answer as a hostile upstream: "
        + "; ".join(f"{name}: {mode.description}" for name, mode in HOSTILE_MODES.items()),
    )
    args = parser.parse_args(argv)

    fake = FakeOpenWeather(host=args.host, port=args.port, api_key=args.key, latency=args.latency)
    if args.hostile:
        fake.hostile(args.hostile)
    stop = threading.Event()

    def _on_signal(signum: int, frame: object) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    try:
        fake.start()
    except OSError as exc:
        print(f"fake OpenWeather: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    print(f"fake OpenWeather listening on {fake.base_url}", flush=True)
    try:
        while not stop.wait(0.5):
            pass
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
