"""The metrics count what really happened: real requests through the views, with Vault
and OpenWeather stubbed at the HTTP transport, read back from /metrics as Prometheus would."""

from __future__ import annotations

import math
import re

import pytest
import requests

from tests.support.metrics import Samples, parse, total, value
from tests.unit.conftest import UPSTREAM, VAULT
from weather.caching import clear_all

pytestmark = pytest.mark.django_db

API = "/api/weather"
UPSTREAM_REQUESTS = "weather_upstream_requests_total"
PATHS = {
    "geocode": "/geo/1.0/direct",
    "weather": "/data/2.5/weather",
    "forecast": "/data/2.5/forecast",
}
WEATHER_URL = re.compile(rf"{re.escape(UPSTREAM)}/data/2\.5/weather\?.*")
GEOCODE = re.compile(rf"{re.escape(UPSTREAM)}/geo/1\.0/direct\?.*")


def scrape(client) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200
    return parse(response.content.decode())


def sent(stubbed, endpoint: str) -> int:
    """Requests the stubbed upstream received for ``endpoint``."""
    return sum(1 for r in stubbed.request_history if PATHS[endpoint] in r.url)


def calls(samples: Samples, endpoint: str, outcome: str) -> float:
    return value(samples, UPSTREAM_REQUESTS, {"endpoint": endpoint, "outcome": outcome})


def assert_counted_what_was_sent(samples: Samples, stubbed) -> None:
    for endpoint in PATHS:
        counted = total(samples, UPSTREAM_REQUESTS, endpoint=endpoint)
        refused = calls(samples, endpoint, "refused")
        assert counted - refused == sent(stubbed, endpoint), endpoint
        durations = value(
            samples, "weather_upstream_request_duration_seconds_count", {"endpoint": endpoint}
        )
        assert durations == sent(stubbed, endpoint), endpoint


def test_a_cold_lookup_counts_one_call_per_endpoint_and_a_report_from_upstream(
    client, stubbed_services
):
    assert client.get(API, {"q": "London"}).status_code == 200
    samples = scrape(client)
    assert calls(samples, "geocode", "ok") == 1
    assert calls(samples, "weather", "ok") == 1
    assert calls(samples, "forecast", "ok") == 1
    assert value(samples, "weather_reports_total", {"source": "upstream"}) == 1
    assert value(samples, "weather_vault_reads_total", {"outcome": "ok"}) == 1
    assert_counted_what_was_sent(samples, stubbed_services)


def test_a_cached_view_counts_a_cache_report_and_no_upstream_call(client, stubbed_services):
    client.get(API, {"q": "London"})
    client.get(API, {"q": "London"})
    client.get("/", {"q": "London"})
    samples = scrape(client)
    assert value(samples, "weather_reports_total", {"source": "cache"}) == 2
    # The first view's geocode, weather, forecast and air pollution; none since.
    assert total(samples, UPSTREAM_REQUESTS) == 4
    assert_counted_what_was_sent(samples, stubbed_services)


def test_an_upstream_error_is_counted_with_its_outcome_and_the_stale_answer_too(
    client, stubbed_services
):
    from weather.models import WeatherLookup

    client.get(API, {"q": "London"})
    WeatherLookup.objects.update(expires_at=WeatherLookup.objects.get().fetched_at)
    stubbed_services.get(WEATHER_URL, status_code=500, json={"cod": "500", "message": "x"})
    assert client.get(API, {"q": "London"}).json()["source"] == "stale"
    samples = scrape(client)
    assert calls(samples, "weather", "error") == 1
    assert value(samples, "weather_reports_total", {"source": "stale"}) == 1
    assert_counted_what_was_sent(samples, stubbed_services)


@pytest.mark.parametrize(
    ("stub", "outcome"),
    [
        ({"exc": requests.ReadTimeout}, "timeout"),
        ({"exc": requests.ConnectionError}, "error"),
        ({"status_code": 429, "json": {"cod": 429, "message": "blocked"}}, "rate_limited"),
        ({"status_code": 401, "json": {"cod": 401, "message": "Invalid API key"}}, "invalid_key"),
        ({"status_code": 200, "text": "<html>not json</html>"}, "error"),
    ],
)
def test_each_failure_is_counted_under_its_outcome(client, stubbed_services, stub, outcome):
    stubbed_services.get(GEOCODE, **stub)
    client.get(API, {"q": "London"})
    samples = scrape(client)
    # A 401 is tried once more with the key read again: two requests, both counted.
    expected = 2 if outcome == "invalid_key" else 1
    assert calls(samples, "geocode", outcome) == expected
    assert_counted_what_was_sent(samples, stubbed_services)


def test_a_spent_budget_is_counted_as_refused_and_nothing_is_sent(
    client, stubbed_services, settings
):
    settings.WEATHER_BUDGET_PER_MINUTE = 1  # the geocoding call spends it
    settings.WEATHER_BUDGET_RESERVED_FOR_REFRESH = 0
    assert client.get(API, {"q": "London"}).status_code == 429
    samples = scrape(client)
    assert calls(samples, "geocode", "ok") == 1
    assert calls(samples, "weather", "refused") == 1
    assert sent(stubbed_services, "weather") == 0
    assert value(samples, "weather_budget_remaining", {"window": "minute"}) == 0
    assert_counted_what_was_sent(samples, stubbed_services)


def test_a_client_past_its_share_is_counted_as_refused(client, stubbed_services, settings):
    settings.WEATHER_CLIENT_BUDGET_PER_MINUTE = 3
    client.get(API, {"q": "London"})
    assert client.get(API, {"lat": "10", "lon": "10"}).status_code == 429
    samples = scrape(client)
    assert calls(samples, "weather", "refused") == 1
    assert_counted_what_was_sent(samples, stubbed_services)


def test_vault_failures_are_counted_by_kind(client, stubbed_services):
    stubbed_services.get(
        f"{VAULT}/v1/secret/data/weather", status_code=503, json={"errors": ["Vault is sealed"]}
    )
    client.get(API, {"q": "London"})
    samples = scrape(client)
    assert value(samples, "weather_vault_reads_total", {"outcome": "sealed"}) == 1
    assert value(samples, "weather_vault_reads_total", {"outcome": "ok"}) == 0
    assert total(samples, UPSTREAM_REQUESTS) == 0


def test_the_vault_token_ttl_is_what_vault_reported(client, stubbed_services):
    stubbed_services.get(
        f"{VAULT}/v1/auth/token/lookup-self", json={"data": {"ttl": 3600, "renewable": True}}
    )
    assert "weather_vault_token_ttl_seconds" not in {n for n, _ in scrape(client)}
    client.get(API, {"q": "London"})
    samples = scrape(client)
    assert 3590 <= value(samples, "weather_vault_token_ttl_seconds") <= 3600
    expiry = value(samples, "weather_vault_token_expiry_timestamp_seconds")
    assert expiry > 1.7e9


def test_a_token_that_never_expires_has_an_infinite_ttl(client, stubbed_services):
    client.get(API, {"q": "London"})
    assert math.isinf(value(scrape(client), "weather_vault_token_ttl_seconds"))


def test_requests_are_counted_by_view_method_and_status(client, stubbed_services):
    client.get(API, {"q": "London"})
    client.get(API, {"q": "London"})
    client.post(API)
    client.get("/no-such-page")
    client.generic("BREW", "/")
    samples = scrape(client)
    counted = "weather_http_requests_total"
    api = {"view": "weather:api-weather"}
    assert value(samples, counted, {**api, "method": "GET", "status": "200"}) == 2
    assert value(samples, counted, {**api, "method": "POST", "status": "405"}) == 1
    assert value(samples, counted, {"view": "unmatched", "method": "GET", "status": "404"}) == 1
    # Whatever method a client invents, the label keeps to a few values.
    assert total(samples, counted, method="other") == 1
    assert (
        value(
            samples, "weather_http_request_duration_seconds_count", {"view": "weather:api-weather"}
        )
        == 3
    )


def test_clear_all_starts_the_counts_again_as_a_new_worker_would(client, stubbed_services):
    client.get(API, {"q": "London"})
    clear_all()
    assert total(scrape(client), UPSTREAM_REQUESTS) == 0
