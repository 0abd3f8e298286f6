"""Profile cached page and API views in process: where does a cached hit spend its time?

    python bench/profile_page.py [--requests 300] [--path '/?lat=51.5073&lon=-0.1276']

Stores one lookup (London, from the fake upstream's own functions) in a throwaway
SQLite database, warms the per-process caches, then runs the views under cProfile
through Django's test client and prints the top functions by cumulative time, and
the mean time per request. No server, network, Vault or upstream is involved.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import sys
import tempfile
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--path", action="append", help="paths to profile (repeatable)")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument(
        "--conditional", action="store_true", help="also each path as a 304 (If-None-Match)"
    )
    args = parser.parse_args()
    paths = args.path or ["/?lat=51.5073&lon=-0.1276", "/api/weather?lat=51.5073&lon=-0.1276"]

    workdir = tempfile.mkdtemp(prefix="weather-profile-")
    os.environ.update(
        DJANGO_SETTINGS_MODULE="weatherproject.settings",
        DJANGO_DEBUG="0",
        DJANGO_SECRET_KEY="profile-only-" + "x" * 50,
        DJANGO_SECURE_SSL_REDIRECT="0",
        DJANGO_ALLOWED_HOSTS="testserver",
        DATABASE_URL=f"sqlite:///{workdir}/profile.sqlite3",
        WEATHER_MEMO_SECONDS="600",
        WEATHER_HIT_FLUSH_SECONDS="5",
        DJANGO_LOG_LEVEL="WARNING",
        DJANGO_STATIC_ROOT=f"{workdir}/static",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from tests.fakes.bodies import current_weather, forecast
    from weather.clients.schema import parse_conditions, parse_forecast
    from weather.models import Place, WeatherLookup

    call_command("migrate", verbosity=0)
    call_command("collectstatic", interactive=False, verbosity=0)
    lat, lon = 51.5073, -0.1276
    place = Place.objects.create(name="London", state="England", country="GB", lat=lat, lon=lon)
    now = time.time()
    payload = {
        "current": asdict(parse_conditions(current_weather(lat, lon, "metric", now=now))),
        "forecast": asdict(parse_forecast(forecast(lat, lon, "metric", now=now))),
    }
    WeatherLookup.objects.create(
        place=place,
        units="metric",
        payload=payload,
        fetched_at=timezone.now(),
        expires_at=timezone.now() + timedelta(hours=1),
    )
    client = Client()
    runs: list[tuple[str, dict[str, str]]] = [(path, {}) for path in paths]
    if args.conditional:
        runs += [(path, {"HTTP_IF_NONE_MATCH": client.get(path)["ETag"]}) for path in paths]
    for path, headers in runs:
        for _ in range(3):  # warm every per-process cache
            response = client.get(path, **headers)  # type: ignore[arg-type]
            if response.status_code != (304 if headers else 200):
                sys.exit(f"{path} answered {response.status_code}")
        profiler = cProfile.Profile()
        started = time.perf_counter()
        profiler.enable()
        for _ in range(args.requests):
            client.get(path, **headers)  # type: ignore[arg-type]
        profiler.disable()
        elapsed = time.perf_counter() - started
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).sort_stats("cumulative")
        stats.print_stats(args.top)
        label = f"{path} (304)" if headers else path
        print(f"## {label}: {elapsed / args.requests * 1000:.2f} ms per request (profiled)")
        print("\n".join(out.getvalue().splitlines()[: args.top + 10]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
