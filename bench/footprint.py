"""Two rows of `make bench` beside the throughput table: what a worker holds after many
places were viewed, and how long a search for a place never seen before takes.

- ``seed_places`` stores 2,000 places, each with a fresh lookup, straight into the
  app's database (through the app's models, in a child process): fetching them through
  the fake upstream would spend minutes waiting on its latency and measure nothing more.
- ``views_then_rss`` views them 10,000 times (pages and API answers, spread evenly),
  then reads each gunicorn worker's resident memory from /proc.
- ``cold_searches`` asks for places by name that nobody asked for yet, one at a time:
  geocode, then weather and forecast at once, so about two of the fake's latencies.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.fakes.openweather import FakeOpenWeather
from tests.support.appserver import AppServer, base_env
from tests.support.procstat import children, memory_kib

ROOT = Path(__file__).resolve().parent.parent

SEED_SCRIPT = """
import sys, time
from dataclasses import asdict
from datetime import timedelta
import django
django.setup()
from django.utils import timezone
from tests.fakes.bodies import current_weather, forecast
from weather.clients.schema import parse_conditions, parse_forecast
from weather.models import Place, WeatherLookup

count = int(sys.argv[1])
now = time.time()
expires = timezone.now() + timedelta(hours=2)
for i in range(count):
    lat, lon = round(-60 + (i % 50) * 2.4, 4), round(-170 + (i // 50) * 8.5, 4)
    place = Place.objects.create(name=f"Bench {i}", country="GB", lat=lat, lon=lon)
    payload = {
        "current": asdict(parse_conditions(current_weather(lat, lon, "metric", now=now))),
        "forecast": asdict(parse_forecast(forecast(lat, lon, "metric", now=now))),
    }
    WeatherLookup.objects.create(
        place=place, units="metric", payload=payload,
        fetched_at=timezone.now(), expires_at=expires,
    )
    print(f"{lat} {lon}")
"""


def seed_places(database_url: str, count: int) -> list[tuple[str, str]]:
    """Store ``count`` places with fresh lookups; their (lat, lon) as the app formats them."""
    out = subprocess.run(
        [sys.executable, "-c", SEED_SCRIPT, str(count)],
        cwd=ROOT,
        env=base_env(DATABASE_URL=database_url, DJANGO_LOG_LEVEL="WARNING"),
        capture_output=True, text=True, check=True, timeout=600,
    ).stdout  # fmt: skip
    return [(lat, lon) for lat, lon in (line.split() for line in out.splitlines() if line)]


def views_then_rss(
    server: AppServer, places: list[tuple[str, str]], *, views: int
) -> dict[str, object]:
    """``views`` views spread over ``places`` (page and API in turn); each worker's RSS after."""
    paths = [("/" if i % 2 else "/api/weather", places[i % len(places)]) for i in range(views)]
    statuses: dict[int, int] = {}
    lock = threading.Lock()

    def view(chunk: list[tuple[str, tuple[str, str]]]) -> None:
        session = requests.Session()
        for path, (lat, lon) in chunk:
            status = session.get(
                server.base_url + path, params={"lat": lat, "lon": lon}, timeout=60
            ).status_code
            with lock:
                statuses[status] = statuses.get(status, 0) + 1

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(view, [paths[i::16] for i in range(16)]))
    rss = [memory_kib(pid) or 0 for pid in children(server.pid)]
    return {"views": views, "places": len(places), "statuses": statuses, "rss_kib": rss}


def cold_searches(server: AppServer, names: list[str], fake: FakeOpenWeather) -> dict[str, float]:
    """Each of ``names`` searched once, in turn, none asked before: seconds p50 and max,
    beside the p50 of one call straight to the fake upstream (its latency as the app sees
    it: the configured delay plus the fake's own work)."""
    # One connection, as a visitor's browser keeps it open between the page and the search.
    session = requests.Session()
    session.get(f"{server.base_url}/healthz", timeout=60)
    times: list[float] = []
    for name in names:
        started = time.perf_counter()
        response = session.get(f"{server.base_url}/api/weather", params={"q": name}, timeout=60)
        times.append(time.perf_counter() - started)
        if response.status_code != 200 or response.json().get("source") != "upstream":
            raise RuntimeError(f"a cold search for {name!r} was not fetched: {response.text}")
    direct: list[float] = []
    upstream = requests.Session()
    for _ in range(len(names)):
        started = time.perf_counter()
        upstream.get(
            f"{fake.base_url}/data/2.5/forecast",
            params={**DIRECT_CALL, "appid": fake.api_key},
            timeout=60,
        ).raise_for_status()
        direct.append(time.perf_counter() - started)
    return {
        "p50": statistics.median(times),
        "max": max(times),
        "count": len(times),
        "direct_p50": statistics.median(direct),
    }


# The largest of the answers a cold search waits for, asked for straight from the fake.
DIRECT_CALL = {"lat": "51.5073", "lon": "-0.1277", "units": "metric"}


# The byte bounds of the per-process caches (weather/caching.py's registry), as set in
# reports.py, fragments.py, serializers.py and response_cache.py.
CACHE_BOUNDS_MIB = {
    "reports.memo": 32,
    "fragments.pages": 16,
    "response_cache.answers": 16,
    "fragments.report_parts": 8,
    "serializers.encoded_reports": 8,
}


def render(
    memory: dict[int, dict[str, object]], searches: dict[int, dict[str, float]], latency: float
) -> list[str]:
    """The memory and cold-search sections of bench/RESULTS.md."""
    bounds = ", ".join(f"{name} {mib} MiB" for name, mib in CACHE_BOUNDS_MIB.items())
    lines = [
        "",
        "## Cold search: a place nobody asked for yet, by name",
        "",
        "| workers | searches | p50 ms | max ms | fake's latency ms | p50 ÷ latency | target "
        "| one call to the fake, p50 ms | p50 ÷ one call |",
        "|---:|---:|---:|---:|---:|---:|---|---:|---:|",
    ]
    for workers, s in searches.items():
        ratio = s["p50"] / latency
        verdict = "≤ 2.2 " + ("met" if ratio <= 2.2 else "MISSED")
        lines.append(
            f"| {workers} | {s['count']:.0f} | {s['p50'] * 1000:.0f} | {s['max'] * 1000:.0f} | "
            f"{latency * 1000:.0f} | {ratio:.2f} | {verdict} | {s['direct_p50'] * 1000:.1f} | "
            f"{s['p50'] / s['direct_p50']:.2f} |"
        )
    lines += [
        "",
        "Geocoding, then current weather, forecast and air quality at the same time: two round"
        " trips. The target is judged against the fake's configured latency; a call straight"
        " to the fake (a forecast, the largest answer) takes a little longer, and two of those"
        " are the floor no app can beat. Searches go over one kept-open connection, as from a"
        " browser.",
        "",
        "## Memory: resident size per worker after many places were viewed",
        "",
        "| workers | places | views | statuses | RSS per worker MiB |",
        "|---:|---:|---:|---|---|",
    ]
    for workers, m in memory.items():
        rss = " / ".join(f"{kib / 1024:.0f}" for kib in m["rss_kib"])  # type: ignore[attr-defined]
        lines.append(f"| {workers} | {m['places']} | {m['views']} | {m['statuses']} | {rss} |")
    lines += [
        "",
        f"Bounded by design: the per-process caches hold at most {bounds} "
        f"({sum(CACHE_BOUNDS_MIB.values())} MiB in all, by their own weighing), beside "
        "Django, the app's code and the interpreter.",
    ]
    return lines
