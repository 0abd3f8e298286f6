"""A real Prometheus scrapes the app under gunicorn with several workers; after a scripted
workload, PromQL over its HTTP API says exactly what the fake upstream saw and what the
visitors were served. promtool accepts the exposition."""

from __future__ import annotations

from collections import Counter

import pytest
import requests

from tests.support.network import session_from, wait_for_a_fresh_minute
from tests.support.processes import wait_until
from tests.support.prometheus import PrometheusServer, promtool

pytestmark = pytest.mark.integration

COLD_PLACES = [(51.5 + i, -0.12 + i) for i in range(4)]
CACHED_VIEWS = 12


ENDPOINTS = ("geocode", "weather", "forecast", "air_pollution")


def test_promql_counts_are_exactly_what_happened(observed_app, fake_upstream, metrics_dir):
    app = observed_app
    served: Counter[str] = Counter()  # what visitors were served, by source
    refusals = 0
    api_requests = 0

    def ask(client: requests.Session, **params: str | float) -> requests.Response:
        nonlocal api_requests, refusals
        api_requests += 1
        response = client.get(f"{app.base_url}/api/weather", params=params, timeout=30)
        if response.status_code == 200:
            served[response.json()["source"]] += 1
        elif response.json()["error"]["code"] == "allowance_exhausted":
            refusals += 1
        return response

    wait_for_a_fresh_minute(margin=30)  # the clients' shares are per minute
    with PrometheusServer(target=f"127.0.0.1:{app.port}") as prometheus:
        # N cold places, each by a different visitor; one place by name (geocoding too).
        for i, (lat, lon) in enumerate(COLD_PLACES):
            assert ask(session_from(f"127.0.1.{i + 1}"), lat=lat, lon=lon).status_code == 200
        assert ask(session_from("127.0.2.1"), q="London").status_code == 200
        # M cached views of them, by anyone.
        for i in range(CACHED_VIEWS):
            lat, lon = COLD_PLACES[i % len(COLD_PLACES)]
            assert ask(session_from(f"127.0.3.{i + 1}"), lat=lat, lon=lon).status_code == 200
        # An upstream failure on a place nobody has yet: no stale copy, a 503.
        fake_upstream.fail(500)
        assert ask(session_from("127.0.4.1"), lat=10.5, lon=20.5).status_code == 503
        fake_upstream.clear_faults()
        # A greedy visitor: three cold places (weather, forecast, air) spend its share of 9
        # calls; the fourth is refused.
        greedy = session_from("127.0.5.1")
        for i in range(4):
            ask(greedy, lat=-30.0 - i, lon=140.0 + i)
        assert refusals == 1

        sent = fake_upstream.call_counts()

        def scraped_everything() -> bool:
            total = prometheus.scalar(
                'sum(weather_http_requests_total{view="weather:api-weather"})'
            )
            return total == api_requests

        wait_until(scraped_everything, what="a scrape after the workload", timeout=20,
                   log=prometheus.log_text)  # fmt: skip

        upstream = prometheus.by(
            "endpoint", 'sum by (endpoint) (weather_upstream_requests_total{outcome!="refused"})'
        )
        assert upstream == {
            endpoint: float(count) for endpoint, count in sent.items() if endpoint in ENDPOINTS
        }
        assert sent["weather"] == len(COLD_PLACES) + 1 + 1 + 3  # cold, London, failure, greedy
        assert (
            prometheus.scalar(
                'sum(weather_upstream_requests_total{endpoint="weather",outcome="error"})'
            )
            == 1
        )
        # The refused request's weather and forecast, refused together: two calls not sent.
        refused = prometheus.by(
            "endpoint", 'sum by (endpoint) (weather_upstream_requests_total{outcome="refused"}) > 0'
        )
        assert refused == {"weather": refusals, "forecast": refusals}
        durations = prometheus.scalar("sum(weather_upstream_request_duration_seconds_count)")
        assert durations == sum(sent[endpoint] for endpoint in ENDPOINTS)
        assert prometheus.by("source", "sum by (source) (weather_reports_total > 0)") == {
            source: float(count) for source, count in served.items()
        }
        assert served["cache"] == CACHED_VIEWS
        assert served["upstream"] == len(COLD_PLACES) + 1 + 3
        # The database's truth at scrape time: the day's cap less every call sent.
        spent = sum(sent[endpoint] for endpoint in ENDPOINTS)
        assert prometheus.scalar('weather_budget_remaining{window="day"}') == 5000 - spent
        # The key was read from Vault by at least one worker, never failed.
        assert (prometheus.scalar('sum(weather_vault_reads_total{outcome="ok"})') or 0) >= 1
        assert prometheus.scalar('sum(weather_vault_reads_total{outcome!="ok"})') is None

    # The counts came from several workers' files, added up; the stale file is gone.
    written = sorted(path.name for path in metrics_dir.glob("counter_*.db"))
    assert "counter_99999.db" not in written
    assert len(written) >= 2, written


def test_promtool_accepts_the_exposition(observed_app):
    observed_app.get("/api/weather", q="London")
    exposition = observed_app.get("/metrics").text
    checked = promtool("check", "metrics", stdin=exposition)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_metrics_are_not_for_strangers_or_proxied_requests(observed_app):
    assert observed_app.get("/metrics").status_code == 200
    forwarded = requests.get(
        f"{observed_app.base_url}/metrics", headers={"X-Forwarded-For": "127.0.0.1"}, timeout=10
    )
    assert forwarded.status_code == 404
    assert "no-store" in forwarded.headers["Cache-Control"]
