"""/metrics: who may read it, what it says, and the budget read at scrape time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.support.metrics import parse, value
from weather.models import UpstreamUsage

pytestmark = pytest.mark.django_db

METRICS = "/metrics"
CONTRACT = (
    "weather_upstream_requests_total",
    "weather_upstream_request_duration_seconds_count",
    "weather_reports_total",
    "weather_budget_remaining",
    "weather_vault_reads_total",
    "weather_vault_token_ttl_seconds",
    "weather_http_requests_total",
    "weather_http_request_duration_seconds_count",
)


def test_loopback_reads_every_contracted_metric_in_the_text_format(client, stubbed_services):
    client.get("/api/weather", {"q": "London"})
    response = client.get(METRICS)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    names = {name for name, _ in parse(response.content.decode())}
    assert set(CONTRACT) <= names


def test_a_stranger_gets_the_plain_404_and_nothing_cacheable(client, stubbed_services):
    client.get("/api/weather", {"q": "London"})
    response = client.get(METRICS, REMOTE_ADDR="192.0.2.10")
    assert response.status_code == 404
    assert b"weather_" not in response.content
    assert response.content == client.get("/no-such-page", REMOTE_ADDR="192.0.2.10").content
    assert "no-store" in response["Cache-Control"]
    assert "public" not in response["Cache-Control"]


def test_every_answer_from_metrics_is_no_store(client):
    assert "no-store" in client.get(METRICS)["Cache-Control"]


def test_a_request_a_proxy_forwarded_is_refused_even_from_an_allowed_address(client, settings):
    # Behind nginx every request comes from the proxy's address: that must not open it.
    settings.WEATHER_TRUSTED_PROXIES = ["127.0.0.1"]
    assert client.get(METRICS, HTTP_X_FORWARDED_FOR="127.0.0.1").status_code == 404
    assert client.get(METRICS, HTTP_X_FORWARDED_FOR="203.0.113.9").status_code == 404


def test_the_allowed_networks_are_the_setting_s(client, settings):
    settings.WEATHER_METRICS_ALLOWED = ["192.0.2.0/24", "2001:db8::/32"]
    assert client.get(METRICS, REMOTE_ADDR="192.0.2.77").status_code == 200
    assert client.get(METRICS, REMOTE_ADDR="2001:db8::5").status_code == 200
    assert client.get(METRICS, REMOTE_ADDR="127.0.0.1").status_code == 404
    assert client.get(METRICS, REMOTE_ADDR="not-an-address").status_code == 404


def test_prometheus_may_ask_by_pod_address_over_plain_http(client, settings):
    # Prometheus names the pod's address as Host and never speaks HTTPS to it.
    settings.SECURE_SSL_REDIRECT = True
    response = client.get(METRICS, HTTP_HOST="10.1.2.3:8000")
    assert response.status_code == 200


def test_only_the_exact_path_is_the_metrics(client):
    assert client.get("/metrics/").status_code == 404
    assert b"weather_" not in client.get("/metrics/").content


def test_budget_left_is_read_from_the_database_when_scraped(client, stubbed_services, settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 50
    settings.WEATHER_BUDGET_PER_DAY = 500
    client.get("/api/weather", {"q": "London"})  # geocode, weather, forecast, air
    samples = parse(client.get(METRICS).content.decode())
    assert value(samples, "weather_budget_remaining", {"window": "minute"}) == 46
    assert value(samples, "weather_budget_remaining", {"window": "day"}) == 496
    assert value(samples, "weather_budget_limit", {"window": "day"}) == 500
    # What another worker or replica spent shows at the next scrape: the database is the truth.
    UpstreamUsage.objects.filter(client="", window="day").update(calls=499)
    samples = parse(client.get(METRICS).content.decode())
    assert value(samples, "weather_budget_remaining", {"window": "day"}) == 1


def test_budget_left_is_the_whole_cap_in_a_new_window_and_never_negative(client, settings):
    settings.WEATHER_BUDGET_PER_MINUTE = 5
    an_hour_ago = timezone.now() - timedelta(hours=1)
    UpstreamUsage.objects.create(
        window="minute", started_at=an_hour_ago.replace(second=0, microsecond=0), calls=5
    )
    samples = parse(client.get(METRICS).content.decode())
    assert value(samples, "weather_budget_remaining", {"window": "minute"}) == 5
    settings.WEATHER_BUDGET_PER_MINUTE = 0
    samples = parse(client.get(METRICS).content.decode())
    assert value(samples, "weather_budget_remaining", {"window": "minute"}) == 0


def test_with_metrics_off_nothing_is_counted_and_the_path_is_a_404(
    client, stubbed_services, settings
):
    settings.WEATHER_METRICS = False
    client.get("/api/weather", {"q": "London"})
    assert client.get(METRICS).status_code == 404
    settings.WEATHER_METRICS = True
    samples = parse(client.get(METRICS).content.decode())
    assert (
        value(samples, "weather_upstream_requests_total", {"endpoint": "weather", "outcome": "ok"})
        == 0
    )
